package controller

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
)

// TestSyncLifecycle follows one ModelSync through a sync: the lambda flips, exactly one run
// appears, nothing more starts while it runs, Tekton finishes it, and the next sync is run n+1.
func TestSyncLifecycle(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	l := newLambda(t)
	l.answer("lifecycle", false, nil)
	startController(t, ns)
	ms := newModelSync(ns, "lifecycle", l.url("lifecycle"))
	ms.Spec.Interval = &metav1.Duration{Duration: 10 * time.Second} // the shortest the API allows
	create(t, ms)

	got := waitMS(t, ns, "lifecycle", "Ready=True after the first check", func(m *automlv1alpha1.ModelSync) bool {
		return condition(m, automlv1alpha1.ConditionReady).Status == metav1.ConditionTrue && m.Status.LastNeedsSync != nil
	})
	if got.Status.LastNeedsSync.NeedsSync || len(runNames(t, ns)) != 0 {
		t.Fatalf("no sync was needed, yet: lastNeedsSync %+v, runs %v", got.Status.LastNeedsSync, runNames(t, ns))
	}
	if got.Status.ObservedGeneration != got.Generation || condition(got, automlv1alpha1.ConditionRunning).Status != metav1.ConditionFalse {
		t.Errorf("observedGeneration %d (generation %d), Running %+v", got.Status.ObservedGeneration, got.Generation,
			condition(got, automlv1alpha1.ConditionRunning))
	}

	// The lambda flips; the next interval check starts run 1.
	model := "projects/1/locations/us-central1/models/TCN42"
	l.answer("lifecycle", true, map[string]string{"name": model})
	got = waitMS(t, ns, "lifecycle", "an active run", func(m *automlv1alpha1.ModelSync) bool { return len(m.Status.Active) == 1 })
	runs := listRunObjects(t, ns)
	if len(runs) != 1 || runs[0].GetName() != "lifecycle-1" {
		t.Fatalf("want exactly the run lifecycle-1, got %v", runNames(t, ns))
	}
	run := runs[0]
	params, _, _ := unstructuredSlice(run.Object, "spec", "params")
	if want := []any{
		map[string]any{"name": "automl-model", "value": model},
		map[string]any{"name": "branchName", "value": "auto-update"},
	}; !jsonEqual(params, want) {
		t.Errorf("params: got %v, want %v", params, want)
	}
	if l := run.GetLabels(); l[automlv1alpha1.LabelModelSync] != "lifecycle" || l["app"] != "label-bot" {
		t.Errorf("labels: %v", l)
	}
	a := run.GetAnnotations()
	if a[automlv1alpha1.AnnotationTrigger] != "interval" || a[automlv1alpha1.AnnotationParameters] != `{"name":"`+model+`"}` || a["team"] != "ml" {
		t.Errorf("annotations: %v", a)
	}
	if ref := metav1.GetControllerOf(&run); ref == nil || ref.UID != got.UID || ref.Kind != "ModelSync" {
		t.Errorf("owner reference: %+v, want the controller reference to ModelSync %s", run.GetOwnerReferences(), got.UID)
	}
	if got.Status.LastRun == nil || got.Status.LastRun.Name != "lifecycle-1" || got.Status.LastRun.Number != 1 ||
		got.Status.LastRun.Succeeded != metav1.ConditionUnknown || condition(got, automlv1alpha1.ConditionRunning).Status != metav1.ConditionTrue {
		t.Errorf("status while running: lastRun %+v, Running %+v", got.Status.LastRun, condition(got, automlv1alpha1.ConditionRunning))
	}
	waitEvent(t, ns, "lifecycle", "RunCreated", "Created PipelineRun lifecycle-1 (trigger: interval)")

	// While it runs, a manual check request waits: no lambda call, no second run.
	hits := l.count("lifecycle")
	at := requestSync(t, ns, "lifecycle", false, "")
	time.Sleep(time.Second)
	if n := l.count("lifecycle"); n != hits {
		t.Errorf("the lambda was asked %d more time(s) while a run was active", n-hits)
	}
	if names := runNames(t, ns); !slices.Equal(names, []string{"lifecycle-1"}) {
		t.Fatalf("runs while lifecycle-1 is active: %v", names)
	}

	// Tekton finishes run 1: status and events follow, and the waiting request creates run 2.
	finishRun(t, ns, "lifecycle-1", true)
	got = waitMS(t, ns, "lifecycle", "run 2 started", func(m *automlv1alpha1.ModelSync) bool {
		return m.Status.LastRun != nil && m.Status.LastRun.Name == "lifecycle-2"
	})
	if s := got.Status.LastSuccessfulRun; s == nil || s.Name != "lifecycle-1" || s.Succeeded != metav1.ConditionTrue || s.CompletionTime == nil {
		t.Errorf("lastSuccessfulRun: %+v", s)
	}
	if got.Status.LastHandledTriggerAt != at || got.Status.LastRun.Trigger != automlv1alpha1.TriggerManual {
		t.Errorf("the manual request was not served by run 2: lastHandledTriggerAt %q (want %q), lastRun %+v",
			got.Status.LastHandledTriggerAt, at, got.Status.LastRun)
	}
	waitEvent(t, ns, "lifecycle", "RunSucceeded", "PipelineRun lifecycle-1 succeeded (Succeeded)")

	finishRun(t, ns, "lifecycle-2", false)
	got = waitMS(t, ns, "lifecycle", "run 2 failed", func(m *automlv1alpha1.ModelSync) bool {
		return m.Status.LastFailedRun != nil && m.Status.LastFailedRun.Name == "lifecycle-2"
	})
	if len(got.Status.Active) != 0 || condition(got, automlv1alpha1.ConditionRunning).Status != metav1.ConditionFalse {
		t.Errorf("after the runs finished: active %v, Running %+v", got.Status.Active, condition(got, automlv1alpha1.ConditionRunning))
	}
	waitEvent(t, ns, "lifecycle", "RunFailed", "PipelineRun lifecycle-2 failed (Failed)")
	if n := len(eventNotes(t, ns, "lifecycle", "RunSucceeded")); n != 1 {
		t.Errorf("%d RunSucceeded events, want 1 (events on change only)", n)
	}
}

func unstructuredSlice(obj map[string]any, path ...string) ([]any, bool, error) {
	var cur any = obj
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false, nil
		}
		cur = m[p]
	}
	s, ok := cur.([]any)
	return s, ok, nil
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
