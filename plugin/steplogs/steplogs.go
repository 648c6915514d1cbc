// Package steplogs finds the steps of a Tekton PipelineRun and prints their logs.
//
// Steps are found from the API server: the run's pods carry the tekton.dev/pipelineRun label,
// and each step is a container named step-<name>. The log bytes come from a Source: the
// kubelet's (through the API server) on a cluster, or any other implementation that serves the
// same steps (tests, and the demo's local runner, which runs steps as host processes).
package steplogs

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
)

// Tekton's labels on the pods of a run, and the prefix of its step containers.
const (
	LabelPipelineRun  = "tekton.dev/pipelineRun"
	LabelPipelineTask = "tekton.dev/pipelineTask"
	LabelTaskRun      = "tekton.dev/taskRun"
	StepPrefix        = "step-"
)

// Step is one step container of a run.
type Step struct {
	Namespace string
	Pod       string
	// Container is the container name, step-<Name>.
	Container string
	// Task is the pipeline task the step belongs to.
	Task string
	// Name is the step name.
	Name string
}

// Key identifies the step within a namespace: pod/container.
func (s Step) Key() string { return s.Pod + "/" + s.Container }

// Source opens the log stream of one step. With follow, the stream stays open until the step's
// container ends.
type Source interface {
	Open(ctx context.Context, step Step, follow bool) (io.ReadCloser, error)
}

// Discover lists the pods of a run in one request and returns their steps: pods in the order
// they were created, steps in the order of the pod's containers. A non-empty task keeps only
// that pipeline task's steps.
func Discover(ctx context.Context, kube kubernetes.Interface, namespace, run, task string) ([]Step, error) {
	sel := labels.Set{LabelPipelineRun: run}
	if task != "" {
		sel[LabelPipelineTask] = task
	}
	pods, err := kube.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, fmt.Errorf("failed to list the pods of pipelinerun %q in namespace %q: %w", run, namespace, err)
	}
	items := pods.Items
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i].CreationTimestamp, items[j].CreationTimestamp
		if !a.Equal(&b) {
			return a.Before(&b)
		}
		return items[i].Name < items[j].Name
	})
	var steps []Step
	for i := range items {
		steps = append(steps, podSteps(&items[i])...)
	}
	return steps, nil
}

func podSteps(pod *corev1.Pod) []Step {
	task := pod.Labels[LabelPipelineTask]
	if task == "" {
		task = pod.Labels[LabelTaskRun]
	}
	if task == "" {
		task = pod.Name
	}
	var steps []Step
	for _, c := range pod.Spec.Containers {
		name, ok := strings.CutPrefix(c.Name, StepPrefix)
		if !ok {
			continue // sidecars
		}
		steps = append(steps, Step{Namespace: pod.Namespace, Pod: pod.Name, Container: c.Name, Task: task, Name: name})
	}
	return steps
}

// Tasks returns the distinct task names of steps, in order.
func Tasks(steps []Step) []string {
	var tasks []string
	for _, s := range steps {
		if len(tasks) == 0 || tasks[len(tasks)-1] != s.Task {
			tasks = append(tasks, s.Task)
		}
	}
	return tasks
}

// Copy writes each line of r to out prefixed by "[task : step] ". A last line without a
// newline gets one.
func Copy(out io.Writer, step Step, r io.Reader) error {
	prefix := "[" + step.Task + " : " + step.Name + "] "
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			if !strings.HasSuffix(line, "\n") {
				line += "\n"
			}
			if _, werr := io.WriteString(out, prefix+line); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("failed to read the log of step %q of task %q: %w", step.Name, step.Task, err)
		}
	}
}

// Kubelet reads step logs from the kubelet through the API server.
type Kubelet struct {
	Client kubernetes.Interface
}

// Open streams the container log of the step.
func (k Kubelet) Open(ctx context.Context, step Step, follow bool) (io.ReadCloser, error) {
	req := k.Client.CoreV1().Pods(step.Namespace).GetLogs(step.Pod, &corev1.PodLogOptions{Container: step.Container, Follow: follow})
	rc, err := req.Stream(ctx)
	if err != nil {
		return nil, fmt.Errorf("failed to open the log of step %q of task %q (pod %s): %w", step.Name, step.Task, step.Pod, err)
	}
	return rc, nil
}
