package localrun

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/util/retry"

	"github.com/modelsync/modelsync/internal/pipelinerun"
)

// defaultTimeout is Tekton's default for spec.timeouts.pipeline.
const defaultTimeout = time.Hour

// execution is one run in progress.
type execution struct {
	r    *Runner
	run  *v1.PipelineRun
	dir  string
	plan *plan

	mu        sync.Mutex
	results   map[string]map[string]string // task → result → value
	children  []any                        // status.childReferences
	completed int
	failed    int
}

func (e *execution) id() string { return e.run.Namespace + "/" + e.run.Name }

// execute runs u from start to end and writes its status.
func (r *Runner) execute(ctx context.Context, u *unstructured.Unstructured) error {
	var run v1.PipelineRun
	if err := fromUnstructured(u, &run); err != nil {
		return r.finish(ctx, u.GetNamespace(), u.GetName(), fail(ReasonValidationFailed, "failed to read the pipelinerun: %v", err), nil, nil)
	}
	e := &execution{r: r, run: &run, dir: filepath.Join(r.opts.Dir, run.Namespace, run.Name), results: map[string]map[string]string{}}
	if isCancelled(run.Spec.Status) {
		return r.finish(ctx, run.Namespace, run.Name, fail(ReasonCancelled, "PipelineRun %q was cancelled", run.Name), nil, nil)
	}
	start := time.Now()
	err := r.updateRunStatus(ctx, run.Namespace, run.Name, func(obj *unstructured.Unstructured) bool {
		setTime(obj, "startTime", start)
		setCondition(obj, "Unknown", ReasonRunning, "Tasks Completed: 0 (Failed: 0, Cancelled 0), Skipped: 0")
		return true
	})
	if err != nil {
		return err
	}
	r.progressf("run %s started", e.id())
	p, f := r.resolve(ctx, &run, e.dir)
	var results []any
	if f == nil {
		e.plan = p
		timeout := defaultTimeout
		if run.Spec.Timeouts != nil && run.Spec.Timeouts.Pipeline != nil {
			timeout = run.Spec.Timeouts.Pipeline.Duration
		}
		runCtx, cancel := context.WithCancelCause(ctx)
		if timeout > 0 {
			timer := time.AfterFunc(timeout, func() { cancel(errTimeout) })
			defer timer.Stop()
		}
		go e.watchCancel(runCtx, cancel)
		f = e.runTasks(runCtx)
		if cause := context.Cause(runCtx); cause != nil {
			switch {
			case errors.Is(cause, errTimeout):
				f = fail(ReasonTimeout, "PipelineRun %q failed to finish within %q", run.Name, timeout.String())
			case errors.Is(cause, errCancelled):
				f = fail(ReasonCancelled, "PipelineRun %q was cancelled", run.Name)
			case errors.Is(cause, errStopped):
				f = fail(ReasonFailed, "%v", errStopped)
			}
		}
		cancel(nil)
		if f == nil {
			results = e.pipelineResults()
		}
	}
	return r.finish(ctx, run.Namespace, run.Name, f, results, e)
}

func isCancelled(s v1.PipelineRunSpecStatus) bool {
	return s == v1.PipelineRunSpecStatusCancelled || s == v1.PipelineRunSpecStatusCancelledRunFinally || s == v1.PipelineRunSpecStatusStoppedRunFinally
}

// watchCancel polls the run and cancels ctx when spec.status asks for it or the run is gone.
func (e *execution) watchCancel(ctx context.Context, cancel context.CancelCauseFunc) {
	t := time.NewTicker(e.r.opts.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		u, err := e.r.dyn.Resource(pipelineRunsGVR).Namespace(e.run.Namespace).Get(ctx, e.run.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			cancel(errCancelled)
			return
		}
		if err != nil {
			continue
		}
		if s, _, _ := unstructured.NestedString(u.Object, "spec", "status"); isCancelled(v1.PipelineRunSpecStatus(s)) {
			cancel(errCancelled)
			return
		}
	}
}

// runTasks starts each task once the tasks it depends on have succeeded. After a failure no
// task starts; the running ones finish.
func (e *execution) runTasks(ctx context.Context) *runFailure {
	type outcome struct {
		task    string
		results map[string]string
		err     error
	}
	started, done := map[string]bool{}, map[string]bool{}
	outcomes := make(chan outcome)
	running := 0
	var failure *runFailure
	for {
		if failure == nil && ctx.Err() == nil {
			for _, t := range e.plan.tasks {
				if started[t.Name] || !allDone(t.deps, done) {
					continue
				}
				started[t.Name] = true
				running++
				go func() {
					res, err := e.runTask(ctx, t)
					outcomes <- outcome{task: t.Name, results: res, err: err}
				}()
			}
		}
		if running == 0 {
			break
		}
		o := <-outcomes
		running--
		e.mu.Lock()
		if o.err != nil {
			e.failed++
			if failure == nil {
				if !errors.As(o.err, &failure) {
					failure = fail(ReasonFailed, "task %q failed: %v", o.task, o.err)
				}
			}
		} else {
			e.completed++
			done[o.task] = true
			e.results[o.task] = o.results
		}
		e.mu.Unlock()
		e.writeProgress(ctx)
	}
	return failure
}

func (e *execution) resultsSnapshot() map[string]map[string]string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]map[string]string, len(e.results))
	for k, v := range e.results {
		out[k] = v
	}
	return out
}

// pipelineResults evaluates the pipeline's results. Like Tekton, a result that refers to a
// task result that was not written is left out.
func (e *execution) pipelineResults() []any {
	lookup := e.plan.pipelineVars(e.resultsSnapshot())
	var out []any
	for _, res := range e.plan.spec.Results {
		v, err := expand(res.Value.StringVal, lookup)
		if err != nil {
			e.r.progressf("run %s: result %q left out: %v", e.id(), res.Name, err)
			continue
		}
		out = append(out, map[string]any{"name": res.Name, "value": v})
	}
	return out
}

// addChild records the TaskRun of a pipeline task in status.childReferences.
func (e *execution) addChild(ctx context.Context, taskRun, task string) {
	e.mu.Lock()
	e.children = append(e.children, map[string]any{"apiVersion": "tekton.dev/v1", "kind": "TaskRun", "name": taskRun, "pipelineTaskName": task})
	e.mu.Unlock()
	e.writeProgress(ctx)
}

// writeProgress writes the running condition's message and the child references.
func (e *execution) writeProgress(ctx context.Context) {
	e.mu.Lock()
	children := append([]any(nil), e.children...)
	msg := fmt.Sprintf("Tasks Completed: %d (Failed: %d, Cancelled 0), Skipped: 0", e.completed+e.failed, e.failed)
	e.mu.Unlock()
	err := e.r.updateRunStatus(context.WithoutCancel(ctx), e.run.Namespace, e.run.Name, func(obj *unstructured.Unstructured) bool {
		if pipelinerun.ReadStatus(obj).Succeeded != "Unknown" {
			return false
		}
		setCondition(obj, "Unknown", ReasonRunning, msg)
		_ = unstructured.SetNestedSlice(obj.Object, children, "status", "childReferences")
		return true
	})
	if err != nil {
		e.r.progressf("run %s: %v", e.id(), err)
	}
}

// finish writes the final status of a run.
func (r *Runner) finish(ctx context.Context, ns, name string, f *runFailure, results []any, e *execution) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	status, reason, msg := "True", ReasonSucceeded, ""
	if f != nil {
		status, reason, msg = "False", f.reason, f.message
	}
	var children []any
	if e != nil {
		e.mu.Lock()
		children = append(children, e.children...)
		if f == nil {
			msg = fmt.Sprintf("Tasks Completed: %d (Failed: 0, Cancelled 0), Skipped: 0", e.completed)
		}
		e.mu.Unlock()
	}
	err := r.updateRunStatus(ctx, ns, name, func(obj *unstructured.Unstructured) bool {
		now := time.Now()
		if _, ok, _ := unstructured.NestedString(obj.Object, "status", "startTime"); !ok {
			setTime(obj, "startTime", now)
		}
		setTime(obj, "completionTime", now)
		setCondition(obj, status, reason, msg)
		if children != nil {
			_ = unstructured.SetNestedSlice(obj.Object, children, "status", "childReferences")
		}
		if results != nil {
			_ = unstructured.SetNestedSlice(obj.Object, results, "status", "results")
		}
		return true
	})
	if err != nil {
		return err
	}
	if f != nil {
		r.progressf("run %s/%s failed (%s): %s", ns, name, reason, msg)
	} else {
		r.progressf("run %s/%s succeeded", ns, name)
	}
	return nil
}

// updateRunStatus reads the run, lets mutate change it (false: nothing to write) and writes
// its status subresource, again on conflicts.
func (r *Runner) updateRunStatus(ctx context.Context, ns, name string, mutate func(*unstructured.Unstructured) bool) error {
	return updateStatus(ctx, r, pipelineRunsGVR.Resource, ns, name, mutate)
}

func updateStatus(ctx context.Context, r *Runner, resource, ns, name string, mutate func(*unstructured.Unstructured) bool) error {
	gvr := pipelineRunsGVR
	gvr.Resource = resource
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		obj, err := r.dyn.Resource(gvr).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if !mutate(obj) {
			return nil
		}
		_, err = r.dyn.Resource(gvr).Namespace(ns).UpdateStatus(ctx, obj, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("failed to update the status of %s %s/%s: %w", resource, ns, name, err)
	}
	return nil
}

func setCondition(obj *unstructured.Unstructured, status, reason, message string) {
	cond := map[string]any{
		"type": "Succeeded", "status": status, "reason": reason, "message": message,
		"lastTransitionTime": time.Now().UTC().Format(time.RFC3339),
	}
	_ = unstructured.SetNestedSlice(obj.Object, []any{cond}, "status", "conditions")
}

func setTime(obj *unstructured.Unstructured, field string, t time.Time) {
	_ = unstructured.SetNestedField(obj.Object, t.UTC().Format(time.RFC3339), "status", field)
}
