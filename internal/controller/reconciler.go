package controller

import (
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
	"github.com/modelsync/modelsync/internal/pipelinerun"
)

// Reconciler reconciles one ModelSync at a time: it observes its PipelineRuns, collects old
// ones, asks the lambda when a check is due and starts a run when the lambda says so.
type Reconciler struct {
	// Client reads from the cache and writes to the API server.
	Client client.Client
	// APIReader reads from the API server; used when deciding to create a run.
	APIReader client.Reader
	// Recorder emits Kubernetes events.
	Recorder events.EventRecorder
	// Lambda asks the needs-sync endpoints.
	Lambda *Lambda
	// DefaultInterval applies to ModelSyncs without spec.interval.
	DefaultInterval time.Duration
	// RetryBase is the first delay after a failed check.
	RetryBase time.Duration

	mu       sync.Mutex
	failures map[types.NamespacedName]failure
	active   activeRuns
}

// failure counts the consecutive failed checks of one ModelSync (kept in memory: a restarted
// controller simply checks again).
type failure struct {
	count int
	last  time.Time
}

// state is one reconcile in progress: the object as fetched, the object being changed, and the
// events to emit once the new status is written.
type state struct {
	key     types.NamespacedName
	before  *automlv1alpha1.ModelSync
	ms      *automlv1alpha1.ModelSync
	pending []event
	// checkNow forces a check (after a resume or a fixed template).
	checkNow bool
}

// SetupWithManager registers the reconciler: it watches ModelSyncs and the PipelineRuns they own.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager, concurrency int) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("modelsync").
		For(&automlv1alpha1.ModelSync{}).
		Owns(newRunObject()).
		WithOptions(controller.Options{
			MaxConcurrentReconciles: concurrency,
			// Tests run several managers in one process; a binary has one.
			SkipNameValidation: ptr.To(true),
		}).
		Complete(r)
}

// Reconcile brings one ModelSync a step closer to its declared state.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, err error) {
	ms := &automlv1alpha1.ModelSync{}
	if err := r.Client.Get(ctx, req.NamespacedName, ms); err != nil {
		if apierrors.IsNotFound(err) {
			r.forget(req.NamespacedName)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("failed to get ModelSync %s: %w", req.NamespacedName, err)
	}
	st := &state{key: req.NamespacedName, before: ms.DeepCopy(), ms: ms}
	defer func() { result, err = r.writeStatus(ctx, st, result, err) }()

	runs, err := listRuns(ctx, r.Client, ms)
	if err != nil {
		return ctrl.Result{}, err
	}
	r.observe(st, runs)
	if ms.Spec.Suspend {
		r.suspend(st)
		return ctrl.Result{}, nil
	}
	r.resume(st)
	if stalled := r.checkTemplate(st); stalled {
		return ctrl.Result{}, nil
	}
	if _, err := r.garbageCollect(ctx, ms, runs); err != nil {
		return ctrl.Result{}, err
	}
	if len(ms.Status.Active) > 0 {
		return ctrl.Result{}, nil // the run's completion wakes us through the watch
	}
	if wait := r.untilDue(st, runs); wait > 0 {
		return ctrl.Result{RequeueAfter: wait}, nil
	}
	return r.sync(ctx, st)
}

// observe records the runs in the status and queues the events of runs that finished.
func (r *Reconciler) observe(st *state, runs []*run) {
	active, finished := observeRuns(st.ms, runs)
	r.active.set(st.key, len(active))
	if t, _ := pendingTrigger(st.ms); t != nil {
		for _, rn := range runs {
			if rn.owned && rn.requestedAt == t.at {
				st.ms.Status.LastHandledTriggerAt = t.at // a run serves it: created before a crash, or by another instance
			}
		}
	}
	for _, rn := range finished {
		st.pending = append(st.pending, finishedEvent(rn))
	}
	if len(active) > 0 {
		setCondition(st.ms, automlv1alpha1.ConditionRunning, true, automlv1alpha1.ReasonRunActive,
			fmt.Sprintf("PipelineRun %s is running", active[0].name()))
	} else {
		setCondition(st.ms, automlv1alpha1.ConditionRunning, false, automlv1alpha1.ReasonNoActiveRun, "No PipelineRun is running")
	}
}

// suspend marks the ModelSync suspended: no checks, no new runs; running runs go on.
func (r *Reconciler) suspend(st *state) {
	if !hasReason(st.before, automlv1alpha1.ConditionReady, automlv1alpha1.ReasonSuspended) {
		st.pending = append(st.pending, newEvent(eventNormal, "Suspended", "Suspend",
			"spec.suspend is true: no lambda checks and no new PipelineRuns until it is cleared"))
	}
	setCondition(st.ms, automlv1alpha1.ConditionReady, false, automlv1alpha1.ReasonSuspended,
		"spec.suspend is true: no lambda checks and no new PipelineRuns")
}

// resume clears the Suspended state, and asks for a check right away.
func (r *Reconciler) resume(st *state) {
	if !hasReason(st.before, automlv1alpha1.ConditionReady, automlv1alpha1.ReasonSuspended) {
		return
	}
	st.pending = append(st.pending, newEvent(eventNormal, "Resumed", "Resume", "spec.suspend is false: checks resume"))
	setCondition(st.ms, automlv1alpha1.ConditionReady, false, automlv1alpha1.ReasonProgressing, "Resumed: waiting for the next lambda check")
	st.checkNow = true
}

// checkTemplate renders the template without parameters: a template that cannot render makes the
// ModelSync Stalled until its spec changes.
func (r *Reconciler) checkTemplate(st *state) bool {
	ms := st.ms
	if _, err := pipelinerun.Render(ms, pipelinerun.Input{Number: 1}); err != nil {
		msg := fmt.Sprintf("The PipelineRun template cannot be rendered: %v", err)
		if !hasMessage(st.before, automlv1alpha1.ConditionStalled, msg) {
			st.pending = append(st.pending, newEvent(eventWarning, automlv1alpha1.ReasonRenderFailed, "Render", msg))
		}
		setCondition(ms, automlv1alpha1.ConditionStalled, true, automlv1alpha1.ReasonRenderFailed, msg)
		setCondition(ms, automlv1alpha1.ConditionReady, false, automlv1alpha1.ReasonRenderFailed, msg)
		return true
	}
	if meta.FindStatusCondition(ms.Status.Conditions, automlv1alpha1.ConditionStalled) != nil {
		meta.RemoveStatusCondition(&ms.Status.Conditions, automlv1alpha1.ConditionStalled)
		setCondition(ms, automlv1alpha1.ConditionReady, false, automlv1alpha1.ReasonProgressing, "The template renders again: waiting for the next lambda check")
		st.checkNow = true
	}
	return false
}

// writeStatus runs last: it sets observedGeneration, patches the status when it changed (with
// an optimistic lock, so a stale cache never overwrites newer status), and emits the queued
// events only once the status that they describe is stored.
func (r *Reconciler) writeStatus(ctx context.Context, st *state, result ctrl.Result, err error) (ctrl.Result, error) {
	ms := st.ms
	if meta.FindStatusCondition(ms.Status.Conditions, automlv1alpha1.ConditionReady) == nil {
		setConditionStatus(ms, automlv1alpha1.ConditionReady, metav1.ConditionUnknown, automlv1alpha1.ReasonProgressing, "Waiting for the first lambda check")
	}
	ms.Status.ObservedGeneration = ms.Generation
	for i := range ms.Status.Conditions {
		ms.Status.Conditions[i].ObservedGeneration = ms.Generation
	}
	if !equality.Semantic.DeepEqual(st.before.Status, ms.Status) {
		patch := client.MergeFromWithOptions(st.before, client.MergeFromWithOptimisticLock{})
		if perr := r.Client.Status().Patch(ctx, ms, patch); perr != nil {
			if apierrors.IsConflict(perr) || apierrors.IsNotFound(perr) {
				// Someone wrote the object since we read it: start over from the new version.
				ctrl.LoggerFrom(ctx).V(1).Info("status changed under us; reconciling again", "reason", perr.Error())
				return ctrl.Result{RequeueAfter: 100 * time.Millisecond}, err
			}
			return result, joinErr(err, fmt.Errorf("failed to patch the status of ModelSync %s: %w", st.key, perr))
		}
	}
	for _, e := range st.pending {
		r.emit(ctx, ms, e.kind, e.reason, e.action, e.note)
		if e.finishedResult != "" {
			runsFinished.WithLabelValues(e.finishedResult).Inc()
		}
	}
	return result, err
}

func joinErr(a, b error) error {
	if a == nil {
		return b
	}
	return fmt.Errorf("%w; %w", a, b)
}

// forget drops the in-memory state of a deleted ModelSync.
func (r *Reconciler) forget(key types.NamespacedName) {
	r.mu.Lock()
	delete(r.failures, key)
	r.mu.Unlock()
	r.active.set(key, 0)
}
