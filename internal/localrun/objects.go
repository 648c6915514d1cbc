package localrun

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sync"
	"time"

	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
)

// AnnotationLogDir on a step pod names the folder that holds <container>.log for each of its
// steps: where the logs are when no log server runs.
const AnnotationLogDir = "localrun.modelsync.dev/log-dir"

// Tekton's labels on TaskRuns and pods.
const (
	labelPipelineRun  = "tekton.dev/pipelineRun"
	labelPipelineTask = "tekton.dev/pipelineTask"
	labelPipeline     = "tekton.dev/pipeline"
	labelTaskRun      = "tekton.dev/taskRun"
	labelTask         = "tekton.dev/task"
	labelManagedBy    = "app.kubernetes.io/managed-by"
)

func (tc *taskContext) labels() map[string]string {
	return map[string]string{
		labelPipelineRun: tc.e.run.Name, labelPipelineTask: tc.t.Name, labelPipeline: tc.e.plan.pipelineName,
		labelTaskRun: tc.taskRun, labelTask: tc.t.taskName, labelManagedBy: "localrun",
	}
}

func (tc *taskContext) owner() []metav1.OwnerReference {
	return []metav1.OwnerReference{{
		APIVersion: "tekton.dev/v1", Kind: "PipelineRun", Name: tc.e.run.Name, UID: tc.e.run.UID,
		Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
	}}
}

// createTaskRun records the task as a TaskRun (best effort: the run does not depend on it).
func (r *Runner) createTaskRun(ctx context.Context, tc *taskContext, start time.Time) {
	spec, err := toMap(tc.t.spec)
	if err != nil {
		return
	}
	params := []any{}
	for _, p := range tc.t.Params {
		var v any = tc.params[p.Name].StringVal
		if tc.params[p.Name].Type == v1.ParamTypeArray {
			v = toAny(tc.params[p.Name].ArrayVal)
		}
		params = append(params, map[string]any{"name": p.Name, "value": v})
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "tekton.dev/v1", "kind": "TaskRun",
		"spec": map[string]any{"taskSpec": spec, "params": params},
	}}
	u.SetName(tc.taskRun)
	u.SetNamespace(tc.e.run.Namespace)
	u.SetLabels(tc.labels())
	u.SetOwnerReferences(tc.owner())
	if _, err := r.dyn.Resource(taskRunsGVR).Namespace(tc.e.run.Namespace).Create(ctx, u, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		r.progressf("task %s/%s: failed to create taskrun %s: %v", tc.e.id(), tc.t.Name, tc.taskRun, err)
		return
	}
	_ = updateStatus(ctx, r, taskRunsGVR.Resource, tc.e.run.Namespace, tc.taskRun, func(obj *unstructured.Unstructured) bool {
		setTime(obj, "startTime", start)
		setCondition(obj, "Unknown", ReasonRunning, "Not all Steps in the Task have finished executing")
		_ = unstructured.SetNestedField(obj.Object, tc.pod, "status", "podName")
		return true
	})
}

func (r *Runner) finishTaskRun(ctx context.Context, tc *taskContext, start time.Time, results map[string]string, stepErr error) {
	ctx = context.WithoutCancel(ctx)
	_ = updateStatus(ctx, r, taskRunsGVR.Resource, tc.e.run.Namespace, tc.taskRun, func(obj *unstructured.Unstructured) bool {
		setTime(obj, "startTime", start)
		setTime(obj, "completionTime", time.Now())
		if stepErr != nil {
			setCondition(obj, "False", ReasonFailed, stepErr.Error())
		} else {
			setCondition(obj, "True", ReasonSucceeded, "All Steps have completed executing")
		}
		var res []any
		for _, decl := range tc.t.spec.Results {
			if v, ok := results[decl.Name]; ok {
				res = append(res, map[string]any{"name": decl.Name, "type": "string", "value": v})
			}
		}
		if res != nil {
			_ = unstructured.SetNestedSlice(obj.Object, res, "status", "results")
		}
		return true
	})
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func toMap(v any) (map[string]any, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(data, &m)
}

// createPod creates the pod that stands for the task: one container per step, bound to the
// runner's Node so that the API server asks the runner for the step logs.
func (r *Runner) createPod(ctx context.Context, tc *taskContext) {
	steps := tc.t.spec.Steps
	logDir := filepath.Join(tc.dir, "logs")
	tc.pstate = &podState{r: r, ns: tc.e.run.Namespace, name: tc.pod, statuses: make([]corev1.ContainerStatus, len(steps))}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: tc.pod, Namespace: tc.e.run.Namespace, Labels: tc.labels(),
			Annotations:     map[string]string{AnnotationLogDir: logDir},
			OwnerReferences: tc.owner(),
		},
		Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, AutomountServiceAccountToken: ptr.To(false)},
	}
	if r.serving() {
		pod.Spec.NodeName = r.opts.NodeName
	}
	for i, st := range steps {
		image := st.Image
		if image == "" && tc.t.spec.StepTemplate != nil {
			image = tc.t.spec.StepTemplate.Image
		}
		if v, err := expand(image, tc.vars); err == nil && v != "" {
			image = v
		} else {
			image = "localrun"
		}
		name := "step-" + st.Name
		pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: name, Image: image})
		tc.pstate.statuses[i] = corev1.ContainerStatus{
			Name: name, Image: image,
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "PodInitializing"}},
		}
		tc.pstate.logs = append(tc.pstate.logs, r.logs.add(pod.Namespace, pod.Name, name, filepath.Join(logDir, name+".log")))
	}
	if _, err := r.kube.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		r.progressf("task %s/%s: failed to create pod %s: %v", tc.e.id(), tc.t.Name, tc.pod, err)
		tc.pstate.broken = true
		return
	}
	tc.pstate.write(ctx, corev1.PodPending)
}

func (r *Runner) finishPod(ctx context.Context, tc *taskContext, ok bool) {
	phase := corev1.PodSucceeded
	if !ok {
		phase = corev1.PodFailed
	}
	tc.pstate.write(context.WithoutCancel(ctx), phase)
}

// podState is the status of a task's pod, written as its steps start and end.
type podState struct {
	r        *Runner
	ns, name string
	broken   bool

	mu       sync.Mutex
	phase    corev1.PodPhase
	statuses []corev1.ContainerStatus
	logs     []*stepLog
}

func (p *podState) start(i int, at time.Time) {
	p.mu.Lock()
	p.statuses[i].State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(at)}}
	p.statuses[i].Started = ptr.To(true)
	p.logs[i].setStarted()
	p.mu.Unlock()
	p.write(context.Background(), corev1.PodRunning)
}

func (p *podState) finish(i, code int, reason string, started *time.Time) {
	p.mu.Lock()
	term := &corev1.ContainerStateTerminated{ExitCode: int32(code), Reason: reason, FinishedAt: metav1.Now()}
	if started != nil {
		term.StartedAt = metav1.NewTime(*started)
	}
	p.statuses[i].State = corev1.ContainerState{Terminated: term}
	p.statuses[i].Started = ptr.To(false)
	p.logs[i].setDone()
	p.mu.Unlock()
	p.write(context.Background(), corev1.PodRunning)
}

// skip ends a step that never ran.
func (p *podState) skip(i int) {
	p.mu.Lock()
	p.logs[i].setDone()
	p.mu.Unlock()
}

func (p *podState) write(ctx context.Context, phase corev1.PodPhase) {
	if p.broken {
		return
	}
	p.mu.Lock()
	statuses := append([]corev1.ContainerStatus(nil), p.statuses...)
	p.mu.Unlock()
	pods := p.r.kube.CoreV1().Pods(p.ns)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		pod, err := pods.Get(ctx, p.name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		pod.Status.Phase = phase
		if pod.Status.StartTime == nil {
			pod.Status.StartTime = ptr.To(metav1.Now())
		}
		pod.Status.HostIP, pod.Status.PodIP = "127.0.0.1", "127.0.0.1"
		pod.Status.ContainerStatuses = statuses
		_, err = pods.UpdateStatus(ctx, pod, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		p.r.progressf("pod %s/%s: failed to update its status: %v", p.ns, p.name, err)
	}
}
