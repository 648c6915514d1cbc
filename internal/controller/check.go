package controller

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
	"github.com/modelsync/modelsync/internal/pipelinerun"
)

// trigger is a pending manual request (the requested-at annotation not yet served).
type trigger struct {
	at     string
	force  bool
	params map[string]string
}

// pendingTrigger returns the manual trigger that waits to be served, if any. A malformed request
// is returned with an error that names the annotation at fault.
func pendingTrigger(ms *automlv1alpha1.ModelSync) (*trigger, error) {
	a := ms.GetAnnotations()
	at := a[automlv1alpha1.AnnotationRequestedAt]
	if at == "" || at == ms.Status.LastHandledTriggerAt {
		return nil, nil
	}
	t := &trigger{at: at}
	if _, err := time.Parse(time.RFC3339, at); err != nil {
		return t, fmt.Errorf("annotation %s: %q is not an RFC 3339 time", automlv1alpha1.AnnotationRequestedAt, at)
	}
	if v, ok := a[automlv1alpha1.AnnotationForce]; ok {
		force, err := strconv.ParseBool(v)
		if err != nil {
			return t, fmt.Errorf("annotation %s: %q is not true or false", automlv1alpha1.AnnotationForce, v)
		}
		t.force = force
	}
	if raw := a[automlv1alpha1.AnnotationRequestedParameters]; t.force && raw != "" {
		if err := json.Unmarshal([]byte(raw), &t.params); err != nil {
			return t, fmt.Errorf("annotation %s: must be a JSON object of strings: %v", automlv1alpha1.AnnotationRequestedParameters, err)
		}
	}
	return t, nil
}

// interval returns how often the ModelSync's lambda is asked.
func (r *Reconciler) interval(ms *automlv1alpha1.ModelSync) time.Duration {
	if ms.Spec.Interval == nil || ms.Spec.Interval.Duration <= 0 {
		return r.DefaultInterval
	}
	return ms.Spec.Interval.Duration
}

// untilDue returns how long to wait before the next check; 0 means check now. After failed
// checks it backs off exponentially, capped at the interval; a pending manual trigger makes the
// check due at once otherwise.
func (r *Reconciler) untilDue(st *state, runs []*run) time.Duration {
	ms, now, interval := st.ms, time.Now(), r.interval(st.ms)
	// A manual request is served at once, even during a backoff: it is served once, so it
	// cannot make a loop.
	if t, _ := pendingTrigger(ms); t != nil || st.checkNow {
		return 0
	}
	r.mu.Lock()
	f := r.failures[st.key]
	r.mu.Unlock()
	if f.count > 0 {
		return max(0, f.last.Add(retryDelay(r.RetryBase, interval, f.count)).Sub(now))
	}
	// The last check is the later of the recorded one and the newest run's creation: a status
	// lost to a crash (or a stale cache) does not cause an early check.
	var last time.Time
	if ms.Status.LastNeedsSync != nil {
		last = ms.Status.LastNeedsSync.Time.Time
	}
	for _, rn := range runs {
		if c := rn.obj.GetCreationTimestamp().Time; rn.owned && c.After(last) {
			last = c
		}
	}
	if last.IsZero() {
		return 0
	}
	return max(0, last.Add(interval).Sub(now))
}

// retryDelay is the wait after the n-th consecutive failed check: base doubled per failure,
// never more than the interval.
func retryDelay(base, interval time.Duration, n int) time.Duration {
	delay := base << min(n-1, 30)
	if delay <= 0 || delay > interval {
		return interval
	}
	return delay
}

// sync serves a due check: a forced trigger runs at once, otherwise the lambda decides.
func (r *Reconciler) sync(ctx context.Context, st *state) (ctrl.Result, error) {
	ms := st.ms
	requeue := ctrl.Result{RequeueAfter: r.interval(ms)}
	t, err := pendingTrigger(ms)
	if err != nil {
		r.rejectTrigger(st, t, err)
		return requeue, nil
	}
	if t != nil && t.force {
		return r.startRun(ctx, st, t, t.params, automlv1alpha1.TriggerManual)
	}
	answer, retry := r.check(ctx, st)
	if answer == nil {
		if t != nil {
			// The request got its answer: a failed check, in lastNeedsSync. Retries are regular checks.
			ms.Status.LastHandledTriggerAt = t.at
		}
		return ctrl.Result{RequeueAfter: retry}, nil
	}
	kind := automlv1alpha1.TriggerInterval
	if t != nil {
		kind = automlv1alpha1.TriggerManual
	}
	if !answer.NeedsSync {
		if t != nil {
			ms.Status.LastHandledTriggerAt = t.at
		}
		setCondition(ms, automlv1alpha1.ConditionReady, true, automlv1alpha1.ReasonSucceeded, "The lambda answered: no sync needed")
		return requeue, nil
	}
	return r.startRun(ctx, st, t, answer.Parameters, kind)
}

// check asks the lambda and records the answer. On failure it returns nil and the retry delay.
func (r *Reconciler) check(ctx context.Context, st *state) (*automlv1alpha1.NeedsSync, time.Duration) {
	ms := st.ms
	start := time.Now()
	answer, err := r.Lambda.Check(ctx, ms)
	if err == nil && answer.NeedsSync {
		// Parameters the template has no mapping for are the lambda's fault: check them now.
		_, rerr := pipelinerun.Render(ms, pipelinerun.Input{Number: 1, Parameters: answer.Parameters})
		var perr *pipelinerun.Error
		if errors.As(rerr, &perr) && perr.Field == "spec.parameters" {
			err = fmt.Errorf("lambda answer does not fit the ModelSync: %w", rerr)
		}
	}
	checkDuration.Observe(time.Since(start).Seconds())
	result := &automlv1alpha1.NeedsSyncResult{Time: metav1.Now()}
	if answer != nil {
		result.NeedsSync, result.Parameters = answer.NeedsSync, answer.Parameters
	}
	ms.Status.LastNeedsSync = result
	if err != nil {
		checksTotal.WithLabelValues(checkError).Inc()
		result.NeedsSync = false
		result.Error = err.Error()
		msg := "Lambda check failed: " + err.Error()
		if !hasMessage(st.before, automlv1alpha1.ConditionReady, msg) {
			st.pending = append(st.pending, newEvent(eventWarning, automlv1alpha1.ReasonNeedsSyncFailed, "Check", msg))
		}
		setCondition(ms, automlv1alpha1.ConditionReady, false, automlv1alpha1.ReasonNeedsSyncFailed, msg)
		r.mu.Lock()
		if r.failures == nil {
			r.failures = map[types.NamespacedName]failure{}
		}
		f := r.failures[st.key]
		f.count++
		f.last = time.Now()
		r.failures[st.key] = f
		r.mu.Unlock()
		return nil, r.untilDue(st, nil)
	}
	if answer.NeedsSync {
		checksTotal.WithLabelValues(checkNeedsSync).Inc()
	} else {
		checksTotal.WithLabelValues(checkNoSync).Inc()
	}
	r.mu.Lock()
	delete(r.failures, st.key)
	r.mu.Unlock()
	return answer, 0
}

// startRun creates the next PipelineRun, after making sure with the API server (not the cache)
// that no run is active and that the trigger has not been served already. The run's name is
// deterministic, so a concurrent creator makes this create fail with AlreadyExists.
func (r *Reconciler) startRun(ctx context.Context, st *state, t *trigger, params map[string]string, kind automlv1alpha1.Trigger) (ctrl.Result, error) {
	ms := st.ms
	runs, err := listRuns(ctx, r.APIReader, ms)
	if err != nil {
		return ctrl.Result{}, err
	}
	r.observe(st, runs)
	if len(ms.Status.Active) > 0 {
		return ctrl.Result{}, nil // someone else started this sync
	}
	names := make([]string, 0, len(runs))
	for _, rn := range runs {
		names = append(names, rn.name())
		if t != nil && rn.requestedAt == t.at {
			ms.Status.LastHandledTriggerAt = t.at // served before a crash or by another instance
			return ctrl.Result{RequeueAfter: r.interval(ms)}, nil
		}
	}
	in := pipelinerun.Input{Number: pipelinerun.NextNumber(ms, names), Parameters: params, Trigger: kind}
	if t != nil {
		in.RequestedAt = t.at
	}
	rendered, err := pipelinerun.Render(ms, in)
	if err != nil {
		if t != nil && t.force {
			r.rejectTrigger(st, t, err)
			return ctrl.Result{RequeueAfter: r.interval(ms)}, nil
		}
		msg := fmt.Sprintf("The PipelineRun cannot be rendered: %v", err)
		setCondition(ms, automlv1alpha1.ConditionReady, false, automlv1alpha1.ReasonRenderFailed, msg)
		st.pending = append(st.pending, newEvent(eventWarning, automlv1alpha1.ReasonRenderFailed, "Render", msg))
		return ctrl.Result{RequeueAfter: r.interval(ms)}, nil
	}
	prun := rendered.PipelineRun
	if err := r.Client.Create(ctx, prun); err != nil {
		if apierrors.IsAlreadyExists(err) {
			ctrl.LoggerFrom(ctx).V(1).Info("PipelineRun already exists: another instance started this sync", "pipelineRun", prun.GetName())
			return ctrl.Result{RequeueAfter: time.Second}, nil
		}
		return ctrl.Result{}, fmt.Errorf("failed to create PipelineRun %s/%s: %w", prun.GetNamespace(), prun.GetName(), err)
	}
	runsCreated.WithLabelValues(string(kind)).Inc()
	r.emit(ctx, ms, eventNormal, "RunCreated", "Create", fmt.Sprintf("Created PipelineRun %s (trigger: %s)", prun.GetName(), kind))
	for _, w := range rendered.Warnings {
		ctrl.LoggerFrom(ctx).Info("template warning", "pipelineRun", prun.GetName(), "warning", w)
	}
	r.observe(st, append([]*run{parseRun(ms, prun)}, runs...))
	if t != nil {
		ms.Status.LastHandledTriggerAt = t.at
	}
	how := "the lambda answered needsSync"
	if t != nil && t.force {
		how = "forced by a manual trigger"
	}
	setCondition(ms, automlv1alpha1.ConditionReady, true, automlv1alpha1.ReasonSucceeded,
		fmt.Sprintf("Started PipelineRun %s: %s", prun.GetName(), how))
	return ctrl.Result{}, nil
}

// rejectTrigger serves a manual request that cannot be carried out: it is marked handled (so
// it is not retried), and the reason is shown on Ready and in a Warning event.
func (r *Reconciler) rejectTrigger(st *state, t *trigger, err error) {
	st.ms.Status.LastHandledTriggerAt = t.at
	msg := fmt.Sprintf("Manual trigger %s rejected: %v", t.at, err)
	setCondition(st.ms, automlv1alpha1.ConditionReady, false, automlv1alpha1.ReasonRenderFailed, msg)
	st.pending = append(st.pending, newEvent(eventWarning, "TriggerRejected", "Trigger", msg))
}
