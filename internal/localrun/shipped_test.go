package localrun

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
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
