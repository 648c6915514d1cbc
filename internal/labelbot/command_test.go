package labelbot

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelsync/modelsync/internal/registry"
)

func run(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Main(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// generate → train through the command line: bad lines are reported with their numbers, and
// the model folder is complete, loadable and described by model.json.
func TestCommandGenerateTrain(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "issues.jsonl")
	if code, _, stderr := run("generate", "--n", "3000", "--seed", "4", "-o", data); code != 0 {
		t.Fatalf("generate failed: %s", stderr)
	}
	f, err := os.OpenFile(data, os.O_APPEND|os.O_WRONLY, 0)
	must(t, err)
	_, err = f.WriteString("not json\n{\"title\":\"no date\"}\n")
	must(t, errorsJoin(err, f.Close()))

	out := filepath.Join(dir, "model")
	code, stdout, stderr := run("train", "--data", data, "--out", out, "--id", "labelbot-test", "--seed", "3",
		"--created", "2026-03-04T05:06:07Z", "--pipeline-run", "ns/train-7", "--code-revision", "abc123")
	if code != 0 {
		t.Fatalf("train failed: %s", stderr)
	}
	for _, want := range []string{"line 3001: invalid JSON", "line 3002: field created_at is missing"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	for _, want := range []string{"model labelbot-test: 2100 training, 450 validation, 450 test issues; 2 bad lines skipped", "macro", "skipped (too few examples): [translation]"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	raw, err := os.ReadFile(filepath.Join(out, registry.ManifestName))
	must(t, err)
	var m registry.Model
	must(t, json.Unmarshal(raw, &m))
	if m.ID != "labelbot-test" || m.Created.Format("2006-01-02T15:04:05Z07:00") != "2026-03-04T05:06:07Z" ||
		m.Lineage.PipelineRun != "ns/train-7" || m.Lineage.CodeRevision != "abc123" ||
		!strings.HasPrefix(m.Lineage.DataSnapshot, "sha256:") || m.Lineage.Report != ReportFile ||
		strings.Join(m.Files, ",") != ClassifierFile+","+MetricsFile+","+ReportFile {
		t.Errorf("model.json = %s", raw)
	}
	if m.Metrics.Macro == nil || m.Metrics.Micro == nil || len(m.Metrics.Labels) != len(DemoLabels())-1 || m.Metrics.Extra["trainingSeconds"] <= 0 {
		t.Errorf("model.json metrics incomplete: %s", raw)
	}
	report, err := os.ReadFile(filepath.Join(out, ReportFile))
	must(t, err)
	for _, want := range []string{"<svg", "<td>bug</td>", "translation", "labelbot-test"} {
		if !bytes.Contains(report, []byte(want)) {
			t.Errorf("report lacks %q", want)
		}
	}
	var alone registry.Metrics
	rawMetrics, err := os.ReadFile(filepath.Join(out, MetricsFile))
	must(t, err)
	must(t, json.Unmarshal(rawMetrics, &alone))
	if alone.Macro == nil || *alone.Macro != *m.Metrics.Macro || len(alone.Labels) != len(m.Metrics.Labels) {
		t.Errorf("%s differs from the manifest's metrics: %s", MetricsFile, rawMetrics)
	}
	if _, err := LoadModelDir(out, "labelbot-test"); err != nil {
		t.Fatal(err)
	}
	// The same data and seed give the same classifier file.
	again := filepath.Join(dir, "again")
	if code, _, stderr := run("train", "--data", data, "--out", again, "--seed", "3"); code != 0 {
		t.Fatalf("second train failed: %s", stderr)
	}
	a, _ := os.ReadFile(filepath.Join(out, ClassifierFile))
	b, _ := os.ReadFile(filepath.Join(again, ClassifierFile))
	if !bytes.Equal(a, b) {
		t.Error("training twice with the same seed wrote different classifier files")
	}
	// A finished model folder is never overwritten.
	if code, _, stderr := run("train", "--data", data, "--out", out); code == 0 || !strings.Contains(stderr, "model.json already exists") {
		t.Errorf("retraining into a finished folder: code %d, %s", code, stderr)
	}
}

func errorsJoin(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func TestCommandErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.jsonl")
	must(t, os.WriteFile(empty, nil, 0o644))
	bad := filepath.Join(dir, "bad.jsonl")
	must(t, os.WriteFile(bad, []byte("{\n\n[]\n"), 0o644))
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"empty-data", []string{"train", "--data", empty, "--out", filepath.Join(dir, "m1")}, "has no usable issues (0 bad lines skipped)"},
		{"only-bad-lines", []string{"train", "--data", bad, "--out", filepath.Join(dir, "m2")}, "has no usable issues (2 bad lines skipped)"},
		{"missing-data", []string{"train", "--data", filepath.Join(dir, "nope.jsonl"), "--out", dir}, "failed to read data file"},
		{"train-flags-required", []string{"train"}, `required flag(s) "data", "out" not set`},
		{"bad-created", []string{"train", "--data", empty, "--out", dir, "--created", "today"}, `invalid argument "today" for "--created" flag: "today" is not an RFC 3339 time`},
		{"export-repo-required", []string{"export"}, `required flag(s) "repo" not set`},
		{"export-bad-since", []string{"export", "--repo", "a/b", "--since", "May"}, `invalid argument "May" for "--since" flag: "May" is not an RFC 3339 time`},
		{"serve-no-source", []string{"serve"}, "give exactly one of --model-dir and --registry"},
		{"serve-registry-needs-id-file", []string{"serve", "--registry", "file://" + dir}, "flag --model-id-file is required with --registry"},
		{"serve-missing-model", []string{"serve", "--model-dir", dir}, "failed to read model.json"},
		{"generate-bad-count", []string{"generate", "--n", "0"}, "count must be positive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := run(tc.args...)
			if code == 0 || !strings.Contains(stderr, tc.wantErr) {
				t.Errorf("code %d, stderr %q; want failure with %q", code, stderr, tc.wantErr)
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("failed commands left files behind: %v", entries)
	}
}
