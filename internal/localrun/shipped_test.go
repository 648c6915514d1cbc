package localrun

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// TestShippedTrainLabelbot runs the shipped train-labelbot Pipeline and Task unchanged, with
// labelbot and modelsync-registry built from this module, and without the source workspace
// (the Task's scratch volume holds the data and the model).
func TestShippedTrainLabelbot(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two binaries")
	}
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+"/", "./cmd/labelbot", "./cmd/modelsync-registry")
	build.Dir = env.Root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ns := env.Namespace(t)
	for _, f := range []string{"train-labelbot-task.yaml", "train-labelbot.yaml"} {
		data, err := os.ReadFile(filepath.Join(env.Root, "kpt-packages", "pipelines", f))
		if err != nil {
			t.Fatal(err)
		}
		apply(t, ns, string(data))
	}
	registry := t.TempDir()
	r := newRunner(t, func(o *Options) {
		o.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	})
	u := runNow(t, r, ns, "train-1", `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: train-1
spec:
  pipelineRef:
    name: train-labelbot
  params:
    - name: registry
      value: file://`+registry+`
    - name: demo-issues
      value: "300"
    - name: model-id
      value: labelbot-test-1
`)
	if s, _, _ := condition(u); s != "True" {
		logs, _ := filepath.Glob(filepath.Join(r.opts.Dir, ns, "train-1", "tasks", "*", "logs", "*.log"))
		for _, l := range logs {
			data, _ := os.ReadFile(l)
			t.Logf("%s:\n%s", l, data)
		}
	}
	wantCondition(t, u, "True", ReasonSucceeded)
	results, _, _ := unstructured.NestedSlice(u.Object, "status", "results")
	if len(results) != 1 || results[0].(map[string]any)["value"] != "labelbot-test-1" {
		t.Errorf("status.results = %v", results)
	}
	if _, err := os.Stat(filepath.Join(registry, "models", "labelbot-test-1", "model.json")); err != nil {
		t.Errorf("the model is not in the registry: %v", err)
	}
}

// TestShippedPipelinesValidate checks that every shipped Pipeline passes localrun's checks
// (no unsupported feature, every variable known) with its required params given.
func TestShippedPipelinesValidate(t *testing.T) {
	ns := env.Namespace(t)
	dir := filepath.Join(env.Root, "kpt-packages", "pipelines")
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var pipelines []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var head struct{ Kind string }
		if err := yaml.Unmarshal(data, &head); err != nil || head.Kind != "Pipeline" && head.Kind != "Task" {
			continue
		}
		apply(t, ns, string(data))
		if head.Kind == "Pipeline" {
			pipelines = append(pipelines, strings.TrimSuffix(filepath.Base(f), ".yaml"))
		}
	}
	if len(pipelines) == 0 {
		t.Fatal("no shipped pipelines found")
	}
	r := newRunner(t)
	for _, name := range pipelines {
		t.Run(name, func(t *testing.T) {
			u, err := dyn(t).Resource(pipelinesGVR).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var pl v1.Pipeline
			if err := fromUnstructured(u, &pl); err != nil {
				t.Fatal(err)
			}
			run := &v1.PipelineRun{ObjectMeta: metav1.ObjectMeta{Name: name + "-1", Namespace: ns}}
			run.Spec.PipelineRef = &v1.PipelineRef{Name: name}
			for _, p := range pl.Spec.Params {
				if p.Default == nil {
					run.Spec.Params = append(run.Spec.Params, v1.Param{Name: p.Name, Value: *v1.NewStructuredValues("x")})
				}
			}
			for _, w := range pl.Spec.Workspaces {
				if !w.Optional {
					run.Spec.Workspaces = append(run.Spec.Workspaces, v1.WorkspaceBinding{Name: w.Name, EmptyDir: &corev1.EmptyDirVolumeSource{}})
				}
			}
			if _, f := r.resolve(context.Background(), run, t.TempDir()); f != nil {
				t.Errorf("pipeline %s: %v", name, f)
			}
		})
	}
}
