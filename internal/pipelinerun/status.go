package pipelinerun

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Status is what Tekton reports of a PipelineRun, read from its unstructured object: the
// Succeeded condition and the start and completion times.
type Status struct {
	// Succeeded is the status of the Succeeded condition ("True", "False", "Unknown"), or ""
	// before Tekton has written one.
	Succeeded metav1.ConditionStatus
	// Reason and Message of the Succeeded condition.
	Reason, Message string
	// Transition is the Succeeded condition's lastTransitionTime.
	Transition *metav1.Time
	// Start and Completion are status.startTime and status.completionTime.
	Start, Completion *metav1.Time
}

// Finished reports whether the run has ended, successfully or not.
func (s Status) Finished() bool {
	return s.Succeeded == metav1.ConditionTrue || s.Succeeded == metav1.ConditionFalse
}

// ReadStatus reads the Status of a PipelineRun. Missing or malformed fields are left empty.
func ReadStatus(u *unstructured.Unstructured) Status {
	var s Status
	conditions, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conditions {
		cond, ok := c.(map[string]any)
		if !ok || cond["type"] != "Succeeded" {
			continue
		}
		status, _ := cond["status"].(string)
		s.Succeeded = metav1.ConditionStatus(status)
		s.Reason, _ = cond["reason"].(string)
		s.Message, _ = cond["message"].(string)
		s.Transition = timeAt(cond, "lastTransitionTime")
	}
	s.Start = timeAt(u.Object, "status", "startTime")
	s.Completion = timeAt(u.Object, "status", "completionTime")
	return s
}

// timeAt reads an RFC 3339 time at path, or nil.
func timeAt(obj map[string]any, path ...string) *metav1.Time {
	v, _, _ := unstructured.NestedString(obj, path...)
	if v == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil
	}
	return &metav1.Time{Time: t}
}

// NamedValues reads a list of {name, value} at path (a PipelineRun's spec.params or
// status.results, a template's params) into a map, keeping string values only (Tekton params
// and results may also be arrays or objects). It returns nil when there is none.
func NamedValues(obj map[string]any, path ...string) map[string]string {
	list, _, _ := unstructured.NestedSlice(obj, path...)
	var out map[string]string
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			continue
		}
		name, _ := m["name"].(string)
		value, ok := m["value"].(string)
		if name == "" || !ok {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[name] = value
	}
	return out
}
