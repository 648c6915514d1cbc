package pipelinerun_test

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/modelsync/modelsync/internal/pipelinerun"
)

func TestReadStatus(t *testing.T) {
	run := func(status map[string]any) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{"status": status}}
	}
	cases := []struct {
		name     string
		status   map[string]any
		want     metav1.ConditionStatus
		reason   string
		finished bool
		start    bool
		end      bool
	}{
		{"no status", nil, "", "", false, false, false},
		{"running", map[string]any{"startTime": "2026-11-28T10:00:00Z",
			"conditions": []any{map[string]any{"type": "Succeeded", "status": "Unknown", "reason": "Running"}}},
			metav1.ConditionUnknown, "Running", false, true, false},
		{"failed", map[string]any{"startTime": "2026-11-28T10:00:00Z", "completionTime": "2026-11-28T10:05:00Z",
			"conditions": []any{map[string]any{"type": "Other", "status": "True"},
				map[string]any{"type": "Succeeded", "status": "False", "reason": "Failed", "message": "step x"}}},
			metav1.ConditionFalse, "Failed", true, true, true},
		{"bad times and shapes", map[string]any{"startTime": "yesterday", "conditions": []any{"junk"}},
			"", "", false, false, false},
	}
	for _, tc := range cases {
		s := pipelinerun.ReadStatus(run(tc.status))
		if s.Succeeded != tc.want || s.Reason != tc.reason || s.Finished() != tc.finished ||
			(s.Start != nil) != tc.start || (s.Completion != nil) != tc.end {
			t.Errorf("%s: got %+v", tc.name, s)
		}
	}
}

func TestNamedValues(t *testing.T) {
	obj := map[string]any{"spec": map[string]any{"params": []any{
		map[string]any{"name": "automl-model", "value": "m1"},
		map[string]any{"name": "args", "value": []any{"a", "b"}}, // array params are left out
		map[string]any{"value": "no name"},
		"not an object",
	}}}
	got := pipelinerun.NamedValues(obj, "spec", "params")
	if len(got) != 1 || got["automl-model"] != "m1" {
		t.Errorf("NamedValues = %v, want only automl-model=m1", got)
	}
	if got := pipelinerun.NamedValues(obj, "status", "results"); got != nil {
		t.Errorf("NamedValues of a missing list = %v, want nil", got)
	}
}
