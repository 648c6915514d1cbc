package controller

import (
	"net/http"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
	"github.com/modelsync/modelsync/internal/pipelinerun"
)

// TestManualTrigger: requested-at makes the controller check now; with force it runs without
// asking, with requested-parameters; each request is served once; bad requests are rejected.
func TestManualTrigger(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	l := newLambda(t)
	startController(t, ns)
	cases := []struct {
		name      string
		needsSync bool
		force     bool
		params    string
		wantRun   bool
		wantModel string // the automl-model param of the run
		wantError string // Ready message of a rejected request or a failed check
		// lambdaDown makes the lambda fail: the request is served by a failed check.
		lambdaDown bool
	}{
		{name: "check-no-sync", needsSync: false},
		{name: "check-fails", lambdaDown: true, wantError: "Lambda check failed: lambda answered HTTP 503 Service Unavailable"},
		{name: "check-needs-sync", needsSync: true, wantRun: true, wantModel: "from-lambda"},
		{name: "force", needsSync: false, force: true, params: `{"name":"forced-model"}`, wantRun: true, wantModel: "forced-model"},
		{name: "force-no-params", force: true, wantRun: true, wantModel: "none"},
		{name: "force-bad-json", force: true, params: `{"name":`,
			wantError: "annotation automl.cloudai.kubeflow.org/requested-parameters: must be a JSON object of strings"},
		{name: "force-unmapped", force: true, params: `{"zone":"b"}`,
			wantError: `spec.parameters: no mapping for lambda parameter(s) "zone"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l.answer(tc.name, false, nil)
			create(t, newModelSync(ns, tc.name, l.url(tc.name)))
			waitMS(t, ns, tc.name, "the first check", func(m *automlv1alpha1.ModelSync) bool { return m.Status.LastNeedsSync != nil })
			l.answer(tc.name, tc.needsSync, map[string]string{"name": "from-lambda"})
			if tc.lambdaDown {
				l.handle(tc.name, func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) })
			}
			hits := l.count(tc.name)
			at := requestSync(t, ns, tc.name, tc.force, tc.params)
			got := waitMS(t, ns, tc.name, "the request served", func(m *automlv1alpha1.ModelSync) bool {
				return m.Status.LastHandledTriggerAt == at
			})
			asked := l.count(tc.name) - hits
			if tc.force && asked != 0 || !tc.force && !tc.lambdaDown && asked != 1 || tc.lambdaDown && asked < 1 {
				t.Errorf("the lambda was asked %d time(s) for the request (force=%v)", asked, tc.force)
			}
			mine := runsOf(t, ns, tc.name)
			if tc.wantRun != (len(mine) == 1) || len(mine) > 1 {
				t.Fatalf("runs %v, want a run: %v", mine, tc.wantRun)
			}
			if tc.wantRun {
				run := getRun(t, ns, mine[0])
				a := run.GetAnnotations()
				if a[automlv1alpha1.AnnotationTrigger] != "manual" || a[automlv1alpha1.AnnotationRequestedAt] != at {
					t.Errorf("run annotations: %v", a)
				}
				params, _, _ := unstructuredSlice(run.Object, "spec", "params")
				if !strings.Contains(mustJSON(params), `{"name":"automl-model","value":"`+tc.wantModel+`"}`) {
					t.Errorf("params %s, want automl-model=%s", mustJSON(params), tc.wantModel)
				}
			}
			if tc.wantError != "" {
				c := condition(got, automlv1alpha1.ConditionReady)
				if c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, tc.wantError) {
					t.Errorf("Ready: %s %q, want False with %q", c.Status, c.Message, tc.wantError)
				}
				reason := "TriggerRejected"
				if tc.lambdaDown {
					reason = automlv1alpha1.ReasonNeedsSyncFailed
					if got.Status.LastNeedsSync == nil || got.Status.LastNeedsSync.Error == "" {
						t.Errorf("a failed check serves the request with its error in lastNeedsSync, got %+v", got.Status.LastNeedsSync)
					}
				}
				waitEvent(t, ns, tc.name, reason, tc.wantError)
			}
			// The same request is not served again, even after the run finished.
			if tc.wantRun {
				finishRun(t, ns, mine[0], true)
				waitMS(t, ns, tc.name, "run finished", func(m *automlv1alpha1.ModelSync) bool { return m.Status.LastSuccessfulRun != nil })
			}
			patchMS(t, ns, tc.name, map[string]any{"metadata": map[string]any{"labels": map[string]any{"touched": "yes"}}})
			time.Sleep(500 * time.Millisecond)
			if now := runsOf(t, ns, tc.name); len(now) != len(mine) {
				t.Errorf("a served request started another run: %v, had %v", now, mine)
			}
		})
	}
}

// TestSuspendResume: no checks and no new runs while suspended; a running run is left alone and
// still observed; resuming serves what waited.
func TestSuspendResume(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	l := newLambda(t)
	startController(t, ns)
	l.answer("pause", false, nil)
	create(t, newModelSync(ns, "pause", l.url("pause")))
	waitMS(t, ns, "pause", "Ready", func(m *automlv1alpha1.ModelSync) bool { return m.IsReady() })
	requestSync(t, ns, "pause", true, `{"name":"m1"}`)
	waitMS(t, ns, "pause", "run 1 active", func(m *automlv1alpha1.ModelSync) bool { return len(m.Status.Active) == 1 })

	patchMS(t, ns, "pause", map[string]any{"spec": map[string]any{"suspend": true}})
	got := waitMS(t, ns, "pause", "Suspended", func(m *automlv1alpha1.ModelSync) bool {
		return condition(m, automlv1alpha1.ConditionReady).Reason == automlv1alpha1.ReasonSuspended && m.Status.ObservedGeneration == m.Generation
	})
	if c := condition(got, automlv1alpha1.ConditionReady); c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, "spec.suspend is true") {
		t.Errorf("Ready while suspended: %+v", c)
	}
	waitEvent(t, ns, "pause", "Suspended", "spec.suspend is true")
	l.answer("pause", true, map[string]string{"name": "m2"})
	hits := l.count("pause")
	at := requestSync(t, ns, "pause", false, "")
	finishRun(t, ns, "pause-1", true) // the running run was left alone and is still observed
	waitMS(t, ns, "pause", "run 1 observed finished", func(m *automlv1alpha1.ModelSync) bool {
		return m.Status.LastSuccessfulRun != nil && m.Status.LastSuccessfulRun.Name == "pause-1" && len(m.Status.Active) == 0
	})
	time.Sleep(time.Second)
	if n := l.count("pause") - hits; n != 0 {
		t.Errorf("the lambda was asked %d time(s) while suspended", n)
	}
	if names := runNames(t, ns); len(names) != 1 {
		t.Errorf("runs while suspended: %v, want only pause-1", names)
	}
	if getMS(t, ns, "pause").Status.LastHandledTriggerAt == at {
		t.Error("a request was served while suspended")
	}

	patchMS(t, ns, "pause", map[string]any{"spec": map[string]any{"suspend": false}})
	got = waitMS(t, ns, "pause", "run 2 after resume", func(m *automlv1alpha1.ModelSync) bool {
		return m.Status.LastRun != nil && m.Status.LastRun.Name == "pause-2"
	})
	if got.Status.LastHandledTriggerAt != at || !got.IsReady() {
		t.Errorf("after resume: lastHandledTriggerAt %q (want %q), Ready %+v", got.Status.LastHandledTriggerAt, at,
			condition(got, automlv1alpha1.ConditionReady))
	}
	waitEvent(t, ns, "pause", "Resumed", "checks resume")
}

// TestStalledTemplate: a template that cannot render stalls the ModelSync until the spec is fixed.
func TestStalledTemplate(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	l := newLambda(t)
	startController(t, ns)
	l.answer("stuck", true, map[string]string{"name": "m"})
	ms := newModelSync(ns, "stuck", l.url("stuck"))
	ms.Spec.PipelineRunTemplate.Spec.Raw = []byte(`{"params":[]}`) // neither pipelineRef nor pipelineSpec
	create(t, ms)
	got := waitMS(t, ns, "stuck", "Stalled", func(m *automlv1alpha1.ModelSync) bool {
		return condition(m, automlv1alpha1.ConditionStalled).Status == metav1.ConditionTrue
	})
	want := "spec.pipelineRunTemplate.spec: must set pipelineRef or pipelineSpec"
	for _, kind := range []string{automlv1alpha1.ConditionStalled, automlv1alpha1.ConditionReady} {
		if c := condition(got, kind); c.Reason != automlv1alpha1.ReasonRenderFailed || !strings.Contains(c.Message, want) {
			t.Errorf("%s: %+v, want reason RenderFailed with %q", kind, c, want)
		}
	}
	if n := l.count("stuck"); n != 0 {
		t.Errorf("a stalled ModelSync asked its lambda %d time(s)", n)
	}
	waitEvent(t, ns, "stuck", automlv1alpha1.ReasonRenderFailed, want)

	patchMS(t, ns, "stuck", map[string]any{"spec": map[string]any{"pipelineRunTemplate": map[string]any{
		"spec": map[string]any{"pipelineRef": map[string]any{"name": "update-model-pr"}}}}})
	got = waitMS(t, ns, "stuck", "run 1 after the fix", func(m *automlv1alpha1.ModelSync) bool {
		return m.Status.LastRun != nil && m.Status.LastRun.Name == "stuck-1"
	})
	if c := condition(got, automlv1alpha1.ConditionStalled); c.Type != "" {
		t.Errorf("Stalled is still set: %+v", c)
	}
}

// runsOf lists the names of the runs of one ModelSync.
func runsOf(t testing.TB, ns, ms string) []string {
	var mine []string
	for _, n := range runNames(t, ns) {
		if _, ok := pipelinerun.NumberOf(ms, n); ok {
			mine = append(mine, n)
		}
	}
	return mine
}
