package plugin_test

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
)

// statusFixture creates ModelSyncs in every state the table distinguishes.
func statusFixture(t *testing.T, ns string) map[string]*automlv1alpha1.ModelSync {
	t.Helper()
	newModelSync := func(t *testing.T, ns, name string, mutate func(*automlv1alpha1.ModelSync)) *automlv1alpha1.ModelSync {
		return newModelSync(t, ns, name, func(ms *automlv1alpha1.ModelSync) {
			ms.Labels["fixture"] = ns
			if mutate != nil {
				mutate(ms)
			}
		})
	}
	out := map[string]*automlv1alpha1.ModelSync{}
	out["deployer"] = newModelSync(t, ns, "deployer", func(ms *automlv1alpha1.ModelSync) {
		ms.Status = automlv1alpha1.ModelSyncStatus{
			Conditions: []metav1.Condition{
				condition(automlv1alpha1.ConditionReady, metav1.ConditionTrue, automlv1alpha1.ReasonSucceeded, "the lambda answered: in sync", 2*time.Minute),
				condition(automlv1alpha1.ConditionRunning, metav1.ConditionFalse, automlv1alpha1.ReasonNoActiveRun, "no run is active", time.Hour),
			},
			LastNeedsSync: &automlv1alpha1.NeedsSyncResult{Time: *ago(2 * time.Minute), Parameters: map[string]string{"name": "model-7"}},
			LastRun: &automlv1alpha1.RunStatus{Name: "deployer-3", Number: 3, Trigger: automlv1alpha1.TriggerInterval,
				Succeeded: metav1.ConditionTrue, StartTime: ago(70 * time.Minute), CompletionTime: ago(time.Hour)},
		}
	})
	out["trainer"] = newModelSync(t, ns, "trainer", func(ms *automlv1alpha1.ModelSync) {
		ms.Labels["team"] = "vision"
		ms.Spec.Interval = &metav1.Duration{Duration: time.Hour}
		ms.Status = automlv1alpha1.ModelSyncStatus{
			Conditions: []metav1.Condition{
				condition(automlv1alpha1.ConditionReady, metav1.ConditionTrue, automlv1alpha1.ReasonSucceeded, "", 10*time.Minute),
				condition(automlv1alpha1.ConditionRunning, metav1.ConditionTrue, automlv1alpha1.ReasonRunActive, "trainer-2 is running", 10*time.Minute),
			},
			Active:        []corev1.ObjectReference{{Kind: "PipelineRun", Namespace: ns, Name: "trainer-2"}},
			LastNeedsSync: &automlv1alpha1.NeedsSyncResult{Time: *ago(10 * time.Minute), NeedsSync: true, Parameters: map[string]string{"name": "model-8"}},
			LastRun:       &automlv1alpha1.RunStatus{Name: "trainer-2", Number: 2, Succeeded: metav1.ConditionUnknown, StartTime: ago(10 * time.Minute)},
		}
	})
	out["broken"] = newModelSync(t, ns, "broken", func(ms *automlv1alpha1.ModelSync) {
		ms.Status = automlv1alpha1.ModelSyncStatus{
			Conditions: []metav1.Condition{
				condition(automlv1alpha1.ConditionReady, metav1.ConditionFalse, automlv1alpha1.ReasonNeedsSyncFailed, "GET http://lambdas/needsSync:\n HTTP 500", time.Minute),
			},
			LastNeedsSync: &automlv1alpha1.NeedsSyncResult{Time: *ago(time.Minute), Error: "HTTP 500 Internal Server Error"},
		}
	})
	out["paused"] = newModelSync(t, ns, "paused", func(ms *automlv1alpha1.ModelSync) { ms.Spec.Suspend = true })
	out["fresh"] = newModelSync(t, ns, "fresh", func(ms *automlv1alpha1.ModelSync) {
		ms.Annotations = map[string]string{automlv1alpha1.AnnotationRequestedAt: "2020-01-02T03:04:05Z"}
	})
	return out
}

func TestStatus(t *testing.T) {
	ns := namespace(t, "status")
	fixture := statusFixture(t, ns)
	deployer := fixture["deployer"]
	newRun(t, deployer, 3, automlv1alpha1.TriggerInterval, map[string]string{"name": "model-7"},
		runState{Succeeded: metav1.ConditionTrue, Reason: "Succeeded", Started: 70 * time.Minute, Took: 10 * time.Minute})
	newRun(t, deployer, 2, automlv1alpha1.TriggerManual, map[string]string{"name": "model-6"},
		runState{Succeeded: metav1.ConditionFalse, Reason: "Failed", Message: "Tasks Completed: 2 (Failed: 1)", Started: 26 * time.Hour, Took: 90 * time.Second})
	newEvent(t, deployer, "a", corev1.EventTypeNormal, "RunCreated", "created pipelinerun deployer-3", 70*time.Minute)
	newEvent(t, deployer, "b", corev1.EventTypeNormal, "RunSucceeded", "pipelinerun deployer-3 succeeded", time.Hour)
	newEvent(t, fixture["broken"], "c", corev1.EventTypeWarning, "NeedsSyncFailed", "HTTP 500", time.Minute)
	empty := namespace(t, "status-empty")

	tests := []struct {
		name string
		args []string
	}{
		{"table", []string{"status", "-n", ns}},
		{"wide", []string{"status", "-n", ns, "-o", "wide"}},
		{"no-headers", []string{"status", "-n", ns, "--no-headers"}},
		{"selector", []string{"status", "-n", ns, "-l", "team=vision"}},
		{"all-namespaces", []string{"status", "-A", "-l", "fixture=status"}},
		{"output-name", []string{"status", "-n", ns, "-o", "name"}},
		{"one-yaml", []string{"status", "broken", "-n", ns, "-o", "yaml"}},
		{"one-table", []string{"status", "trainer", "-n", ns, "-o", "wide"}},
		{"describe", []string{"status", "deployer", "-n", ns}},
		{"describe-active", []string{"status", "trainer", "-n", ns}},
		{"describe-empty", []string{"status", "fresh", "-n", ns}},
		{"empty-namespace", []string{"status", "-n", empty}},
		{"unknown", []string{"status", "nope", "-n", ns}},
		{"unknown-table", []string{"status", "nope", "-n", ns, "-o", "wide"}},
		{"bad-output", []string{"status", "-n", ns, "-o", "toml"}},
		{"bad-selector", []string{"status", "-n", ns, "-l", "a=(b"}},
		{"name-and-all", []string{"status", "deployer", "-A"}},
		{"watch-json", []string{"status", "-n", ns, "-w", "-o", "json"}},
		{"forbidden", []string{"status", "-n", ns, "--as", "nobody"}},
		{"forbidden-describe", []string{"status", "deployer", "-n", ns, "--as", "nobody"}},
		{"unknown-flag", []string{"status", "--colour"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assertGolden(t, run(tt.args...)) })
	}
}

func TestStatusWatch(t *testing.T) {
	ns := namespace(t, "status-watch")
	fixture := statusFixture(t, ns)
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan result)
	go func() { done <- kubectl(ctx, options{stdout: out}, "status", "-n", ns, "-w") }()
	out.waitFor(t, "trainer")

	setStatus(t, fixture["trainer"], func(s *automlv1alpha1.ModelSyncStatus) {
		s.Active = nil
		s.LastRun.Succeeded = metav1.ConditionTrue
		s.LastRun.CompletionTime = ago(time.Minute)
		s.LastNeedsSync.Time = *ago(time.Minute)
	})
	out.waitFor(t, "Succeeded, 60s ago")
	cancel()
	r := <-done
	if strings.Count(r.Stdout, "NAME") != 1 {
		t.Errorf("the header is printed more than once:\n%s", r.Stdout)
	}
	assertGolden(t, r)
}
