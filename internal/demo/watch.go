package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
	"github.com/modelsync/modelsync/internal/pipelinerun"
)

var pipelineRunList = schema.GroupVersionKind{Group: "tekton.dev", Version: "v1", Kind: "PipelineRunList"}

// watcher polls the ModelSyncs and their runs, prints what changed, and answers the demo's
// waits. Polling once a second is plenty for a demo whose checks run every 10s.
type watcher struct {
	d      *demo
	checks map[string]string // ModelSync → last printed answer
	runs   map[string]string // run → last printed state
	// syncs and list are the ModelSyncs and runs of the last poll.
	syncs map[string]*automlv1alpha1.ModelSync
	list  []unstructured.Unstructured
}

func newWatcher(d *demo) *watcher {
	return &watcher{d: d, checks: map[string]string{}, runs: map[string]string{}, syncs: map[string]*automlv1alpha1.ModelSync{}}
}

// poll reads the ModelSyncs and runs once and prints the changes.
func (w *watcher) poll(ctx context.Context) error {
	if err := w.d.alive(); err != nil {
		return err
	}
	for _, name := range []string{Trainer, Deployer} {
		ms := &automlv1alpha1.ModelSync{}
		if err := w.d.client.Get(ctx, client.ObjectKey{Namespace: Namespace, Name: name}, ms); err != nil {
			return err
		}
		w.syncs[name] = ms
		last := ms.Status.LastNeedsSync
		if last == nil {
			continue
		}
		var answer string
		switch {
		case last.Error != "":
			answer = "check failed: " + last.Error
		case last.NeedsSync:
			answer = "sync needed " + formatParams(last.Parameters)
		default:
			answer = "in sync"
		}
		if w.checks[name] != answer {
			w.checks[name] = answer
			w.d.say("check   %s → %s", name, answer)
		}
	}
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(pipelineRunList)
	if err := w.d.client.List(ctx, list, client.InNamespace(Namespace)); err != nil {
		return err
	}
	sort.Slice(list.Items, func(i, j int) bool {
		a, b := list.Items[i].GetCreationTimestamp(), list.Items[j].GetCreationTimestamp()
		if !a.Equal(&b) {
			return a.Before(&b)
		}
		return list.Items[i].GetName() < list.Items[j].GetName()
	})
	w.list = list.Items
	for i := range list.Items {
		u := &list.Items[i]
		st := pipelinerun.ReadStatus(u)
		state := string(st.Succeeded) + "/" + st.Reason
		prev, seen := w.runs[u.GetName()]
		if prev == state {
			continue
		}
		w.runs[u.GetName()] = state
		ann := u.GetAnnotations()
		if !seen {
			w.d.say("run     %s created (%s) with %s", u.GetName(), ann[automlv1alpha1.AnnotationTrigger], formatRunParams(u))
		}
		switch {
		case st.Succeeded == "True":
			w.d.say("run     %s Succeeded in %s%s", u.GetName(), took(st), formatResults(u))
		case st.Succeeded == "False":
			w.d.say("run     %s Failed (%s): %s", u.GetName(), st.Reason, st.Message)
		}
	}
	return nil
}

// runsOf returns the runs of a ModelSync from the last poll.
func (w *watcher) runsOf(modelSync string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for i := range w.list {
		if w.list[i].GetLabels()[automlv1alpha1.LabelModelSync] == modelSync {
			out = append(out, &w.list[i])
		}
	}
	return out
}

// runNames returns the names of a ModelSync's runs now.
func (w *watcher) runNames(ctx context.Context, modelSync string) (map[string]bool, error) {
	if err := w.poll(ctx); err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, u := range w.runsOf(modelSync) {
		names[u.GetName()] = true
	}
	return names, nil
}

// waitRun waits for a run of modelSync, not in exclude, that matches and succeeds. A matching
// run that fails ends the wait with its message.
func (w *watcher) waitRun(ctx context.Context, modelSync string, exclude map[string]bool, match func(*unstructured.Unstructured) bool) (*unstructured.Unstructured, error) {
	for {
		if err := w.poll(ctx); err != nil {
			return nil, err
		}
		for _, u := range w.runsOf(modelSync) {
			if exclude[u.GetName()] || !match(u) {
				continue
			}
			switch st := pipelinerun.ReadStatus(u); st.Succeeded {
			case "True":
				return u.DeepCopy(), nil
			case "False":
				return nil, fmt.Errorf("run %s failed (%s): %s; see `kubectl modelsync logs %s -n %s`", u.GetName(), st.Reason, st.Message, u.GetName(), Namespace)
			}
		}
		if err := sleep(ctx, time.Second); err != nil {
			return nil, fmt.Errorf("waiting for a run of %s: %w", modelSync, err)
		}
	}
}

// waitInSync waits for an answer of modelSync's lambda, given after since, that needs no sync.
func (w *watcher) waitInSync(ctx context.Context, modelSync string, since time.Time) error {
	for {
		if err := w.poll(ctx); err != nil {
			return err
		}
		ms := w.syncs[modelSync]
		// Times in status have a one-second resolution.
		if last := ms.Status.LastNeedsSync; last != nil && !last.NeedsSync && last.Error == "" && !last.Time.Time.Before(since.Truncate(time.Second).Add(time.Second)) {
			return nil
		}
		if err := sleep(ctx, time.Second); err != nil {
			return fmt.Errorf("waiting for %s to report in sync: %w", modelSync, err)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

func formatParams(p map[string]string) string {
	data, _ := json.Marshal(p)
	return string(data)
}

// formatRunParams shows the params the lambda chose (those in its parameters annotation map
// to params; the rest are the template's).
func formatRunParams(u *unstructured.Unstructured) string {
	ann := u.GetAnnotations()[automlv1alpha1.AnnotationParameters]
	if ann == "" || ann == "{}" || ann == "null" {
		return "the template's params"
	}
	return "lambda parameters " + ann
}

func formatResults(u *unstructured.Unstructured) string {
	results := pipelinerun.NamedValues(u.Object, "status", "results")
	var parts []string
	for name, v := range results {
		if v != "" {
			parts = append(parts, name+"="+v)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	sort.Strings(parts)
	return " · " + strings.Join(parts, " ")
}

func took(st pipelinerun.Status) string {
	if st.Start == nil || st.Completion == nil {
		return "?"
	}
	return st.Completion.Sub(st.Start.Time).Round(time.Second).String()
}

// result reads a PipelineRun result.
func result(u *unstructured.Unstructured, name string) string {
	return pipelinerun.NamedValues(u.Object, "status", "results")[name]
}

// param reads a PipelineRun param.
func param(u *unstructured.Unstructured, name string) string {
	return pipelinerun.NamedValues(u.Object, "spec", "params")[name]
}
