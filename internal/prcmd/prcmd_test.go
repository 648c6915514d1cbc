package prcmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelsync/modelsync/internal/gitops/githubtest"
)

const branch = "auto-update"

func pushArgs(work, fork string) []string {
	return []string{"push", "--dir", work, "--fork", fork, "--branch", branch, "--run", "label-bot-prod/modelsync-sample-3"}
}

func prArgs(work string) []string {
	return []string{"pull-request", "--dir", work, "--repo", "kubeflow/code-intelligence", "--head-owner", "bot",
		"--branch", branch, "--run", "label-bot-prod/modelsync-sample-3"}
}

// TestLifecycle runs the pipeline's git and GitHub steps the way successive syncs do: the same
// model twice, then a newer one, then the model the base already has.
func TestLifecycle(t *testing.T) {
	r := newRepos(t)
	gh := githubtest.New(t, token, "kubeflow/code-intelligence", "master")
	base := git(t, r.origin, "rev-parse", "master")
	steps := []struct {
		name, model       string
		wantPush          string // first word of push's output
		wantPR            string // first word of pull-request's output
		wantTipChange     bool
		wantWrites        int // POST + PATCH requests made by this step
		wantTitleContains string
	}{
		{name: "first model opens the pull request", model: "projects/p/models/m1", wantPush: "pushed", wantPR: "created",
			wantTipChange: true, wantWrites: 1, wantTitleContains: "m1"},
		{name: "same model pushes nothing and keeps the pull request", model: "projects/p/models/m1", wantPush: "up",
			wantPR: "unchanged", wantWrites: 0, wantTitleContains: "m1"},
		{name: "newer model rebuilds the branch and updates the pull request", model: "projects/p/models/m2", wantPush: "pushed",
			wantPR: "updated", wantTipChange: true, wantWrites: 1, wantTitleContains: "m2"},
		{name: "model of the base proposes nothing", model: baseModel, wantPush: "no", wantPR: "no", wantWrites: 0,
			wantTitleContains: "m2"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			work := r.checkout(t, s.model)
			tipBefore := r.forkTip(t, branch)
			writesBefore := gh.Writes()
			results := t.TempDir()
			push := run(t, gh, tokenEnv(), append(pushArgs(work, r.fork), "--result-status", filepath.Join(results, "status"),
				"--result-commit", filepath.Join(results, "commit"))...)
			if push.code != 0 || !strings.HasPrefix(push.stdout, s.wantPush) {
				t.Fatalf("push: exit %d, want output starting %q\nstdout: %s\nstderr: %s", push.code, s.wantPush, push.stdout, push.stderr)
			}
			tip := r.forkTip(t, branch)
			if changed := tip != tipBefore; changed != s.wantTipChange {
				t.Errorf("fork branch moved = %v, want %v (%s → %s)", changed, s.wantTipChange, tipBefore, tip)
			}
			if tip != "" {
				// The branch is always one commit on the current base, changing one line.
				if parent := git(t, r.fork, "rev-parse", tip+"^"); parent != base {
					t.Errorf("branch parent = %s, want the base %s", parent, base)
				}
				diff := git(t, r.fork, "diff", "--unified=0", base, tip)
				if n := strings.Count(diff, "\n+ ") + strings.Count(diff, "\n- "); n != 2 || !strings.Contains(diff, "-  automl-model: "+baseModel) {
					t.Errorf("branch diff is not the single model line:\n%s", diff)
				}
			}
			wantCommit := tip
			if s.wantPush == "no" {
				wantCommit = ""
			}
			if got := readFile(t, filepath.Join(results, "commit")); got != wantCommit {
				t.Errorf("commit result = %q, want %q", got, wantCommit)
			}
			pr := run(t, gh, tokenEnv(), prArgs(work)...)
			if pr.code != 0 || !strings.HasPrefix(pr.stdout, s.wantPR) {
				t.Fatalf("pull-request: exit %d, want output starting %q\nstdout: %s\nstderr: %s", pr.code, s.wantPR, pr.stdout, pr.stderr)
			}
			if got := gh.Writes() - writesBefore; got != s.wantWrites {
				t.Errorf("GitHub writes = %d, want %d", got, s.wantWrites)
			}
			pulls := gh.Pulls()
			if len(pulls) != 1 {
				t.Fatalf("pull requests = %d, want exactly 1: %+v", len(pulls), pulls)
			}
			p := pulls[0]
			if p.Head != "bot:"+branch || p.Base != "master" || !strings.Contains(p.Title, s.wantTitleContains) {
				t.Errorf("pull request = %+v", p)
			}
			if !strings.Contains(p.Body, "label-bot-prod/modelsync-sample-3") || !strings.Contains(p.Body, configMap) {
				t.Errorf("pull request body lacks lineage or files:\n%s", p.Body)
			}
			for _, out := range []string{push.stdout, push.stderr, pr.stdout, pr.stderr} {
				if strings.Contains(out, token) {
					t.Errorf("output shows the token: %s", out)
				}
			}
		})
	}
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
