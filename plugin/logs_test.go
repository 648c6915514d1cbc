package plugin_test

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
)

func TestLogs(t *testing.T) {
	ns := namespace(t, "logs")
	ms := newModelSync(t, ns, "deployer", nil)
	newModelSync(t, ns, "idle", nil)
	newRun(t, ms, 1, automlv1alpha1.TriggerInterval, nil, runState{Succeeded: metav1.ConditionTrue, Started: time.Hour, Took: time.Minute})
	newRun(t, ms, 2, automlv1alpha1.TriggerManual, nil, runState{Succeeded: metav1.ConditionFalse, Started: time.Minute, Took: time.Minute})
	newPod(t, ns, "deployer-1", "clone", "git")
	newPod(t, ns, "deployer-2", "clone", "git", "checkout")
	newPod(t, ns, "deployer-2", "set-model", "kpt-fn")
	source := mapSource{
		"deployer-1-clone-pod/step-git":      "cloned at abc123\n",
		"deployer-2-clone-pod/step-git":      "Cloning into '/workspace/repo'...\ncloned at def456\n",
		"deployer-2-clone-pod/step-checkout": "switched to branch auto-update", // no final newline
		"deployer-2-set-model-pod/step-kpt-fn": "[RUNNING] set-automl-model\n" +
			"[FAIL] no ConfigMap holds key automl-model\n",
	}
	tests := []struct {
		name string
		args []string
	}{
		{"modelsync-newest", []string{"logs", "deployer", "-n", ns}},
		{"run", []string{"logs", "deployer-1", "-n", ns}},
		{"task", []string{"logs", "deployer", "-n", ns, "--task", "set-model"}},
		{"unknown-task", []string{"logs", "deployer", "-n", ns, "--task", "train"}},
		{"no-runs", []string{"logs", "idle", "-n", ns}},
		{"unknown", []string{"logs", "nope", "-n", ns}},
		{"forbidden", []string{"logs", "deployer", "-n", ns, "--as", "nobody"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertGolden(t, kubectl(context.Background(), options{logs: source}, tt.args...))
		})
	}
}

func TestLogsRunWithoutPods(t *testing.T) {
	ns := namespace(t, "logs-no-pods")
	ms := newModelSync(t, ns, "deployer", nil)
	newRun(t, ms, 1, automlv1alpha1.TriggerInterval, nil, runState{})
	assertGolden(t, kubectl(context.Background(), options{logs: mapSource{}}, "logs", "deployer", "-n", ns))
}

// TestLogsFollow follows a run whose second task starts while the command runs.
func TestLogsFollow(t *testing.T) {
	ns := namespace(t, "logs-follow")
	ms := newModelSync(t, ns, "trainer", nil)
	run := newRun(t, ms, 1, automlv1alpha1.TriggerInterval, nil, runState{Succeeded: metav1.ConditionUnknown, Reason: "Running", Started: time.Minute})
	newPod(t, ns, "trainer-1", "papermill", "run")
	source := mapSource{
		"trainer-1-papermill-pod/step-run":  "Executing notebook train.ipynb\nprecision@0.5: 0.91\n",
		"trainer-1-upload-pod/step-upload":  "uploaded models/model-3/model.json\n",
		"trainer-1-upload-pod/step-archive": "archived report.html\n",
	}
	out := &syncBuffer{}
	done := make(chan result)
	go func() {
		done <- kubectl(context.Background(), options{logs: source, stdout: out}, "logs", "trainer", "-n", ns, "-f")
	}()
	out.waitFor(t, "precision@0.5")
	newPod(t, ns, "trainer-1", "upload", "upload", "archive")
	out.waitFor(t, "archived report.html")
	select {
	case r := <-done:
		t.Fatalf("logs -f ended while the run was running:\n%s", r)
	case <-time.After(100 * time.Millisecond):
	}
	setRunStatus(t, run, runState{Succeeded: metav1.ConditionTrue, Reason: "Succeeded", Started: time.Minute, Took: time.Minute})
	select {
	case r := <-done:
		assertGolden(t, r)
	case <-time.After(20 * time.Second):
		t.Fatal("logs -f did not end after the run finished")
	}
}
