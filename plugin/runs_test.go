package plugin_test

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
)

func TestRuns(t *testing.T) {
	ns := namespace(t, "runs")
	own := func(ms *automlv1alpha1.ModelSync) { ms.Spec.PipelineRunTemplate.Metadata.Labels["app"] = "runs-test" }
	deployer := newModelSync(t, ns, "deployer", own)
	trainer := newModelSync(t, ns, "trainer", own)
	newModelSync(t, ns, "idle", nil)
	newRun(t, deployer, 1, automlv1alpha1.TriggerInterval, map[string]string{"name": "model-1"},
		runState{Succeeded: metav1.ConditionTrue, Reason: "Succeeded", Message: "Tasks Completed: 3 (Failed: 0, Cancelled 0), Skipped: 0", Started: 50 * time.Hour, Took: 4 * time.Minute})
	newRun(t, deployer, 2, automlv1alpha1.TriggerManual, map[string]string{"name": "model-2"},
		runState{Succeeded: metav1.ConditionFalse, Reason: "Failed", Message: "Tasks Completed: 2 (Failed: 1, Cancelled 0), Skipped: 1", Started: 3 * time.Hour, Took: 95 * time.Second})
	newRun(t, deployer, 10, automlv1alpha1.TriggerInterval, map[string]string{"name": "model-3"},
		runState{Succeeded: metav1.ConditionUnknown, Reason: "Running", Message: "Tasks Completed: 1 (Failed: 0, Cancelled 0), Skipped: 0", Started: 7 * time.Minute})
	newRun(t, trainer, 1, automlv1alpha1.TriggerInterval, nil, runState{})

	tests := []struct {
		name string
		args []string
	}{
		{"one", []string{"runs", "deployer", "-n", ns}},
		{"wide", []string{"runs", "deployer", "-n", ns, "-o", "wide"}},
		{"namespace", []string{"runs", "-n", ns}},
		{"all-namespaces", []string{"runs", "-A", "--no-headers", "-l", "app=runs-test"}},
		{"output-name", []string{"runs", "deployer", "-n", ns, "-o", "name"}},
		{"no-runs", []string{"runs", "idle", "-n", ns}},
		{"unknown", []string{"runs", "nope", "-n", ns}},
		{"forbidden", []string{"runs", "deployer", "-n", ns, "--as", "nobody"}},
		{"no-name", []string{"runs", "a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assertGolden(t, run(tt.args...)) })
	}
}
