package localrun

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/modelsync/modelsync/internal/testutil"
)

const sleeper = `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: NAME
spec:
  TIMEOUTS
  pipelineSpec:
    tasks:
      - name: nap
        taskSpec:
          steps:
            - name: sleep
              script: |
                echo sleeping
                sleep 60
`

func sleeperRun(name, timeouts string) string {
	return strings.NewReplacer("NAME", name, "TIMEOUTS", timeouts).Replace(sleeper)
}

func TestTimeout(t *testing.T) {
	ns := env.Namespace(t)
	r := newRunner(t)
	start := time.Now()
	u := runNow(t, r, ns, "slow", sleeperRun("slow", "timeouts: {pipeline: 2s}"))
	wantCondition(t, u, "False", ReasonTimeout, `"2s"`)
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("the timeout took %s to end the run", d)
	}
}

// TestStart covers the watch: a new run is executed, a cancelled one ends Cancelled, and a
// run left Running by an earlier runner is marked Failed.
func TestStart(t *testing.T) {
	ns := env.Namespace(t)
	d := dyn(t).Resource(pipelineRunsGVR).Namespace(ns)
	ctx := context.Background()

	// A run an earlier runner left behind.
	apply(t, ns, sleeperRun("orphan", ""))
	orphan := getRun(t, ns, "orphan")
	setCondition(orphan, "Unknown", ReasonRunning, "")
	if _, err := d.UpdateStatus(ctx, orphan, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	r := newRunner(t, func(o *Options) { o.Namespace = ns })
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Start(runCtx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Start: %v", err)
		}
	}()

	waitFor := func(name, status, reason string) *unstructured.Unstructured {
		var u *unstructured.Unstructured
		testutil.Eventually(t, 30*time.Second, func() (bool, string) {
			u = getRun(t, ns, name)
			s, r, m := condition(u)
			return s == status && r == reason, "condition " + s + "/" + r + ": " + m
		})
		return u
	}
	waitFor("orphan", "False", ReasonFailed)
	if _, _, m := condition(getRun(t, ns, "orphan")); !strings.Contains(m, "restarted") {
		t.Errorf("orphan message = %q", m)
	}

	apply(t, ns, `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: quick
spec:
  pipelineSpec:
    tasks:
      - name: hello
        taskSpec:
          steps:
            - name: echo
              command: [echo, hi]
`)
	waitFor("quick", "True", ReasonSucceeded)

	apply(t, ns, sleeperRun("cancel-me", ""))
	waitFor("cancel-me", "Unknown", ReasonRunning)
	patch := []byte(`{"spec":{"status":"Cancelled"}}`)
	if _, err := d.Patch(ctx, "cancel-me", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor("cancel-me", "False", ReasonCancelled)

	// Stopping the runner fails what is still running.
	apply(t, ns, sleeperRun("interrupted", ""))
	waitFor("interrupted", "Unknown", ReasonRunning)
	stop()
	if err := <-done; err != nil {
		t.Errorf("Start: %v", err)
	}
	done <- nil // for the deferred stop
	wantCondition(t, getRun(t, ns, "interrupted"), "False", ReasonFailed, "stopped")
}

func TestTaskTimeout(t *testing.T) {
	ns := env.Namespace(t)
	r := newRunner(t)
	u := runNow(t, r, ns, "task-timeout", `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: task-timeout
spec:
  pipelineSpec:
    tasks:
      - name: nap
        timeout: 1s
        taskSpec:
          steps:
            - name: sleep
              command: [sleep, "60"]
`)
	wantCondition(t, u, "False", ReasonFailed, `task "nap" exceeded its timeout of 1s`)
}

// TestFollowLogs reads a step's log through the API server while the step still runs.
func TestFollowLogs(t *testing.T) {
	ns := env.Namespace(t)
	r := newRunner(t)
	apply(t, ns, `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: chatty
spec:
  pipelineSpec:
    tasks:
      - name: talk
        taskSpec:
          steps:
            - name: talk
              script: |
                echo first
                sleep 2
                echo second
`)
	ran := make(chan error, 1)
	go func() { ran <- r.Run(context.Background(), ns, "chatty") }()
	kube := kubernetes.NewForConfigOrDie(env.Config)
	var rc io.ReadCloser
	testutil.Eventually(t, 30*time.Second, func() (bool, string) {
		var err error
		rc, err = kube.CoreV1().Pods(ns).GetLogs("chatty-talk-pod", &corev1.PodLogOptions{Container: "step-talk", Follow: true}).Stream(context.Background())
		return err == nil, fmt.Sprint(err)
	})
	defer rc.Close()
	br := bufio.NewReader(rc)
	line, err := br.ReadString('\n')
	if err != nil || line != "first\n" {
		t.Fatalf("first line = %q, %v", line, err)
	}
	if s, _, _ := condition(getRun(t, ns, "chatty")); s != "Unknown" {
		t.Errorf("the run had already ended (%s) when its first line arrived", s)
	}
	rest, err := io.ReadAll(br)
	if err != nil || string(rest) != "second\n" {
		t.Errorf("rest = %q, %v", rest, err)
	}
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
	wantCondition(t, getRun(t, ns, "chatty"), "True", ReasonSucceeded)
}
