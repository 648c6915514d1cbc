package gitops

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// newRepos makes a work tree (one commit, a ConfigMap naming model "old", then edited to name
// "new") and a bare fork of it; sh runs git.
func newRepos(tb testing.TB) (work, fork string, sh func(dir string, args ...string) string) {
	dir := tb.TempDir()
	sh = func(dir string, args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_AUTHOR_NAME=b", "GIT_AUTHOR_EMAIL=b@example.com",
			"GIT_COMMITTER_NAME=b", "GIT_COMMITTER_EMAIL=b@example.com")
		out, err := cmd.CombinedOutput()
		if err != nil {
			tb.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	work, fork = filepath.Join(dir, "work"), filepath.Join(dir, "fork.git")
	sh(dir, "init", "--quiet", "--initial-branch=master", work)
	cm := filepath.Join(work, "configmap.yaml")
	if err := os.WriteFile(cm, []byte("data:\n  automl-model: old\n"), 0o644); err != nil {
		tb.Fatal(err)
	}
	sh(work, "add", ".")
	sh(work, "commit", "--quiet", "-m", "base")
	sh(dir, "clone", "--quiet", "--bare", work, fork)
	if err := os.WriteFile(cm, []byte("data:\n  automl-model: new\n"), 0o644); err != nil {
		tb.Fatal(err)
	}
	return work, fork, sh
}

// BenchmarkPush measures a rerun of the push step with an unchanged model (the steady state
// of a deployer whose pull request is not merged yet) against the baseline of the original
// pipeline, which committed and force-pushed a new commit on every run.
func BenchmarkPush(b *testing.B) {
	ctx := context.Background()
	work, fork, sh := newRepos(b)
	g := &Git{Dir: work, Env: []string{"GIT_CONFIG_GLOBAL=/dev/null"}}
	opts := PushOptions{Git: g, Remote: fork, Branch: "auto-update",
		Message: func(c Change) (string, error) { return "Update " + c.NewModel, nil }}
	if res, err := Push(ctx, opts); err != nil || res.Status != Pushed {
		b.Fatalf("first push: %v %v", res, err)
	}
	b.Run("rerun-unchanged", func(b *testing.B) {
		for b.Loop() {
			res, err := Push(ctx, opts)
			if err != nil || res.Status != UpToDate {
				b.Fatalf("%v %v", res, err)
			}
		}
	})
	b.Run("baseline-commit-and-force-push", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			sh(work, "add", "--all")
			tree := sh(work, "write-tree")
			commit := sh(work, "commit-tree", tree[:len(tree)-1], "-p", "HEAD", "-m", "Update new "+strconv.Itoa(i))
			sh(work, "push", "--quiet", "--force", fork, commit[:len(commit)-1]+":refs/heads/baseline")
		}
	})
}
