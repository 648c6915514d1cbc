package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
	"github.com/modelsync/modelsync/plugin/format"
)

// Runs and events shown by the detailed view.
const (
	describeRuns   = 5
	describeEvents = 10
)

// describe prints the detailed view of one ModelSync: one get, one list of its runs and one
// list of its events.
func (o *StatusOptions) describe(ctx context.Context) error {
	c := o.clients
	ms, err := c.getModelSync(ctx, o.Namespace, o.Name)
	if err != nil {
		return err
	}
	sel, err := modelSyncRunsSelector(ms.Name, "")
	if err != nil {
		return err
	}
	runs, err := c.listRuns(ctx, ms.Namespace, sel)
	if err != nil {
		return err
	}
	events, err := c.kube.CoreV1().Events(ms.Namespace).List(ctx, metav1.ListOptions{
		FieldSelector: fields.Set{
			"involvedObject.kind": automlv1alpha1.ModelSyncKind,
			"involvedObject.name": ms.Name,
		}.String(),
	})
	if err != nil {
		return fmt.Errorf("failed to list the events of modelsync %q: %w", ms.Name, err)
	}
	now := o.Now()
	// One tab writer per section, so that each section is aligned on its own.
	sections := []func(*tabWriter){
		func(w *tabWriter) { describeSpec(w, ms, now) },
		func(w *tabWriter) { describeConditions(w, ms, now) },
		func(w *tabWriter) { describeNeedsSync(w, ms, now) },
		func(w *tabWriter) { describeRunList(w, ms, runs, now) },
		func(w *tabWriter) { describeEventList(w, events.Items, now) },
	}
	for _, section := range sections {
		w := newTabWriter(o.Out)
		section(w)
		if err := w.flush(); err != nil {
			return err
		}
	}
	return nil
}

func describeSpec(w *tabWriter, ms *automlv1alpha1.ModelSync, now time.Time) {
	w.line("Name:", ms.Name)
	w.line("Namespace:", ms.Namespace)
	w.line("Lambda:", ms.Spec.NeedsSyncURL)
	w.line("Interval:", ms.GetInterval().String())
	w.line("Timeout:", ms.GetTimeout().String())
	w.line("Suspended:", format.Bool(ms.Spec.Suspend))
	w.line("Pipeline:", pipelineOf(ms))
	var mappings []string
	for _, p := range ms.Spec.Parameters {
		mappings = append(mappings, p.NeedsSyncName+" → "+p.PipelineName)
	}
	w.line("Parameters:", format.Or(strings.Join(mappings, ", ")))
	w.line("History limits:", fmt.Sprintf("%d succeeded, %d failed", ms.GetSuccessfulHistoryLimit(), ms.GetFailedHistoryLimit()))
	if at := ms.Annotations[automlv1alpha1.AnnotationRequestedAt]; at != "" {
		state := "handled"
		if triggerPending(ms) {
			state = "pending"
		}
		if ms.Annotations[automlv1alpha1.AnnotationForce] == "true" {
			state += ", forced"
		}
		w.line("Manual trigger:", at+" ("+state+")")
	}
	w.line("Observed generation:", fmt.Sprintf("%d of %d", ms.Status.ObservedGeneration, ms.Generation))
	w.line("Age:", format.Age(&ms.CreationTimestamp, now))
}

// pipelineOf names the pipeline of the template: pipelineRef.name, or "inline" for a pipelineSpec.
func pipelineOf(ms *automlv1alpha1.ModelSync) string {
	var spec struct {
		PipelineRef *struct {
			Name string `json:"name"`
		} `json:"pipelineRef"`
		PipelineSpec json.RawMessage `json:"pipelineSpec"`
	}
	if err := json.Unmarshal(ms.Spec.PipelineRunTemplate.Spec.Raw, &spec); err != nil {
		return format.Missing
	}
	switch {
	case spec.PipelineRef != nil && spec.PipelineRef.Name != "":
		return spec.PipelineRef.Name
	case len(spec.PipelineSpec) > 0:
		return "(inline pipelineSpec)"
	}
	return format.Missing
}

func describeConditions(w *tabWriter, ms *automlv1alpha1.ModelSync, now time.Time) {
	w.line("")
	w.line("Conditions:")
	if len(ms.Status.Conditions) == 0 {
		w.line("  " + format.Missing)
		return
	}
	w.line("  TYPE", "STATUS", "REASON", "AGE", "MESSAGE")
	for _, c := range ms.Status.Conditions {
		w.line("  "+c.Type, string(c.Status), format.Or(c.Reason), format.Age(&c.LastTransitionTime, now), format.Or(format.OneLine(c.Message)))
	}
}

func describeNeedsSync(w *tabWriter, ms *automlv1alpha1.ModelSync, now time.Time) {
	w.line("")
	w.line("Last lambda answer:")
	r := ms.Status.LastNeedsSync
	if r == nil {
		w.line("  " + format.Missing)
	} else {
		w.line("  Time:", ago(&r.Time, now))
		needs := format.Bool(r.NeedsSync)
		if r.Error != "" {
			needs = format.Missing
		}
		w.line("  Needs sync:", needs)
		w.line("  Parameters:", format.Params(r.Parameters))
		w.line("  Error:", format.Or(format.OneLine(r.Error)))
	}
	w.line("Next check:", nextCheck(ms, now))
}

func describeRunList(w *tabWriter, ms *automlv1alpha1.ModelSync, runs []runInfo, now time.Time) {
	w.line("")
	var active []string
	for _, a := range ms.Status.Active {
		active = append(active, a.Name)
	}
	w.line("Active runs:", format.Or(strings.Join(active, ", ")))
	if len(runs) == 0 {
		w.line("Recent runs:", format.Missing)
		return
	}
	w.line(fmt.Sprintf("Recent runs (%d of %d):", min(len(runs), describeRuns), len(runs)))
	w.line("  NAME", "TRIGGER", "RESULT", "STARTED", "DURATION", "PARAMETERS")
	for _, r := range runs[:min(len(runs), describeRuns)] {
		w.line("  "+r.Name, format.Or(r.Trigger), r.Result(), ago(r.Start, now), format.Duration(r.Start, r.End, now), format.Params(r.Parameters))
	}
}

func describeEventList(w *tabWriter, events []corev1.Event, now time.Time) {
	w.line("")
	if len(events) == 0 {
		w.line("Events:", "<none>")
		return
	}
	sort.SliceStable(events, func(i, j int) bool { return eventTime(&events[i]).Before(eventTime(&events[j])) })
	if len(events) > describeEvents {
		events = events[len(events)-describeEvents:]
	}
	w.line("Events:")
	w.line("  TYPE", "REASON", "AGE", "FROM", "MESSAGE")
	for i := range events {
		e := &events[i]
		from := e.Source.Component
		if from == "" {
			from = e.ReportingController
		}
		w.line("  "+e.Type, e.Reason, format.Since(eventTime(e), now), format.Or(from), format.OneLine(e.Message))
	}
}

// eventTime is the last time an event was seen, whichever API wrote it.
func eventTime(e *corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case e.Series != nil && !e.Series.LastObservedTime.IsZero():
		return e.Series.LastObservedTime.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}

// ago is an age with "ago", or Missing.
func ago(t *metav1.Time, now time.Time) string {
	if t == nil || t.IsZero() {
		return format.Missing
	}
	return format.Age(t, now) + " ago"
}
