package controller

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
)

// TestLambdaFaults: each fault gives Ready=False/NeedsSyncFailed with its cause, no run, one
// Warning event, and retries that back off.
func TestLambdaFaults(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	l := newLambda(t)
	startController(t, ns) // retries start at 100ms and double
	write := func(status int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
		}
	}
	cases := []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"timeout", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(3 * time.Second):
			}
		}, "lambda did not answer within 1s (spec.timeout)"},
		{"http-500", write(500, "model registry unreachable"), "lambda answered HTTP 500 Internal Server Error: model registry unreachable"},
		{"invalid-json", write(200, `{"kind":"NeedsSync",`), "invalid NeedsSync answer: unexpected EOF"},
		{"wrong-kind", write(200, `{"kind":"Other","apiVersion":"v1alpha1","needsSync":true}`), `invalid NeedsSync answer: kind is "Other", want "NeedsSync"`},
		{"errors", write(200, `{"kind":"NeedsSync","apiVersion":"v1alpha1","needsSync":true,"errors":["bucket not found"]}`),
			"lambda reported errors: bucket not found"},
		{"oversized", write(200, `{"kind":"NeedsSync","apiVersion":"v1alpha1","needsSync":true,"errors":[]}`+strings.Repeat(" ", MaxAnswerBytes)),
			"lambda answer is larger than 1048576 bytes (1 MiB)"},
		{"unmapped-parameter", write(200, `{"kind":"NeedsSync","apiVersion":"v1alpha1","needsSync":true,"parameters":{"name":"m","region":"eu"},"errors":[]}`),
			`lambda answer does not fit the ModelSync: spec.parameters: no mapping for lambda parameter(s) "region"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l.handle(tc.name, tc.handler)
			ms := newModelSync(ns, tc.name, l.url(tc.name))
			ms.Spec.Interval = &metav1.Duration{Duration: 10 * time.Second}
			create(t, ms)
			got := waitMS(t, ns, tc.name, "Ready=False NeedsSyncFailed", func(m *automlv1alpha1.ModelSync) bool {
				return condition(m, automlv1alpha1.ConditionReady).Reason == automlv1alpha1.ReasonNeedsSyncFailed
			})
			first := time.Now()
			if c := condition(got, automlv1alpha1.ConditionReady); c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, tc.want) {
				t.Errorf("Ready: %s %q, want False with %q", c.Status, c.Message, tc.want)
			}
			if r := got.Status.LastNeedsSync; r == nil || r.NeedsSync || !strings.Contains(r.Error, tc.want) {
				t.Errorf("lastNeedsSync: %+v", r)
			}
			waitEvent(t, ns, tc.name, automlv1alpha1.ReasonNeedsSyncFailed, tc.want)

			// Retries back off: 100ms, 200ms, 400ms, ... so a few calls in 2.5s, not hundreds.
			time.Sleep(2500*time.Millisecond - time.Since(first))
			hits := l.count(tc.name)
			if hits < 2 || hits > 8 {
				t.Errorf("%d lambda calls in ~2.5s, want between 2 and 8 (retries with backoff)", hits)
			}
			for _, name := range runNames(t, ns) {
				if strings.HasPrefix(name, tc.name+"-") {
					t.Errorf("a failed check created PipelineRun %s", name)
				}
			}
			if n := len(eventNotes(t, ns, tc.name, automlv1alpha1.ReasonNeedsSyncFailed)); n != 1 {
				t.Errorf("%d NeedsSyncFailed events after %d failed checks, want 1 (one per change of cause)", n, hits)
			}
		})
	}
}

// TestRetryDelay: the backoff doubles and is capped at the interval.
func TestRetryDelay(t *testing.T) {
	cases := []struct {
		n    int
		want time.Duration
	}{
		{1, time.Second}, {2, 2 * time.Second}, {4, 8 * time.Second}, {5, 10 * time.Second}, {60, 10 * time.Second},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.n), func(t *testing.T) {
			if got := retryDelay(time.Second, 10*time.Second, tc.n); got != tc.want {
				t.Errorf("retryDelay(1s, 10s, %d) = %s, want %s", tc.n, got, tc.want)
			}
		})
	}
}

// TestRecoversAfterFault: a lambda that recovers makes Ready True again and a sync proceeds.
func TestRecoversAfterFault(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	l := newLambda(t)
	startController(t, ns)
	l.handle("flaky", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) })
	create(t, newModelSync(ns, "flaky", l.url("flaky")))
	waitMS(t, ns, "flaky", "NeedsSyncFailed", func(m *automlv1alpha1.ModelSync) bool {
		return condition(m, automlv1alpha1.ConditionReady).Reason == automlv1alpha1.ReasonNeedsSyncFailed
	})
	l.answer("flaky", true, map[string]string{"name": "m1"})
	got := waitMS(t, ns, "flaky", "run 1 after recovery", func(m *automlv1alpha1.ModelSync) bool {
		return m.Status.LastRun != nil && m.Status.LastRun.Name == "flaky-1"
	})
	if c := condition(got, automlv1alpha1.ConditionReady); c.Status != metav1.ConditionTrue || got.Status.LastNeedsSync.Error != "" {
		t.Errorf("after recovery: Ready %+v, lastNeedsSync %+v", c, got.Status.LastNeedsSync)
	}
}
