package format

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var now = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func at(d time.Duration) *metav1.Time { return &metav1.Time{Time: now.Add(d)} }

func TestFormat(t *testing.T) {
	conditions := []metav1.Condition{
		{Type: "Ready", Status: metav1.ConditionFalse, Reason: "NeedsSyncFailed"},
		{Type: "Running", Status: metav1.ConditionTrue},
	}
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"or-empty", Or(""), "---"},
		{"or-value", Or("x"), "x"},
		{"age-nil", Age(nil, now), "---"},
		{"age-zero", Age(&metav1.Time{}, now), "---"},
		{"age-seconds", Age(at(-45*time.Second), now), "45s"},
		{"age-days", Age(at(-50*time.Hour), now), "2d2h"},
		{"since-zero", Since(time.Time{}, now), "---"},
		{"until-zero", Until(time.Time{}, now), "---"},
		{"until-past", Until(now.Add(-time.Second), now), "now"},
		{"until-future", Until(now.Add(4*time.Minute), now), "in 4m"},
		{"duration-no-start", Duration(nil, nil, now), "---"},
		{"duration-running", Duration(at(-90*time.Second), nil, now), "90s"},
		{"duration-done", Duration(at(-time.Hour), at(-50*time.Minute), now), "10m"},
		{"duration-clock-skew", Duration(at(0), at(-time.Second), now), "0s"},
		{"condition-status-missing", ConditionStatus(conditions, "Stalled"), "---"},
		{"condition-status", ConditionStatus(conditions, "Ready"), "False"},
		{"condition-with-reason", Condition(conditions, "Ready"), "False (NeedsSyncFailed)"},
		{"condition-without-reason", Condition(conditions, "Running"), "True"},
		{"condition-missing", Condition(nil, "Ready"), "---"},
		{"params-none", Params(nil), "---"},
		{"params-sorted", Params(map[string]string{"b": "2", "a": "1"}), "a=1,b=2"},
		{"result-true", Result(metav1.ConditionTrue), "Succeeded"},
		{"result-false", Result(metav1.ConditionFalse), "Failed"},
		{"result-unknown", Result(metav1.ConditionUnknown), "Running"},
		{"result-unset", Result(""), "---"},
		{"one-line", OneLine("a\n  b\tc "), "a b c"},
		{"bool", Bool(true) + Bool(false), "truefalse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}
