package prcmd

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelsync/modelsync/internal/golden"
	"github.com/modelsync/modelsync/internal/registry"
)

// TestDryRun prints the commit and the pull request that would be made, with the lineage of a
// registry manifest, without credentials and without contacting GitHub or pushing.
func TestDryRun(t *testing.T) {
	r := newRepos(t)
	work := r.checkout(t, "projects/p/models/m1")
	manifest := filepath.Join(t.TempDir(), "model.json")
	m := registry.Model{
		ID: "projects/p/models/m1", Created: time.Date(2026, 11, 27, 8, 30, 0, 0, time.UTC),
		Metrics: registry.Metrics{Micro: &registry.Averages{Precision: 0.91, Recall: 0.72, F1: 0.804}},
		Lineage: registry.Lineage{PipelineRun: "label-bot-prod/trainer-12", CodeRevision: "3f2a9c1",
			DataSnapshot: "gs://issues/2026-11-27", Report: "https://reports.example.com/m1.html"},
	}
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, manifest, string(data))
	cases := []struct {
		name string
		args []string
	}{
		{"push", append(pushArgs(work, r.fork), "--dry-run", "--manifest", manifest)},
		{"pull-request", append(prArgs(work), "--dry-run", "--manifest", manifest, "--base", "master")},
		{"pull-request-from-urls", []string{"pull-request", "--dry-run", "--dir", work, "--branch", branch,
			"--repo-url", "https://github.com/kubeflow/code-intelligence.git", "--fork", "git@github.com:bot/code-intelligence.git"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := run(t, nil, map[string]string{}, c.args...)
			if res.code != 0 {
				t.Fatalf("exit %d: %s", res.code, res.stderr)
			}
			golden.Assert(t, []byte(strings.ReplaceAll(res.stdout, r.fork, "FORK")))
		})
	}
	if tip := r.forkTip(t, branch); tip != "" {
		t.Errorf("a dry run pushed %s", tip)
	}
}
