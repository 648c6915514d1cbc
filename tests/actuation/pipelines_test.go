package actuation

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
	"github.com/modelsync/modelsync/internal/lambda"
	"github.com/modelsync/modelsync/internal/pipelinerun"
	"github.com/modelsync/modelsync/internal/testenv"
)

// TestModelSyncsRunShippedPipelines creates the pipelines on the API server, renders the
// seed-era fixture and the sample ModelSyncs with internal/pipelinerun.Render, and checks that
// every param a run passes is declared by its Pipeline, that every param without a default is
// passed, that the Pipeline passes its Task only declared params, and that the API server
// accepts the run.
func TestModelSyncsRunShippedPipelines(t *testing.T) {
	const ns = "label-bot-prod"
	ensureNamespace(t, ns)
	apply := exec.Command("kubectl", "--kubeconfig", env.Kubeconfig, "apply", "-f", filepath.Join(packagesDir(t), "pipelines"))
	if out, err := apply.CombinedOutput(); err != nil {
		t.Fatalf("kubectl apply: %v\n%s", err, out)
	}
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, file, pipeline string
		params               map[string]string
		wantWarnings         bool
	}{
		{name: "seed fixture", file: "testdata/fixtures/modelsync-sample.yaml", pipeline: "update-model-pr",
			params: map[string]string{"name": "projects/p/models/m1"}, wantWarnings: true},
		{name: "sample deployer", file: "kpt-packages/samples/deployer.yaml", pipeline: "update-model-pr",
			params: map[string]string{"name": "projects/p/models/m1"}},
		{name: "sample trainer", file: "kpt-packages/samples/trainer.yaml", pipeline: "train-model",
			// The trainer lambda's own parameter names: the sample must map every one of them.
			params: map[string]string{lambda.ParamRunID: "train-20261128-101500", lambda.ParamDataCutoff: "2026-11-28T10:15:00Z"}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(root, c.file))
			if err != nil {
				t.Fatal(err)
			}
			var ms automlv1alpha1.ModelSync
			if err := yaml.UnmarshalStrict(data, &ms); err != nil {
				t.Fatalf("failed to read %s: %v", c.file, err)
			}
			res, err := pipelinerun.Render(&ms, pipelinerun.Input{Number: int64(100 + i), Parameters: c.params})
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if (len(res.Warnings) > 0) != c.wantWarnings {
				t.Errorf("warnings = %q, want some: %v", res.Warnings, c.wantWarnings)
			}
			run := res.PipelineRun
			ref, _, _ := unstructured.NestedString(run.Object, "spec", "pipelineRef", "name")
			if ref != c.pipeline {
				t.Fatalf("pipelineRef = %q, want %q", ref, c.pipeline)
			}
			pipeline := get(t, "Pipeline", ns, ref)
			runParams := paramValues(t, run.Object, "spec", "params")
			checkParams(t, "PipelineRun "+run.GetName(), runParams, declared(t, pipeline.Object), "Pipeline "+ref)
			for _, task := range list(t, pipeline.Object, "spec", "tasks") {
				taskRef, _, _ := unstructured.NestedString(task, "taskRef", "name")
				taskObj := get(t, "Task", ns, taskRef)
				checkParams(t, "Pipeline "+ref+" task "+fmt.Sprint(task["name"]), paramValues(t, task, "params"), declared(t, taskObj.Object), "Task "+taskRef)
			}
			run.SetNamespace(ns)
			if err := env.Client.Create(context.Background(), run); err != nil {
				t.Fatalf("the API server refused the rendered run: %v", err)
			}
		})
	}
}

// param is a declared param: whether it has a default.
type param struct{ hasDefault bool }

func declared(t testing.TB, obj map[string]any) map[string]param {
	t.Helper()
	out := map[string]param{}
	for _, p := range list(t, obj, "spec", "params") {
		_, has := p["default"]
		out[p["name"].(string)] = param{hasDefault: has}
	}
	return out
}

func paramValues(t testing.TB, obj map[string]any, fields ...string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, p := range list(t, obj, fields...) {
		out[p["name"].(string)] = true
	}
	return out
}

// checkParams: everything passed is declared, everything required is passed.
func checkParams(t testing.TB, who string, passed map[string]bool, decl map[string]param, what string) {
	t.Helper()
	if len(decl) == 0 {
		t.Fatalf("%s declares no params", what)
	}
	for name := range passed {
		if _, ok := decl[name]; !ok {
			t.Errorf("%s passes param %q, which %s does not declare", who, name, what)
		}
	}
	for name, p := range decl {
		if !p.hasDefault && !passed[name] {
			t.Errorf("%s does not pass param %q, which %s requires", who, name, what)
		}
	}
}

func list(t testing.TB, obj map[string]any, fields ...string) []map[string]any {
	t.Helper()
	raw, _, err := unstructured.NestedSlice(obj, fields...)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]map[string]any, 0, len(raw))
	for _, item := range raw {
		out = append(out, item.(map[string]any))
	}
	return out
}

func get(t testing.TB, kind, ns, name string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(schema.GroupVersionKind{Group: "tekton.dev", Version: "v1", Kind: kind})
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, u); err != nil {
		t.Fatalf("failed to get %s %s/%s: %v", kind, ns, name, err)
	}
	return u
}
