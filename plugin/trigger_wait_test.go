package plugin_test

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
)

// controllerPlay is what the test, playing the controller and Tekton, does once the trigger is written.
type controllerPlay int

const (
	playNothing     controllerPlay = iota // no controller: the wait times out
	playRunSucceeds                       // start run 2, report progress, succeed
	playRunFails                          // start run 2, report progress, fail
	playNoSync                            // the lambda says no sync is needed
	playCheckFails                        // the lambda check fails
)

// playController waits for the trigger annotation on ms and answers it as the controller would.
func playController(t *testing.T, ms *automlv1alpha1.ModelSync, play controllerPlay, out *syncBuffer) {
	var at string
	for deadline := time.Now().Add(20 * time.Second); at == ""; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Errorf("the trigger annotation never appeared on %s", ms.Name)
			return
		}
		at = getModelSync(t, ms.Namespace, ms.Name).Annotations[automlv1alpha1.AnnotationRequestedAt]
	}
	fresh := getModelSync(t, ms.Namespace, ms.Name)
	switch play {
	case playNoSync, playCheckFails:
		setStatus(t, fresh, func(s *automlv1alpha1.ModelSyncStatus) {
			s.LastHandledTriggerAt = at
			s.LastNeedsSync = &automlv1alpha1.NeedsSyncResult{Time: *ago(0)}
			if play == playCheckFails {
				s.LastNeedsSync.Error = "GET http://lambdas/needsSync: HTTP 500"
			}
		})
		return
	}
	run := newRun(t, fresh, 2, automlv1alpha1.TriggerManual, map[string]string{"name": "model-2"}, runState{})
	setStatus(t, fresh, func(s *automlv1alpha1.ModelSyncStatus) {
		s.LastHandledTriggerAt = at
		s.LastRun = &automlv1alpha1.RunStatus{Name: run.GetName(), Number: 2, Trigger: automlv1alpha1.TriggerManual}
	})
	out.waitFor(t, run.GetName()+": started")
	setRunStatus(t, run, runState{Succeeded: metav1.ConditionUnknown, Reason: "Running", Message: "Tasks Completed: 1 (Failed: 0, Cancelled 0), Skipped: 0", Started: 2 * time.Minute})
	out.waitFor(t, "Tasks Completed: 1")
	final := runState{Succeeded: metav1.ConditionTrue, Reason: "Succeeded", Message: "Tasks Completed: 3 (Failed: 0, Cancelled 0), Skipped: 0", Started: 2 * time.Minute, Took: 2 * time.Minute}
	if play == playRunFails {
		final = runState{Succeeded: metav1.ConditionFalse, Reason: "Failed", Message: "Tasks Completed: 2 (Failed: 1, Cancelled 0), Skipped: 1", Started: 2 * time.Minute, Took: 90 * time.Second}
	}
	setRunStatus(t, run, final)
}

func TestTriggerWait(t *testing.T) {
	ns := namespace(t, "trigger-wait")
	tests := []struct {
		name  string
		play  controllerPlay
		extra []string
	}{
		{"succeeded", playRunSucceeds, []string{"--force", "--param", "name=model-2"}},
		{"failed", playRunFails, nil},
		{"no-sync", playNoSync, nil},
		{"check-failed", playCheckFails, nil},
		{"timeout", playNothing, []string{"--timeout", "300ms"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := newModelSync(t, ns, tt.name, nil)
			newRun(t, ms, 1, automlv1alpha1.TriggerInterval, map[string]string{"name": "model-1"},
				runState{Succeeded: metav1.ConditionTrue, Reason: "Succeeded", Started: time.Hour, Took: time.Minute})
			out := &syncBuffer{}
			done := make(chan struct{})
			go func() {
				defer close(done)
				if tt.play != playNothing {
					playController(t, ms, tt.play, out)
				}
			}()
			r := kubectl(context.Background(), options{stdout: out}, append([]string{"trigger", tt.name, "-n", ns, "--wait"}, tt.extra...)...)
			<-done
			assertGolden(t, r)
		})
	}
}
