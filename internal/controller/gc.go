package controller

import (
	"context"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
)

// garbageCollect deletes the finished runs beyond the history limits, oldest completion first.
// The newest run is always kept, even with a limit of 0, so that its number is never reused.
// Only runs controlled by the ModelSync are touched. It returns the names it deleted.
func (r *Reconciler) garbageCollect(ctx context.Context, ms *automlv1alpha1.ModelSync, runs []*run) ([]string, error) {
	var newest int64
	var succeeded, failed []*run
	for _, rn := range runs {
		newest = max(newest, rn.number)
		if !rn.owned || !rn.finished() {
			continue
		}
		if rn.succeededOK() {
			succeeded = append(succeeded, rn)
		} else {
			failed = append(failed, rn)
		}
	}
	doomed := append(beyondLimit(succeeded, int(ms.GetSuccessfulHistoryLimit())),
		beyondLimit(failed, int(ms.GetFailedHistoryLimit()))...)
	var deleted []string
	for _, rn := range doomed {
		if rn.number == newest {
			continue
		}
		err := r.Client.Delete(ctx, rn.obj, client.Preconditions{UID: ptr.To(rn.obj.GetUID())},
			client.PropagationPolicy("Background"))
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return deleted, fmt.Errorf("failed to delete PipelineRun %s/%s: %w", rn.obj.GetNamespace(), rn.name(), err)
		}
		if err == nil {
			deleted = append(deleted, rn.name())
		}
	}
	if len(deleted) > 0 {
		slices.Sort(deleted)
		r.emit(ctx, ms, eventNormal, "GarbageCollected", "Delete",
			fmt.Sprintf("Deleted %d finished PipelineRun(s) beyond the history limits (%d succeeded, %d failed): %s",
				len(deleted), ms.GetSuccessfulHistoryLimit(), ms.GetFailedHistoryLimit(), strings.Join(deleted, ", ")))
	}
	return deleted, nil
}

// beyondLimit returns the runs past the newest `limit` ones by completion time, oldest first.
func beyondLimit(runs []*run, limit int) []*run {
	if len(runs) <= limit {
		return nil
	}
	slices.SortFunc(runs, func(a, b *run) int { // newest completion first
		if c := b.completion.Compare(a.completion.Time); c != 0 {
			return c
		}
		return compareInt(b.number, a.number)
	})
	old := slices.Clone(runs[limit:])
	slices.Reverse(old)
	return old
}
