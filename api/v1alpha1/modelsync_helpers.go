package v1alpha1

import (
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Defaults of the optional spec fields. The API server fills them in through the CRD schema;
// these are used when an object did not pass through it (files read by the KRM functions).
const (
	DefaultInterval     = 5 * time.Minute
	DefaultTimeout      = 30 * time.Second
	DefaultHistoryLimit = int32(10)
)

// GetInterval returns spec.interval or its default.
func (m *ModelSync) GetInterval() time.Duration {
	if m.Spec.Interval == nil || m.Spec.Interval.Duration <= 0 {
		return DefaultInterval
	}
	return m.Spec.Interval.Duration
}

// GetTimeout returns spec.timeout or its default.
func (m *ModelSync) GetTimeout() time.Duration {
	if m.Spec.Timeout == nil || m.Spec.Timeout.Duration <= 0 {
		return DefaultTimeout
	}
	return m.Spec.Timeout.Duration
}

// GetSuccessfulHistoryLimit returns spec.successfulPipelineRunsHistoryLimit or its default.
func (m *ModelSync) GetSuccessfulHistoryLimit() int32 {
	return limitOrDefault(m.Spec.SuccessfulPipelineRunsHistoryLimit)
}

// GetFailedHistoryLimit returns spec.failedPipelineRunsHistoryLimit or its default.
func (m *ModelSync) GetFailedHistoryLimit() int32 {
	return limitOrDefault(m.Spec.FailedPipelineRunsHistoryLimit)
}

func limitOrDefault(p *int32) int32 {
	if p == nil {
		return DefaultHistoryLimit
	}
	return *p
}

// GetConditions returns the status conditions (for condition helpers and kstatus).
func (m *ModelSync) GetConditions() []metav1.Condition { return m.Status.Conditions }

// SetConditions replaces the status conditions.
func (m *ModelSync) SetConditions(c []metav1.Condition) { m.Status.Conditions = c }

// IsReady reports whether the Ready condition is True.
func (m *ModelSync) IsReady() bool {
	return meta.IsStatusConditionTrue(m.Status.Conditions, ConditionReady)
}
