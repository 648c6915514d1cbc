package localrun

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"

	"github.com/modelsync/modelsync/plugin/steplogs"
)

const twoTasks = `
apiVersion: v1
kind: Secret
metadata:
  name: creds
stringData:
  token: s3cret
---
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: produce
spec:
  params:
    - name: greeting
    - name: suffix
      default: "!"
    - name: secret
      default: creds
  workspaces:
    - name: shared
  results:
    - name: word
  steps:
    - name: write
      image: busybox
      env:
        - name: TOKEN
          valueFrom:
            secretKeyRef: {name: $(params.secret), key: token}
        - name: MISSING
          valueFrom:
            secretKeyRef: {name: nope, key: token, optional: true}
      script: |
        #!/bin/sh
        echo "hello from $(context.task.name) in $(context.taskRun.name)"
        echo "token=$TOKEN missing=${MISSING-unset}"
        printf '%s%s' "$(params.greeting)" "$(params["suffix"])" > $(workspaces.shared.path)/greeting
        printf 'world' > $(results.word.path)
---
apiVersion: tekton.dev/v1
kind: Pipeline
metadata:
  name: two
spec:
  params:
    - name: greeting
      default: hi
    - name: who
  workspaces:
    - name: ws
  results:
    - name: said
      value: $(tasks.consume.results.said)
  tasks:
    - name: consume
      runAfter: [produce]
      params:
        - name: word
          value: $(tasks.produce.results.word)
        - name: who
          value: $(params.who)
      workspaces:
        - name: shared
          workspace: ws
      taskSpec:
        params:
          - name: word
          - name: who
        workspaces:
          - name: shared
        results:
          - name: said
        stepTemplate:
          env:
            - name: FROM_TEMPLATE
              value: tmpl-$(params.who)
        steps:
          - name: plain
            script: |
              echo "no shebang: $FROM_TEMPLATE"
              cat /workspace/shared/greeting > /tekton/results/said
              echo " $(params.word)" >> /tekton/results/said
          - name: cmd
            command: [printf]
            args: ["%s-%s\n", "$(params.word)", "$(params.who)"]
    - name: produce
      params:
        - name: greeting
          value: $(params.greeting)
      workspaces:
        - name: shared
          workspace: ws
      taskRef:
        name: produce
---
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: two-1
spec:
  pipelineRef:
    name: two
  params:
    - name: who
      value: bob
    - name: extra
      value: ignored
  workspaces:
    - name: ws
      emptyDir: {}
`

func TestTwoTasks(t *testing.T) {
	ns := env.Namespace(t)
	r := newRunner(t)
	u := runNow(t, r, ns, "two-1", twoTasks)
	wantCondition(t, u, "True", ReasonSucceeded)
	for _, f := range []string{"startTime", "completionTime"} {
		if v, _, _ := unstructured.NestedString(u.Object, "status", f); v == "" {
			t.Errorf("status.%s is empty", f)
		}
	}
	results, _, _ := unstructured.NestedSlice(u.Object, "status", "results")
	if len(results) != 1 || results[0].(map[string]any)["value"] != "hi! world\n" {
		t.Errorf("status.results = %v, want said=%q", results, "hi! world\n")
	}
	children, _, _ := unstructured.NestedSlice(u.Object, "status", "childReferences")
	var names []string
	for _, c := range children {
		m := c.(map[string]any)
		names = append(names, m["kind"].(string)+"/"+m["name"].(string)+"/"+m["pipelineTaskName"].(string))
	}
	if got, want := strings.Join(names, ","), "TaskRun/two-1-produce/produce,TaskRun/two-1-consume/consume"; got != want {
		t.Errorf("childReferences = %s, want %s", got, want)
	}
	tr, err := dyn(t).Resource(taskRunsGVR).Namespace(ns).Get(context.Background(), "two-1-consume", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantCondition(t, tr, "True", ReasonSucceeded)

	kube := kubernetes.NewForConfigOrDie(env.Config)
	pod, err := kube.CoreV1().Pods(ns).Get(context.Background(), "two-1-consume-pod", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pod.Status.Phase != corev1.PodSucceeded || pod.Labels["tekton.dev/pipelineRun"] != "two-1" || pod.OwnerReferences[0].Kind != "PipelineRun" {
		t.Errorf("pod: phase %s, labels %v, owners %v", pod.Status.Phase, pod.Labels, pod.OwnerReferences)
	}

	// The logs, through the API server's pods/log, as kubectl modelsync logs reads them.
	var steps []steplogs.Step
	for _, task := range []string{"produce", "consume"} { // pods created within a second sort by name
		s, err := steplogs.Discover(context.Background(), kube, ns, "two-1", task)
		if err != nil {
			t.Fatal(err)
		}
		steps = append(steps, s...)
	}
	var out bytes.Buffer
	for _, s := range steps {
		rc, err := steplogs.Kubelet{Client: kube}.Open(context.Background(), s, true)
		if err != nil {
			t.Fatal(err)
		}
		if err := steplogs.Copy(&out, s, rc); err != nil {
			t.Fatal(err)
		}
		rc.Close()
	}
	want := `[produce : write] hello from produce in two-1-produce
[produce : write] token=s3cret missing=unset
[consume : plain] no shebang: tmpl-bob
[consume : cmd] world-bob
`
	if out.String() != want {
		t.Errorf("logs:\n%s\nwant:\n%s", out.String(), want)
	}

	// And unchanged kubectl reads them too.
	if _, err := exec.LookPath("kubectl"); err == nil {
		got, err := exec.Command("kubectl", "--kubeconfig", env.Kubeconfig, "-n", ns, "logs", "two-1-consume-pod", "-c", "step-cmd").CombinedOutput()
		if err != nil || string(got) != "world-bob\n" {
			t.Errorf("kubectl logs: %q, %v", got, err)
		}
	}
}

func TestFailingStep(t *testing.T) {
	ns := env.Namespace(t)
	r := newRunner(t)
	marker := filepath.Join(t.TempDir(), "ran")
	u := runNow(t, r, ns, "fails", `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: fails
spec:
  pipelineSpec:
    tasks:
      - name: first
        taskSpec:
          steps:
            - name: ok
              script: echo fine
            - name: boom
              script: |
                echo about to fail
                exit 3
            - name: after
              command: [touch, `+marker+`]
      - name: second
        runAfter: [first]
        taskSpec:
          steps:
            - name: never
              command: [touch, `+marker+`]
`)
	wantCondition(t, u, "False", ReasonFailed, `task "first"`, `"step-boom" exited with code 3`)
	if _, err := os.Stat(marker); err == nil {
		t.Error("a step after the failing one ran")
	}
	kube := kubernetes.NewForConfigOrDie(env.Config)
	if _, err := kube.CoreV1().Pods(ns).Get(context.Background(), "fails-second-pod", metav1.GetOptions{}); err == nil {
		t.Error("the task after the failing one started")
	}
	// The failed step's log is still readable.
	rc, err := kube.CoreV1().Pods(ns).GetLogs("fails-first-pod", &corev1.PodLogOptions{Container: "step-boom"}).Stream(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	data, _ := io.ReadAll(rc)
	if string(data) != "about to fail\n" {
		t.Errorf("log of step-boom = %q", data)
	}
}

func TestUnsupported(t *testing.T) {
	cases := []struct {
		name, spec, reason, msg string
	}{
		{"finally", `pipelineSpec:
    tasks: [{name: a, taskSpec: {steps: [{name: s, script: "true"}]}}]
    finally: [{name: f, taskSpec: {steps: [{name: s, script: "true"}]}}]`, ReasonValidationFailed, "localrun does not support spec.pipelineSpec: finally"},
		{"when", `pipelineSpec:
    tasks: [{name: a, when: [{input: "x", operator: in, values: ["x"]}], taskSpec: {steps: [{name: s, script: "true"}]}}]`, ReasonValidationFailed, `task "a": when`},
		{"resolver", `pipelineRef:
    resolver: git
    params: [{name: url, value: https://example.com/x.git}]`, ReasonCouldntGetPipeline, "spec.pipelineRef.resolver"},
		{"task-resolver", `pipelineSpec:
    tasks: [{name: a, taskRef: {resolver: hub}}]`, ReasonCouldntGetTask, "taskRef.resolver"},
		{"missing-pipeline", `pipelineRef: {name: nowhere}`, ReasonCouldntGetPipeline, `"nowhere"`},
		{"missing-task", `pipelineSpec:
    tasks: [{name: a, taskRef: {name: nowhere}}]`, ReasonCouldntGetTask, `task "nowhere" not found`},
		{"missing-param", `pipelineSpec:
    params: [{name: p}]
    tasks: [{name: a, taskSpec: {steps: [{name: s, script: "true"}]}}]`, ReasonParameterMissing, "p"},
		{"unknown-variable", `pipelineSpec:
    tasks: [{name: a, taskSpec: {steps: [{name: s, script: "echo $(params.nope)"}]}}]`, ReasonValidationFailed, "$(params.nope)"},
		{"sidecars", `pipelineSpec:
    tasks: [{name: a, taskSpec: {sidecars: [{name: db, image: x}], steps: [{name: s, script: "true"}]}}]`, ReasonValidationFailed, "sidecars"},
	}
	ns := env.Namespace(t)
	r := newRunner(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := runNow(t, r, ns, c.name, "apiVersion: tekton.dev/v1\nkind: PipelineRun\nmetadata:\n  name: "+c.name+"\nspec:\n  "+c.spec+"\n")
			wantCondition(t, u, "False", c.reason, c.msg)
			if c.reason != ReasonCouldntGetPipeline && c.reason != ReasonCouldntGetTask && !strings.Contains(c.name, "param") && !strings.Contains(c.name, "variable") {
				wantCondition(t, u, "False", c.reason, "localrun does not support")
			}
		})
	}
}

func TestArrayParams(t *testing.T) {
	ns := env.Namespace(t)
	r := newRunner(t)
	u := runNow(t, r, ns, "arrays", `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: arrays
spec:
  params:
    - name: list
      value: [a, "b c"]
  pipelineSpec:
    params:
      - name: list
        type: array
      - name: empty
        type: array
        default: []
    tasks:
      - name: show
        params:
          - name: items
            value: ["$(params.list[*])", "$(params.empty[*])", "last-$(params.list[0])"]
        taskSpec:
          params:
            - name: items
              type: array
          steps:
            - name: args
              args: ["$(params.items[*])"]
              script: |
                #!/bin/sh
                echo "n=$# second=$(params.items[1])"
                for a in "$@"; do echo "[$a]"; done
`)
	wantCondition(t, u, "True", ReasonSucceeded)
	data, err := os.ReadFile(filepath.Join(r.opts.Dir, ns, "arrays", "tasks", "show", "logs", "step-args.log"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "n=3 second=b c\n[a]\n[b c]\n[last-a]\n"; string(data) != want {
		t.Errorf("log = %q, want %q", data, want)
	}
}
