package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/modelsync/modelsync/internal/golden"
	"github.com/modelsync/modelsync/internal/registry"
)

// run executes the command with args and returns stdout, or the error text.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := NewCommand(&out, &errOut)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// published hides the publish time, the only field that changes from run to run.
var published = regexp.MustCompile(`"published": "[^"]*"`)

func TestCLI(t *testing.T) {
	base := t.TempDir()
	reg := filepath.Join(base, "registry")
	writeFiles(t, base, map[string]string{
		"m1/model.bin":            "weights",
		"m1/labels/all.txt":       "area-docs\narea-sdk\n",
		"m1/model.json":           `{"id": "from-manifest", "displayName": "Label bot", "lineage": {"notebook": "gs://b/nb.ipynb"}}`,
		"m2/model.bin":            "weights 2",
		"metrics.json":            `{"micro": {"precision": 0.72, "recall": 0.5, "f1": 0.59}, "labels": [{"label": "area-docs", "precision": 0.8, "recall": 0.7, "support": 40, "threshold": 0.52}]}`,
		"bad-metrics.json":        `{"micro": {"precison": 0.7}}`,
		"bad-manifest/model.json": `{"id": 5}`,
	})
	steps := []struct {
		name string
		args []string
		// wantErr is a substring of the expected error; otherwise stdout is compared with
		// the golden file of the step.
		wantErr string
	}{
		{name: "publish-with-manifest", args: []string{"publish", filepath.Join(base, "m1"), "--id", "m1",
			"--created", "2026-11-01T10:00:00Z", "--metrics", filepath.Join(base, "metrics.json"),
			"--pipeline-run", "ci/train-model-7", "--code-revision", "0123abc"}},
		{name: "publish-second", args: []string{"publish", filepath.Join(base, "m2"), "--id", "m2", "--created", "2026-11-02T10:00:00Z"}},
		{name: "list", args: []string{"list"}},
		{name: "list-json", args: []string{"list", "-o", "json"}},
		{name: "show", args: []string{"show", "m1"}},
		{name: "show-newest", args: []string{"show", "--newest"}},
		{name: "reindex", args: []string{"reindex"}},
		{name: "publish-existing", args: []string{"publish", filepath.Join(base, "m2"), "--id", "m2"}, wantErr: "already exists"},
		{name: "publish-no-id", args: []string{"publish", filepath.Join(base, "m2")}, wantErr: "--id is required"},
		{name: "publish-bad-created", args: []string{"publish", filepath.Join(base, "m2"), "--id", "x", "--created", "yesterday"}, wantErr: "--created"},
		{name: "publish-bad-metrics", args: []string{"publish", filepath.Join(base, "m2"), "--id", "x", "--metrics", filepath.Join(base, "bad-metrics.json")}, wantErr: `unknown field "precison"`},
		{name: "publish-bad-manifest", args: []string{"publish", filepath.Join(base, "bad-manifest")}, wantErr: "bad-manifest/model.json"},
		{name: "publish-missing-dir", args: []string{"publish", filepath.Join(base, "nope"), "--id", "x"}, wantErr: "failed to read model folder"},
		{name: "show-missing", args: []string{"show", "nope"}, wantErr: "not found"},
		{name: "show-args", args: []string{"show", "m1", "--newest"}, wantErr: "exactly one"},
		{name: "list-bad-output", args: []string{"list", "-o", "yaml"}, wantErr: "--output"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			out, err := run(t, append(st.args, "--registry", reg)...)
			if st.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), st.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, st.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			out = strings.ReplaceAll(out, reg, "REGISTRY")
			golden.Assert(t, []byte(published.ReplaceAllString(out, `"published": "PUBLISHED"`)))
		})
	}
	// Nothing of the failed publishes is visible.
	r, err := registry.Open(context.Background(), reg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Close() }()
	models, err := r.List(context.Background())
	if err != nil || len(models) != 2 {
		t.Errorf("List = %d models, %v; want 2", len(models), err)
	}
}

func TestFinishTraining(t *testing.T) {
	reg := t.TempDir()
	r, err := registry.Open(context.Background(), reg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Close() }()
	now := time.Now()
	if err := r.StartTraining(context.Background(), registry.Training{Key: "/needsTrain", RunID: "train-1", Started: now, Deadline: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	model := t.TempDir()
	writeFiles(t, model, map[string]string{"model.bin": "w"})
	if _, err := run(t, "publish", model, "--id", "m1", "--registry", reg, "--finish-training", "/needsTrain", "--run-id", "train-2"); err == nil || !strings.Contains(err.Error(), "belongs to run") {
		t.Fatalf("publish finishing another run: %v", err)
	}
	if _, err := run(t, "finish-training", "/needsTrain", "--run-id", "train-1", "--registry", reg); err != nil {
		t.Fatal(err)
	}
	if tr, err := r.GetTraining(context.Background(), "/needsTrain"); err != nil || tr != nil {
		t.Errorf("marker after finish-training = %+v, %v", tr, err)
	}
}

func TestNoRegistry(t *testing.T) {
	t.Setenv(RegistryEnv, "")
	if _, err := run(t, "list"); err == nil || !strings.Contains(err.Error(), "--registry is required") {
		t.Errorf("error = %v", err)
	}
}
