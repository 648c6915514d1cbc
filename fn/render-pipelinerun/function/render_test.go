package function_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/kptdev/krm-functions-sdk/go/fn"
	"sigs.k8s.io/yaml"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
	"github.com/modelsync/modelsync/fn/render-pipelinerun/function"
	"github.com/modelsync/modelsync/internal/golden"
	"github.com/modelsync/modelsync/internal/pipelinerun"
)

const fixture = "../examples/fixture/modelsync.yaml"

func process(t testing.TB, rl *fn.ResourceList) bool {
	t.Helper()
	ok, err := function.Processor{Context: context.Background()}.Process(rl)
	if err != nil {
		t.Fatalf("Process: %v", err)
	}
	return ok
}

func load(t *testing.T, files ...string) fn.KubeObjects {
	t.Helper()
	var objs fn.KubeObjects
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := fn.ParseKubeObjects(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range parsed {
			if err := o.SetPathAnnotation("ms/" + file[strings.LastIndex(file, "/")+1:]); err != nil {
				t.Fatal(err)
			}
			objs = append(objs, o)
		}
	}
	return objs
}

func configMap(t *testing.T, data map[string]string) *fn.KubeObject {
	t.Helper()
	o := fn.NewEmptyKubeObject()
	for _, err := range []error{o.SetAPIVersion("v1"), o.SetKind("ConfigMap"), o.SetName("render"), o.SetNestedStringMap(data, "data")} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return o
}

// TestSameAsController checks that the added run is exactly what internal/pipelinerun renders for
// the controller, once the annotations kpt uses to place it in a file are removed.
func TestSameAsController(t *testing.T) {
	rl := &fn.ResourceList{Items: load(t, fixture), FunctionConfig: configMap(t, map[string]string{"name": "m-2", "number": "3"})}
	if !process(t, rl) {
		t.Fatalf("the function failed: %v", rl.Results)
	}
	if len(rl.Items) != 2 {
		t.Fatalf("got %d items, want the ModelSync and the run", len(rl.Items))
	}
	run := rl.Items[1]
	if got, want := run.PathAnnotation(), "ms/pipelinerun-modelsync-sample-3.yaml"; got != want {
		t.Errorf("path annotation = %q, want %q", got, want)
	}
	for _, k := range []string{"internal.config.kubernetes.io/path", "internal.config.kubernetes.io/index"} {
		if err := run.RemoveAnnotation(k); err != nil {
			t.Fatal(err)
		}
	}

	data, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	var ms automlv1alpha1.ModelSync
	if err := yaml.Unmarshal(data, &ms); err != nil {
		t.Fatal(err)
	}
	want, err := pipelinerun.Render(&ms, pipelinerun.Input{Number: 3, Parameters: map[string]string{"name": "m-2"}})
	if err != nil {
		t.Fatal(err)
	}
	wantYAML, err := yaml.Marshal(want.PipelineRun.Object)
	if err != nil {
		t.Fatal(err)
	}
	if got := run.String(); got != string(wantYAML) {
		t.Errorf("the function's run differs from the controller's:\n%s\nwant:\n%s", got, wantYAML)
	}
	var warnings []string
	for _, r := range rl.Results {
		if r.Severity == fn.Warning {
			warnings = append(warnings, r.Message)
		}
	}
	if strings.Join(warnings, "\n") != strings.Join(want.Warnings, "\n") || len(warnings) == 0 {
		t.Errorf("warning results %q, want the renderer's warnings %q", warnings, want.Warnings)
	}
}

func TestRun(t *testing.T) {
	tests := []struct {
		name   string
		files  []string
		config map[string]string
		typed  string
		ok     bool
	}{
		{name: "next number after status", files: []string{"../examples/kptfile-pipeline/modelsync.yaml"},
			config: map[string]string{"name": "m-2"}, ok: true},
		{name: "rerender the run in the package", files: []string{fixture, "../examples/replace-run/pipelinerun-modelsync-sample-1.yaml"},
			config: map[string]string{"name": "m-2", "trigger": "manual"}, ok: true},
		{name: "typed config", files: []string{"../examples/typed-config/modelsyncs.yaml"}, ok: true,
			typed: "apiVersion: fn.kpt.dev/v1alpha1\nkind: RenderPipelineRun\nmetadata:\n  name: r\nmodelSync: deployer\nparameters:\n  name: m-2\n"},
		{name: "several ModelSyncs and none named", files: []string{"../examples/typed-config/modelsyncs.yaml"},
			config: map[string]string{"name": "m-2"}},
		{name: "no ModelSync", config: map[string]string{"name": "m-2"}},
		{name: "bad number", files: []string{fixture}, config: map[string]string{"number": "0"}},
		{name: "bad trigger", files: []string{fixture}, config: map[string]string{"trigger": "cron"}},
		{name: "unknown typed field", files: []string{fixture},
			typed: "apiVersion: fn.kpt.dev/v1alpha1\nkind: RenderPipelineRun\nmetadata:\n  name: r\nparams:\n  name: m-2\n"},
		{name: "negative typed number", files: []string{fixture},
			typed: "apiVersion: fn.kpt.dev/v1alpha1\nkind: RenderPipelineRun\nmetadata:\n  name: r\nnumber: -1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			config := configMap(t, tt.config)
			if tt.typed != "" {
				var err error
				if config, err = fn.ParseKubeObject([]byte(tt.typed)); err != nil {
					t.Fatal(err)
				}
			}
			rl := &fn.ResourceList{Items: load(t, tt.files...), FunctionConfig: config}
			before := rl.Items.String()
			if ok := process(t, rl); ok != tt.ok {
				t.Fatalf("ok = %v, want %v: %v", ok, tt.ok, rl.Results)
			}
			if !tt.ok && rl.Items.String() != before {
				t.Errorf("items changed on error:\n%s", rl.Items.String())
			}
			out, err := rl.ToYAML()
			if err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, out)
		})
	}
}
