package controller

import (
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
	"github.com/modelsync/modelsync/internal/pipelinerun"
)

// runListGVK is the list kind of tekton.dev/v1 PipelineRuns, read as unstructured objects.
var runListGVK = schema.GroupVersionKind{Group: "tekton.dev", Version: "v1", Kind: "PipelineRunList"}

// newRunObject returns an empty unstructured tekton.dev/v1 PipelineRun (for watches).
func newRunObject() *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(pipelinerun.APIVersion)
	u.SetKind(pipelinerun.Kind)
	return u
}

// run is what the controller needs to know about one PipelineRun of a ModelSync.
type run struct {
	obj         *unstructured.Unstructured
	number      int64 // 0 when the name is not <modelsync>-<n>
	owned       bool  // controlled by this ModelSync (same UID)
	trigger     automlv1alpha1.Trigger
	requestedAt string // the manual trigger it served, if any
	succeeded   metav1.ConditionStatus
	reason      string
	start       *metav1.Time
	completion  *metav1.Time
}

func (r *run) name() string { return r.obj.GetName() }
func (r *run) finished() bool {
	return pipelinerun.Status{Succeeded: r.succeeded}.Finished()
}
func (r *run) succeededOK() bool { return r.succeeded == metav1.ConditionTrue }

// listRuns lists the PipelineRuns labelled with the ModelSync's name, from reader (the cache or
// the API server), newest number first.
func listRuns(ctx context.Context, reader client.Reader, ms *automlv1alpha1.ModelSync) ([]*run, error) {
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(runListGVK)
	if err := reader.List(ctx, list, client.InNamespace(ms.Namespace),
		client.MatchingLabels{automlv1alpha1.LabelModelSync: ms.Name}); err != nil {
		return nil, fmt.Errorf("failed to list PipelineRuns of ModelSync %s/%s: %w", ms.Namespace, ms.Name, err)
	}
	runs := make([]*run, 0, len(list.Items))
	for i := range list.Items {
		runs = append(runs, parseRun(ms, &list.Items[i]))
	}
	slices.SortFunc(runs, func(a, b *run) int { return compareInt(b.number, a.number) })
	return runs, nil
}

func parseRun(ms *automlv1alpha1.ModelSync, u *unstructured.Unstructured) *run {
	r := &run{obj: u, succeeded: metav1.ConditionUnknown}
	r.number, _ = pipelinerun.NumberOf(ms.Name, u.GetName())
	if ref := metav1.GetControllerOf(u); ref != nil && ref.UID == ms.UID {
		r.owned = true
	}
	annotations := u.GetAnnotations()
	r.trigger = automlv1alpha1.Trigger(annotations[automlv1alpha1.AnnotationTrigger])
	r.requestedAt = annotations[automlv1alpha1.AnnotationRequestedAt]
	st := pipelinerun.ReadStatus(u)
	if st.Finished() {
		r.succeeded = st.Succeeded
	}
	r.reason, r.start, r.completion = st.Reason, st.Start, st.Completion
	if r.finished() && r.completion == nil {
		r.completion = st.Transition
		if r.completion == nil {
			created := u.GetCreationTimestamp()
			r.completion = &created
		}
	}
	return r
}

func (r *run) status() *automlv1alpha1.RunStatus {
	return &automlv1alpha1.RunStatus{
		Name: r.name(), Number: r.number, Trigger: r.trigger, Succeeded: r.succeeded,
		Reason: r.reason, StartTime: r.start, CompletionTime: r.completion,
	}
}

func (r *run) ref() corev1.ObjectReference {
	return corev1.ObjectReference{
		APIVersion: pipelinerun.APIVersion, Kind: pipelinerun.Kind,
		Namespace: r.obj.GetNamespace(), Name: r.name(), UID: r.obj.GetUID(),
	}
}

// observeRuns writes what the runs say into the status: active, lastRun, lastSuccessfulRun and
// lastFailedRun. Runs that were deleted keep their place in status when nothing newer exists,
// so that their numbers are never reused. It returns the runs that finished since the status
// was last written.
func observeRuns(ms *automlv1alpha1.ModelSync, runs []*run) (active, newlyFinished []*run) {
	st := &ms.Status
	wasActive := map[string]bool{}
	for _, ref := range st.Active {
		wasActive[ref.Name] = true
	}
	var seenUpTo int64
	if st.LastRun != nil {
		seenUpTo = st.LastRun.Number
	}
	var refs []corev1.ObjectReference
	for _, r := range runs { // newest first
		if !r.owned || r.number == 0 {
			continue
		}
		if !r.finished() {
			active = append(active, r)
			refs = append(refs, r.ref())
		} else if wasActive[r.name()] || r.number > seenUpTo ||
			(st.LastRun != nil && st.LastRun.Name == r.name() && st.LastRun.Succeeded == metav1.ConditionUnknown) {
			newlyFinished = append(newlyFinished, r)
		}
		st.LastRun = newer(st.LastRun, r)
		if r.succeeded == metav1.ConditionTrue {
			st.LastSuccessfulRun = newer(st.LastSuccessfulRun, r)
		}
		if r.succeeded == metav1.ConditionFalse {
			st.LastFailedRun = newer(st.LastFailedRun, r)
		}
	}
	st.Active = refs
	return active, newlyFinished
}

// newer returns the status of r when it is the same run as cur or a newer one, else cur.
func newer(cur *automlv1alpha1.RunStatus, r *run) *automlv1alpha1.RunStatus {
	if cur == nil || r.number > cur.Number || r.name() == cur.Name {
		return r.status()
	}
	return cur
}

func compareInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
