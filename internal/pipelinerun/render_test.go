package pipelinerun_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tektonv1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	"k8s.io/apimachinery/pkg/util/yaml"
	sigsyaml "sigs.k8s.io/yaml"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
	"github.com/modelsync/modelsync/internal/golden"
	"github.com/modelsync/modelsync/internal/pipelinerun"
)

// loadAll decodes every ModelSync document of a testdata/input file.
func loadAll(t *testing.T, name string) []*automlv1alpha1.ModelSync {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "input", name))
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*automlv1alpha1.ModelSync
	for {
		ms := &automlv1alpha1.ModelSync{}
		if err := dec.Decode(ms); err != nil {
			if err.Error() == "EOF" {
				return out
			}
			t.Fatalf("decode %s: %v", name, err)
		}
		out = append(out, ms)
	}
}

func load(t *testing.T, name string) *automlv1alpha1.ModelSync {
	t.Helper()
	all := loadAll(t, name)
	if len(all) != 1 {
		t.Fatalf("%s: want one ModelSync, got %d", name, len(all))
	}
	return all[0]
}

// show renders the result the way the golden files hold it: warnings as comments, then the YAML.
func show(t *testing.T, res *pipelinerun.Result) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, w := range res.Warnings {
		b.WriteString("# warning: " + w + "\n")
	}
	out, err := sigsyaml.Marshal(res.PipelineRun.Object)
	if err != nil {
		t.Fatal(err)
	}
	b.Write(out)
	return b.Bytes()
}

// assertValidV1 checks that the object is a tekton.dev/v1 PipelineRun that Tekton's own types
// decode without unknown fields and that Tekton's validation accepts.
func assertValidV1(t *testing.T, res *pipelinerun.Result) {
	t.Helper()
	raw, err := json.Marshal(res.PipelineRun.Object)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var pr tektonv1.PipelineRun
	if err := dec.Decode(&pr); err != nil {
		t.Fatalf("rendered run is not a tekton.dev/v1 PipelineRun: %v", err)
	}
	if ferr := pr.Validate(context.Background()); ferr != nil {
		t.Fatalf("Tekton rejects the rendered run: %v", ferr)
	}
}

func TestRender(t *testing.T) {
	cases := []struct {
		name  string
		input string
		in    pipelinerun.Input
	}{
		{"legacy-fixture", "legacy-fixture.yaml", pipelinerun.Input{Number: 1,
			Parameters: map[string]string{"name": "projects/976279526634/locations/us-central1/models/TCN5004391989450375168"}}},
		{"v1-workspaces", "v1-workspaces.yaml", pipelinerun.Input{Number: 12, Parameters: map[string]string{"runId": "r-20261128"}}},
		{"mapping-override", "mapping-override.yaml", pipelinerun.Input{Number: 3,
			Parameters: map[string]string{"name": "model-42", "report": "file:///reports/42.html"}}},
		{"mapping-partial", "mapping-override.yaml", pipelinerun.Input{Number: 4, Parameters: map[string]string{"report": "r"}}},
		{"labels-annotations", "labels-annotations.yaml", pipelinerun.Input{Number: 2,
			Parameters: map[string]string{"name": "m"}, Trigger: automlv1alpha1.TriggerManual, RequestedAt: "2026-11-28T10:00:00Z"}},
		{"legacy-all", "legacy-all.yaml", pipelinerun.Input{Number: 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ms := load(t, tc.input)
			before, _ := json.Marshal(ms)
			res, err := pipelinerun.Render(ms, tc.in)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			assertValidV1(t, res)
			golden.Assert(t, show(t, res))

			after, _ := json.Marshal(ms)
			if !bytes.Equal(before, after) {
				t.Error("Render modified the ModelSync")
			}
			again, err := pipelinerun.Render(ms, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(show(t, res), show(t, again)) {
				t.Error("two renders of the same input differ")
			}
		})
	}
}

func TestRenderErrors(t *testing.T) {
	mapped := load(t, "mapping-override.yaml")
	cases := map[string]struct {
		ms      *automlv1alpha1.ModelSync
		in      pipelinerun.Input
		field   string
		message string
	}{
		"unmapped-key": {mapped, pipelinerun.Input{Number: 1, Parameters: map[string]string{"name": "m", "zeta": "1", "alpha": "2"}},
			"spec.parameters", `no mapping for lambda parameter(s) "alpha", "zeta"`},
		"number-zero":     {mapped, pipelinerun.Input{}, "number", "at least 1"},
		"unknown-trigger": {mapped, pipelinerun.Input{Number: 1, Trigger: "cron"}, "trigger", `unknown trigger "cron"`},
	}
	for _, ms := range loadAll(t, "errors.yaml") {
		cases[ms.Name] = struct {
			ms      *automlv1alpha1.ModelSync
			in      pipelinerun.Input
			field   string
			message string
		}{ms: ms, in: pipelinerun.Input{Number: 1}}
	}
	want := map[string][2]string{
		"resource-ref":         {"spec.pipelineRunTemplate.spec.resources[0].resourceRef", "cannot be converted"},
		"resource-not-git":     {"spec.pipelineRunTemplate.spec.resources[0].resourceSpec.type", `only resources of type git`},
		"sa-conflict":          {"spec.pipelineRunTemplate.spec.serviceAccountName", "cannot be combined with spec.pipelineRunTemplate.spec.taskRunTemplate.serviceAccountName"},
		"no-pipeline":          {"spec.pipelineRunTemplate.spec", "must set pipelineRef or pipelineSpec"},
		"params-not-list":      {"spec.pipelineRunTemplate.spec.params", "must be a list"},
		"resource-param-clash": {"spec.pipelineRunTemplate.spec.resources[0]", `would become param "repo-url"`},
	}
	if len(want)+3 != len(cases) {
		t.Fatalf("errors.yaml has %d cases, the test expects %d", len(cases)-3, len(want))
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			field, message := tc.field, tc.message
			if w, ok := want[name]; ok {
				field, message = w[0], w[1]
			}
			res, err := pipelinerun.Render(tc.ms, tc.in)
			if err == nil {
				t.Fatalf("Render succeeded, want an error; got %v", res.PipelineRun)
			}
			var rerr *pipelinerun.Error
			if !errors.As(err, &rerr) {
				t.Fatalf("error %v is not a *pipelinerun.Error", err)
			}
			if rerr.Field != field || !strings.Contains(rerr.Message, message) {
				t.Errorf("got %q (field %q), want field %q and a message containing %q", err, rerr.Field, field, message)
			}
		})
	}
}

func TestNumberOf(t *testing.T) {
	cases := []struct {
		run  string
		n    int64
		isOf bool
	}{
		{"ms-1", 1, true}, {"ms-42", 42, true}, {"ms-0", 0, false}, {"ms-01", 0, false},
		{"ms-", 0, false}, {"ms-x", 0, false}, {"ms-1-2", 0, false}, {"other-1", 0, false}, {"ms-a-1", 0, false},
	}
	for _, tc := range cases {
		n, ok := pipelinerun.NumberOf("ms", tc.run)
		if n != tc.n || ok != tc.isOf {
			t.Errorf("NumberOf(ms, %q) = %d, %v; want %d, %v", tc.run, n, ok, tc.n, tc.isOf)
		}
		if ok && pipelinerun.Name("ms", n) != tc.run {
			t.Errorf("Name(ms, %d) = %q, want %q", n, pipelinerun.Name("ms", n), tc.run)
		}
	}
}

func TestNextNumber(t *testing.T) {
	ms := &automlv1alpha1.ModelSync{}
	ms.Name = "ms"
	if got := pipelinerun.NextNumber(ms, nil); got != 1 {
		t.Errorf("first run: got %d, want 1", got)
	}
	if got := pipelinerun.NextNumber(ms, []string{"ms-3", "ms-10", "other-99", "ms-x"}); got != 11 {
		t.Errorf("from run names: got %d, want 11", got)
	}
	ms.Status.LastRun = &automlv1alpha1.RunStatus{Name: "ms-20", Number: 20}
	if got := pipelinerun.NextNumber(ms, []string{"ms-3"}); got != 21 {
		t.Errorf("from status (runs garbage-collected): got %d, want 21", got)
	}
}
