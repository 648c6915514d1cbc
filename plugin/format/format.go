// Package format turns API values into the short strings that `kubectl modelsync` prints. Every
// function prints Missing ("---") for a value that is not there, so columns never go blank.
package format

import (
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
)

// Missing is printed for a value that is not set.
const Missing = "---"

// Or returns s, or Missing when s is empty.
func Or(s string) string {
	if s == "" {
		return Missing
	}
	return s
}

// Age returns how long before now t was, in kubectl's short form ("5m", "3d"), or Missing.
func Age(t *metav1.Time, now time.Time) string {
	if t == nil || t.IsZero() {
		return Missing
	}
	return duration.HumanDuration(now.Sub(t.Time))
}

// Since is Age for a plain time.
func Since(t time.Time, now time.Time) string {
	if t.IsZero() {
		return Missing
	}
	return duration.HumanDuration(now.Sub(t))
}

// Until returns how long after now t is ("in 4m"), "now" when t has passed, or Missing.
func Until(t time.Time, now time.Time) string {
	if t.IsZero() {
		return Missing
	}
	if !t.After(now) {
		return "now"
	}
	return "in " + duration.HumanDuration(t.Sub(now))
}

// Duration returns the time from start to end, or from start to now while end is unset
// (a running run), or Missing without a start.
func Duration(start, end *metav1.Time, now time.Time) string {
	if start == nil || start.IsZero() {
		return Missing
	}
	stop := now
	if end != nil && !end.IsZero() {
		stop = end.Time
	}
	d := stop.Sub(start.Time)
	if d < 0 {
		d = 0
	}
	return duration.HumanDuration(d)
}

// ConditionStatus returns the status of the condition of the given type, or Missing.
func ConditionStatus(conditions []metav1.Condition, conditionType string) string {
	c := meta.FindStatusCondition(conditions, conditionType)
	if c == nil {
		return Missing
	}
	return string(c.Status)
}

// Condition returns "Status (Reason)" for the condition of the given type, or Missing.
func Condition(conditions []metav1.Condition, conditionType string) string {
	c := meta.FindStatusCondition(conditions, conditionType)
	if c == nil {
		return Missing
	}
	if c.Reason == "" {
		return string(c.Status)
	}
	return string(c.Status) + " (" + c.Reason + ")"
}

// Bool returns "true"/"false".
func Bool(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// Params returns k=v pairs sorted by key and joined by commas, or Missing for none.
func Params(params map[string]string) string {
	if len(params) == 0 {
		return Missing
	}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(params[k])
	}
	return b.String()
}

// Result turns a Succeeded condition status into a word: Succeeded, Failed, Running, or Missing.
func Result(succeeded metav1.ConditionStatus) string {
	switch succeeded {
	case metav1.ConditionTrue:
		return "Succeeded"
	case metav1.ConditionFalse:
		return "Failed"
	case metav1.ConditionUnknown:
		return "Running"
	}
	return Missing
}

// OneLine squeezes a multi-line message onto one line.
func OneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
