package controller

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
)

const (
	eventNormal  = "Normal"
	eventWarning = "Warning"
)

// event is a Kubernetes event waiting for the status it describes to be written.
type event struct {
	kind, reason, action, note string
	// finishedResult, when set, counts the event in modelsync_runs_finished_total.
	finishedResult string
}

func newEvent(kind, reason, action, note string) event {
	return event{kind: kind, reason: reason, action: action, note: note}
}

// emit logs a message and records it as an event on the ModelSync: the one place where both happen.
func (r *Reconciler) emit(ctx context.Context, ms *automlv1alpha1.ModelSync, kind, reason, action, note string) {
	log := ctrl.LoggerFrom(ctx)
	if kind == eventWarning {
		log.Info(note, "reason", reason, "warning", true)
	} else {
		log.Info(note, "reason", reason)
	}
	if r.Recorder != nil {
		r.Recorder.Eventf(ms, nil, kind, reason, action, "%s", note)
	}
}

// finishedEvent describes a run that finished.
func finishedEvent(rn *run) event {
	if rn.succeededOK() {
		return event{eventNormal, "RunSucceeded", "Finish",
			fmt.Sprintf("PipelineRun %s succeeded (%s)", rn.name(), orDash(rn.reason)), "succeeded"}
	}
	return event{eventWarning, "RunFailed", "Finish",
		fmt.Sprintf("PipelineRun %s failed (%s)", rn.name(), orDash(rn.reason)), "failed"}
}

func orDash(s string) string {
	if s == "" {
		return "---"
	}
	return s
}

// setCondition sets a condition; the transition time changes only when the status does.
func setCondition(ms *automlv1alpha1.ModelSync, kind string, status bool, reason, message string) {
	s := metav1.ConditionFalse
	if status {
		s = metav1.ConditionTrue
	}
	setConditionStatus(ms, kind, s, reason, message)
}

func setConditionStatus(ms *automlv1alpha1.ModelSync, kind string, status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(&ms.Status.Conditions, metav1.Condition{
		Type: kind, Status: status, Reason: reason, Message: message, ObservedGeneration: ms.Generation,
	})
}

func hasReason(ms *automlv1alpha1.ModelSync, kind, reason string) bool {
	c := meta.FindStatusCondition(ms.Status.Conditions, kind)
	return c != nil && c.Reason == reason
}

func hasMessage(ms *automlv1alpha1.ModelSync, kind, message string) bool {
	c := meta.FindStatusCondition(ms.Status.Conditions, kind)
	return c != nil && c.Message == message
}
