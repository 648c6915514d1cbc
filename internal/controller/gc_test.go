package controller

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"k8s.io/utils/ptr"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
	"github.com/modelsync/modelsync/internal/pipelinerun"
)

// TestGarbageCollection runs a sequence of runs with known results and checks which survive.
func TestGarbageCollection(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	l := newLambda(t)
	startController(t, ns)
	cases := []struct {
		name              string
		succeeded, failed int32
		results           string // one letter per run, oldest first: S succeeded, F failed
		want              []int  // run numbers left
	}{
		{"keeps-two-and-one", 2, 1, "SSFSFSF", []int{4, 6, 7}},
		{"keeps-all-within-limits", 3, 3, "SFSF", []int{1, 2, 3, 4}},
		// With limits of 0 the newest run stays anyway: its number must not be reused.
		{"zero-keeps-newest", 0, 0, "SFS", []int{3}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l.answer(tc.name, false, nil)
			ms := newModelSync(ns, tc.name, l.url(tc.name))
			ms.Spec.SuccessfulPipelineRunsHistoryLimit = ptr.To(tc.succeeded)
			ms.Spec.FailedPipelineRunsHistoryLimit = ptr.To(tc.failed)
			create(t, ms)
			for i, result := range tc.results {
				name := fmt.Sprintf("%s-%d", tc.name, i+1)
				requestSync(t, ns, tc.name, true, `{"name":"m"}`)
				waitMS(t, ns, tc.name, name+" active", func(m *automlv1alpha1.ModelSync) bool {
					return len(m.Status.Active) == 1 && m.Status.Active[0].Name == name
				})
				finishRun(t, ns, name, result == 'S')
				waitMS(t, ns, tc.name, name+" finished", func(m *automlv1alpha1.ModelSync) bool {
					return len(m.Status.Active) == 0 && m.Status.LastRun.Name == name && m.Status.LastRun.Succeeded != "Unknown"
				})
			}
			var want []string
			for _, n := range tc.want {
				want = append(want, fmt.Sprintf("%s-%d", tc.name, n))
			}
			eventually(t, 10*time.Second, func() (bool, string) {
				var got []string
				for _, name := range runNames(t, ns) {
					if _, ok := pipelinerun.NumberOf(tc.name, name); ok {
						got = append(got, name)
					}
				}
				slices.Sort(got)
				slices.Sort(want)
				return slices.Equal(got, want), fmt.Sprintf("runs %v, want %v", got, want)
			})
			if len(tc.want) < len(tc.results) {
				waitEvent(t, ns, tc.name, "GarbageCollected", "beyond the history limits")
			}
			// Numbers are never reused: the next run is one past the last, whatever GC deleted.
			requestSync(t, ns, tc.name, true, "")
			next := fmt.Sprintf("%s-%d", tc.name, len(tc.results)+1)
			waitMS(t, ns, tc.name, next+" created", func(m *automlv1alpha1.ModelSync) bool {
				return m.Status.LastRun != nil && m.Status.LastRun.Name == next
			})
		})
	}
}
