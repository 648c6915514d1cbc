package plugin_test

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
	"github.com/modelsync/modelsync/internal/pipelinerun"
	"github.com/modelsync/modelsync/internal/registry"
	"github.com/modelsync/modelsync/plugin"
)

// The models of the lineage fixture: the deployed one, trained by a run that still exists, and
// an older one whose training run the history limits have deleted.
const (
	deployedModel = "labelbot-20261128-2301"
	olderModel    = "labelbot-20261127-2300"
	handModel     = "labelbot-hand-made"
	sourceCommit  = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"
	branchCommit  = "9f8e7d6c5b4a39281706f5e4d3c2b1a098f7e6d5"
)

// lineageFixture creates, in ns, what the loop leaves behind: a trainer and a deployer
// ModelSync, a training run, deploy runs, the ConfigMap a GitOps agent applied, and a file://
// registry holding the models. It returns the registry folder.
func lineageFixture(t *testing.T, ns string) string {
	t.Helper()
	dir := t.TempDir()
	url := "file://" + dir
	ready := func(msg string) []metav1.Condition {
		return []metav1.Condition{condition(automlv1alpha1.ConditionReady, metav1.ConditionTrue, automlv1alpha1.ReasonSucceeded, msg, 2*time.Minute)}
	}
	trainer := newModelSync(t, ns, "label-bot-trainer", func(ms *automlv1alpha1.ModelSync) {
		ms.Spec.NeedsSyncURL = "http://labelbot-diff." + ns + "/needsTrain"
		ms.Spec.Interval = &metav1.Duration{Duration: 10 * time.Minute}
		ms.Spec.Parameters = []automlv1alpha1.ParameterMapping{
			{NeedsSyncName: "runId", PipelineName: "model-id"},
			{NeedsSyncName: "dataCutoff", PipelineName: "data-snapshot"},
		}
		ms.Spec.PipelineRunTemplate.Spec = runtime.RawExtension{Raw: []byte(`{"pipelineRef":{"name":"train-model"},"params":[` +
			`{"name":"registry","value":"` + url + `"},{"name":"model-id","value":""},{"name":"data-snapshot","value":""}]}`)}
		ms.Status.Conditions = ready("")
		ms.Status.LastNeedsSync = &automlv1alpha1.NeedsSyncResult{Time: *ago(2 * time.Minute)}
	})
	deployer := newModelSync(t, ns, "label-bot-deployer", func(ms *automlv1alpha1.ModelSync) {
		ms.Spec.NeedsSyncURL = "http://labelbot-diff." + ns + "/needsSync"
		ms.Status.Conditions = ready("the lambda answered: in sync")
		ms.Status.LastNeedsSync = &automlv1alpha1.NeedsSyncResult{Time: *ago(time.Minute)}
	})

	// The training run of the deployed model; run 1 (the older model's) is gone.
	train := newRun(t, trainer, 2, automlv1alpha1.TriggerInterval, map[string]string{"runId": deployedModel, "dataCutoff": "2026-11-28"},
		runState{Succeeded: metav1.ConditionTrue, Reason: "Succeeded", Started: 4 * time.Hour, Took: 12 * time.Minute})
	setRunResults(t, train, map[string]string{"model-id": deployedModel, "code-revision": "0123456789abcdef0123456789abcdef01234567"})

	// Deploy runs: the older model's, then two for the deployed model, of which the newest failed
	// (the branch was up to date, say) and the one before succeeded: that one proposed it.
	newRun(t, deployer, 1, automlv1alpha1.TriggerInterval, map[string]string{"name": olderModel},
		runState{Succeeded: metav1.ConditionTrue, Reason: "Succeeded", Started: 26 * time.Hour, Took: 20 * time.Second})
	proposed := newRun(t, deployer, 2, automlv1alpha1.TriggerInterval, map[string]string{"name": deployedModel},
		runState{Succeeded: metav1.ConditionTrue, Reason: "Succeeded", Started: 3 * time.Hour, Took: 14 * time.Second})
	setRunResults(t, proposed, map[string]string{"commit": branchCommit, "push-status": "pushed", "pr-url": "https://github.com/example/label-bot/pull/7"})
	manualRun(t, deployer, 3, deployedModel, runState{Succeeded: metav1.ConditionFalse, Reason: "Failed", Started: time.Hour, Took: 30 * time.Second})
	// A hand-published model, proposed by hand once, without success.
	manualRun(t, deployer, 4, handModel, runState{Succeeded: metav1.ConditionFalse, Reason: "Failed", Message: "task update-model-pr failed", Started: 30 * time.Minute, Took: 40 * time.Second})
	// A later check before the merge reached git found the branch already up to date: it
	// succeeded, but run 2 is still the one that proposed the model.
	upToDate := newRun(t, deployer, 5, automlv1alpha1.TriggerInterval, map[string]string{"name": deployedModel},
		runState{Succeeded: metav1.ConditionTrue, Reason: "Succeeded", Started: 10 * time.Minute, Took: 5 * time.Second})
	setRunResults(t, upToDate, map[string]string{"commit": branchCommit, "push-status": "up-to-date"})

	configMap(t, ns, "label-bot", map[string]string{"automl-model": deployedModel, "log-level": "info"},
		map[string]string{automlv1alpha1.AnnotationSourceCommit: sourceCommit})
	configMap(t, ns, "unrelated", map[string]string{"greeting": "hello"}, nil)

	ctx := context.Background()
	reg, err := registry.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = reg.Close() }()
	publish := func(id string, age time.Duration, run string, micro, macro registry.Averages, files ...string) {
		reg.SetClock(func() time.Time { return now.Add(-age + 15*time.Minute) })
		m := &registry.Model{
			ID:      id,
			Created: now.Add(-age),
			Metrics: registry.Metrics{Micro: &micro, Macro: &macro},
			Lineage: registry.Lineage{DataSnapshot: "issues-" + id + ".jsonl"},
		}
		if run != "" {
			m.Lineage.PipelineRun = ns + "/" + run
			m.Lineage.ModelSync = ns + "/label-bot-trainer"
			m.Lineage.CodeRevision = "0123456789abcdef0123456789abcdef01234567"
		}
		var arts []registry.Artifact
		for _, f := range files {
			arts = append(arts, registry.Artifact{Name: f, Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(f)), nil }})
		}
		if err := reg.Publish(ctx, m, arts, registry.PublishOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	publish(olderModel, 28*time.Hour, "label-bot-trainer-1",
		registry.Averages{Precision: 0.7, Recall: 0.8, F1: 0.746}, registry.Averages{Precision: 0.6, Recall: 0.7, F1: 0.646}, "model.bin")
	publish(deployedModel, 4*time.Hour, "label-bot-trainer-2",
		registry.Averages{Precision: 0.71, Recall: 0.85, F1: 0.774}, registry.Averages{Precision: 0.64, Recall: 0.79, F1: 0.707},
		"model.bin", "notebook.ipynb", "report.html")
	publish(handModel, time.Hour, "", registry.Averages{Precision: 0.5, Recall: 0.5, F1: 0.5}, registry.Averages{Precision: 0.4, Recall: 0.4, F1: 0.4})
	return dir
}

// manualRun creates run n of ms as the controller does for a manual trigger, with a status.
func manualRun(t *testing.T, ms *automlv1alpha1.ModelSync, n int64, model string, st runState) {
	t.Helper()
	res, err := pipelinerun.Render(ms, pipelinerun.Input{
		Number: n, Parameters: map[string]string{"name": model}, Trigger: automlv1alpha1.TriggerManual,
		RequestedAt: "2020-01-02T03:04:05Z",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Create(context.Background(), res.PipelineRun); err != nil {
		t.Fatalf("failed to create pipelinerun %s: %v", res.PipelineRun.GetName(), err)
	}
	setRunStatus(t, res.PipelineRun, st)
}

func setRunResults(t *testing.T, u *unstructured.Unstructured, results map[string]string) {
	t.Helper()
	var list []any
	for _, name := range slices.Sorted(maps.Keys(results)) {
		list = append(list, map[string]any{"name": name, "value": results[name]})
	}
	patch, _ := json.Marshal(map[string]any{"status": map[string]any{"results": list}})
	if err := env.Client.Status().Patch(context.Background(), u, client.RawPatch("application/merge-patch+json", patch)); err != nil {
		t.Fatalf("failed to write the results of pipelinerun %s: %v", u.GetName(), err)
	}
}

// configMap creates (or recreates, with -count > 1) a ConfigMap.
func configMap(t *testing.T, ns, name string, data, annotations map[string]string) {
	t.Helper()
	ctx := context.Background()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: annotations}, Data: data}
	if err := env.Client.Delete(ctx, cm.DeepCopy()); err != nil && !apierrors.IsNotFound(err) {
		t.Fatalf("failed to delete configmap %s: %v", name, err)
	}
	if err := env.Client.Create(ctx, cm); err != nil {
		t.Fatalf("failed to create configmap %s: %v", name, err)
	}
}

var checkedPattern = regexp.MustCompile(`("?checked"?: )"?[0-9TZ:-]+"?`)

func TestLineage(t *testing.T) {
	ns := namespace(t, "lineage")
	dir := lineageFixture(t, ns)
	many := namespace(t, "lineage-many")
	configMap(t, many, "label-bot", map[string]string{"automl-model": deployedModel}, nil)
	configMap(t, many, "label-bot-canary", map[string]string{"automl-model": olderModel}, nil)
	other := t.TempDir() // an empty registry
	far := namespace(t, "lineage-far")
	newModelSync(t, far, "label-bot-trainer", func(ms *automlv1alpha1.ModelSync) {
		ms.Spec.PipelineRunTemplate.Spec = runtime.RawExtension{Raw: []byte(`{"pipelineRef":{"name":"train-model"},"params":[{"name":"registry","value":"file:///nonexistent/registry"}]}`)}
	})

	tests := []struct {
		name string
		args []string
	}{
		{"full-chain", []string{"lineage", deployedModel, "-n", ns, "--configmap", "label-bot", "--registry", "file://" + dir}},
		{"default-model", []string{"lineage", "-n", ns}},
		{"gc-training-run", []string{"lineage", olderModel, "-n", ns}},
		{"no-training-run", []string{"lineage", handModel, "-n", ns}},
		{"missing-model", []string{"lineage", "labelbot-nope", "-n", ns}},
		{"json", []string{"lineage", "-n", ns, "-o", "json"}},
		{"yaml-older", []string{"lineage", olderModel, "-n", ns, "-o", "yaml"}},
		{"several-configmaps", []string{"lineage", "-n", many}},
		{"no-registry", []string{"lineage", deployedModel, "-n", many}},
		{"unreachable-registry", []string{"lineage", deployedModel, "-n", far}},
		{"model-not-in-other-registry", []string{"lineage", deployedModel, "-n", ns, "--registry", "file://" + other}},
		{"configmap-without-key", []string{"lineage", "-n", ns, "--configmap", "unrelated"}},
		{"no-configmap", []string{"lineage", "-n", ns, "--key", "model"}},
		{"bad-output", []string{"lineage", "-n", ns, "-o", "wide"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(tt.args...)
			paths := strings.NewReplacer(dir, "<registry>", other, "<empty-registry>")
			r.Stdout = checkedPattern.ReplaceAllString(paths.Replace(r.Stdout), `${1}"<created>"`)
			r.Stderr = paths.Replace(r.Stderr)
			assertGolden(t, r)
		})
	}
}

// TestLineageJSON reads -o json back into plugin.Lineage, as a script or the demo would.
func TestLineageJSON(t *testing.T) {
	ns := namespace(t, "lineage-json")
	dir := lineageFixture(t, ns)
	r := run("lineage", "-n", ns, "-o", "json")
	if r.Code != 0 {
		t.Fatalf("lineage failed: %s", r)
	}
	var l plugin.Lineage
	if err := json.Unmarshal([]byte(r.Stdout), &l); err != nil {
		t.Fatal(err)
	}
	got := []string{l.Model, l.Deployed.SourceCommit, l.DeployRun.Name, l.DeployRun.Results["commit"], l.DeployRun.Check.Parameters["name"],
		l.Manifest.Report, l.TrainingRun.Name, l.TrainingRun.Check.Parameters["runId"], l.ModelSyncs[0].Name, l.ModelSyncs[1].Name}
	want := []string{deployedModel, sourceCommit, "label-bot-deployer-2", branchCommit, deployedModel,
		"file://" + dir + "/models/" + deployedModel + "/report.html", "label-bot-trainer-2", deployedModel, "label-bot-trainer", "label-bot-deployer"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("lineage -o json:\ngot  %q\nwant %q", got, want)
	}
}
