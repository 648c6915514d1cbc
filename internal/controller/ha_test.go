package controller

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
)

// runWatch follows the PipelineRuns of a namespace through a watch and checks, after every
// change, that no ModelSync has two active runs. A watch the API server ends is resumed from
// the last resource version seen, so no change goes unchecked.
type runWatch struct {
	mu         sync.Mutex
	active     map[string]bool // run name → not finished
	created    []*unstructured.Unstructured
	violations []string
	resumed    int // watches resumed after the API server ended one
}

func watchRuns(t *testing.T, ns string) *runWatch {
	t.Helper()
	c, err := client.NewWithWatch(env.Config, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	start := func(rv string) (watch.Interface, error) {
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(runListGVK)
		return c.Watch(ctx, list, client.InNamespace(ns), &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: rv}})
	}
	w, err := start("")
	if err != nil {
		t.Fatalf("failed to watch PipelineRuns: %v", err)
	}
	rw := &runWatch{active: map[string]bool{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var rv string
		for {
			for ev := range w.ResultChan() {
				u, ok := ev.Object.(*unstructured.Unstructured)
				if !ok {
					rw.record(fmt.Sprintf("watch error: %v", ev.Object))
					continue
				}
				rv = u.GetResourceVersion()
				rw.apply(ev.Type, u)
			}
			if ctx.Err() != nil {
				return
			}
			rw.mu.Lock()
			rw.resumed++
			rw.mu.Unlock()
			if w, err = start(rv); err != nil {
				rw.record(fmt.Sprintf("failed to resume the watch: %v", err))
				return
			}
		}
	}()
	t.Cleanup(func() { cancel(); w.Stop(); <-done })
	return rw
}

func (rw *runWatch) record(violation string) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	rw.violations = append(rw.violations, violation)
}

func (rw *runWatch) apply(kind watch.EventType, u *unstructured.Unstructured) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	switch kind {
	case watch.Added:
		rw.created = append(rw.created, u)
		rw.active[u.GetName()] = !parseRun(&automlv1alpha1.ModelSync{}, u).finished()
	case watch.Modified:
		rw.active[u.GetName()] = !parseRun(&automlv1alpha1.ModelSync{}, u).finished()
	case watch.Deleted:
		delete(rw.active, u.GetName())
	}
	var running []string
	for name, a := range rw.active {
		if a {
			running = append(running, name)
		}
	}
	if len(running) > 1 {
		rw.violations = append(rw.violations, fmt.Sprintf("after %s %s: active runs %v", kind, u.GetName(), running))
	}
}

// createdFor returns the run created for a manual request, or nil.
func (rw *runWatch) createdFor(at string) *unstructured.Unstructured {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	for _, u := range rw.created {
		if u.GetAnnotations()[automlv1alpha1.AnnotationRequestedAt] == at {
			return u
		}
	}
	return nil
}

// TestTwoControllers runs two controller instances without leader election against one
// ModelSync for 50 sync cycles: never two active runs, no request lost, none served twice.
func TestTwoControllers(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	l := newLambda(t)
	l.answer("twins", true, map[string]string{"name": "m"})
	rw := watchRuns(t, ns)
	startController(t, ns)
	startController(t, ns)
	ms := newModelSync(ns, "twins", l.url("twins"))
	create(t, ms)
	eventually(t, waitLimit, func() (bool, string) { return rw.createdFor("") != nil, "the first (interval) run" })
	finishRun(t, ns, "twins-1", true)

	const cycles = 50
	var requests []string
	for i := range cycles {
		at := requestSync(t, ns, "twins", i%2 == 0, `{"name":"forced"}`)
		requests = append(requests, at)
		var run *unstructured.Unstructured
		eventually(t, waitLimit, func() (bool, string) {
			run = rw.createdFor(at)
			rw.mu.Lock()
			defer rw.mu.Unlock()
			return run != nil, fmt.Sprintf("cycle %d: a run for request %s (watch resumed %d times)", i+1, at, rw.resumed)
		})
		finishRun(t, ns, run.GetName(), i%7 != 3)
	}
	got := waitMS(t, ns, "twins", "the last request served and no run active", func(m *automlv1alpha1.ModelSync) bool {
		return m.Status.LastHandledTriggerAt == requests[cycles-1] && len(m.Status.Active) == 0 &&
			m.Status.LastRun != nil && m.Status.LastRun.Name == fmt.Sprintf("twins-%d", cycles+1)
	})
	time.Sleep(500 * time.Millisecond) // let a stray duplicate show up, if there were one

	rw.mu.Lock()
	defer rw.mu.Unlock()
	for _, v := range rw.violations {
		t.Errorf("two active runs: %s", v)
	}
	if len(rw.created) != cycles+1 {
		t.Errorf("%d runs created for %d syncs", len(rw.created), cycles+1)
	}
	for i, u := range rw.created {
		if want := fmt.Sprintf("twins-%d", i+1); u.GetName() != want {
			t.Errorf("run %d is named %s, want %s", i+1, u.GetName(), want)
		}
		if i > 0 && i <= cycles {
			if at := u.GetAnnotations()[automlv1alpha1.AnnotationRequestedAt]; at != requests[i-1] {
				t.Errorf("run %s served request %q, want %q", u.GetName(), at, requests[i-1])
			}
		}
	}
	if got.Status.LastRun.Number != cycles+1 {
		t.Errorf("lastRun %+v", got.Status.LastRun)
	}
}

var errKilled = errors.New("the controller was killed")

// dyingClient passes requests through until a PipelineRun has been created; from then on every
// write fails, as if the process had died right after the create.
type dyingClient struct {
	client.Client
	dead atomic.Bool
	died chan struct{}
}

func (d *dyingClient) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	if d.dead.Load() {
		return errKilled
	}
	err := d.Client.Create(ctx, obj, opts...)
	if _, isRun := obj.(*unstructured.Unstructured); err == nil && isRun && d.dead.CompareAndSwap(false, true) {
		close(d.died)
	}
	return err
}

func (d *dyingClient) Delete(ctx context.Context, obj client.Object, opts ...client.DeleteOption) error {
	if d.dead.Load() {
		return errKilled
	}
	return d.Client.Delete(ctx, obj, opts...)
}

func (d *dyingClient) Status() client.SubResourceWriter {
	return dyingStatus{SubResourceWriter: d.Client.Status(), d: d}
}

type dyingStatus struct {
	client.SubResourceWriter
	d *dyingClient
}

func (s dyingStatus) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
	if s.d.dead.Load() {
		return errKilled
	}
	return s.SubResourceWriter.Patch(ctx, obj, patch, opts...)
}

func (s dyingStatus) Update(ctx context.Context, obj client.Object, opts ...client.SubResourceUpdateOption) error {
	if s.d.dead.Load() {
		return errKilled
	}
	return s.SubResourceWriter.Update(ctx, obj, opts...)
}

// TestKilledBetweenCreateAndStatus kills the controller right after it created a run and before
// it wrote the status; a restarted controller repairs the status and creates no duplicate.
func TestKilledBetweenCreateAndStatus(t *testing.T) {
	t.Parallel()
	l := newLambda(t)
	cases := []struct {
		name  string
		how   string // interval, manual or forced
		force bool
	}{
		{"on-interval", "interval", false},
		{"on-request", "manual", false},
		{"on-forced-request", "manual", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ns := env.Namespace(t) // each case has its own controllers, which watch their namespace
			opts := testOptions(ns)
			first := newController(t, opts)
			dying := &dyingClient{Client: first.r.Client, died: make(chan struct{})}
			first.r.Client = dying
			l.answer(tc.name, tc.how == "interval", map[string]string{"name": "m"})
			first.start(t)
			create(t, newModelSync(ns, tc.name, l.url(tc.name)))
			var at string
			if tc.how == "manual" {
				waitMS(t, ns, tc.name, "the first check", func(m *automlv1alpha1.ModelSync) bool { return m.Status.LastNeedsSync != nil })
				l.answer(tc.name, true, map[string]string{"name": "m"})
				at = requestSync(t, ns, tc.name, tc.force, "")
			}
			select {
			case <-dying.died:
			case <-time.After(waitLimit):
				t.Fatal("the controller never created a run")
			}
			first.stop()
			lost := getMS(t, ns, tc.name)
			if lost.Status.LastRun != nil || len(lost.Status.Active) != 0 || (at != "" && lost.Status.LastHandledTriggerAt == at) {
				t.Fatalf("the status was written before the kill, the test kills too late: %+v", lost.Status)
			}

			newController(t, opts).start(t)
			name := tc.name + "-1"
			got := waitMS(t, ns, tc.name, "status repaired", func(m *automlv1alpha1.ModelSync) bool {
				return m.Status.LastRun != nil && m.Status.LastRun.Name == name && len(m.Status.Active) == 1 &&
					m.Status.LastHandledTriggerAt == at
			})
			if got.Status.LastRun.Trigger != automlv1alpha1.Trigger(tc.how) || got.Status.Active[0].Name != name {
				t.Errorf("repaired status: lastRun %+v, active %+v", got.Status.LastRun, got.Status.Active)
			}
			finishRun(t, ns, name, true)
			waitMS(t, ns, tc.name, "run observed finished", func(m *automlv1alpha1.ModelSync) bool {
				return m.Status.LastSuccessfulRun != nil && m.Status.LastSuccessfulRun.Name == name
			})
			time.Sleep(500 * time.Millisecond)
			if runs := runsOf(t, ns, tc.name); len(runs) != 1 {
				t.Errorf("runs after the restart: %v, want only %s", runs, name)
			}
		})
	}
}
