package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/cli-runtime/pkg/printers"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
	"github.com/modelsync/modelsync/plugin/format"
)

// StatusOptions are the options of `kubectl modelsync status`.
type StatusOptions struct {
	*Common

	ListFlags

	Name      string
	Namespace string
	Watch     bool
}

func newStatusCommand(common *Common) *cobra.Command {
	o := &StatusOptions{Common: common}
	cmd := &cobra.Command{
		Use:   "status [NAME]",
		Short: "Show ModelSyncs: a table, or a detailed view of one",
		Long: `Without a name, status prints one line per ModelSync: whether it is ready and suspended,
the lambda's last answer, the active run, the last run's result, when the lambda is asked next,
and the age. It costs one list request whatever the number of ModelSyncs.

With a name, it describes the ModelSync: its spec, conditions, the lambda's last answer, the
active and recent runs with their durations, and recent events.`,
		Example: `  kubectl modelsync status -A
  kubectl modelsync status trainer -n ml
  kubectl modelsync status -l team=nlp -o wide -w`,
		Args: cobra.MaximumNArgs(1),
		RunE: runE(o),
	}
	f := cmd.Flags()
	o.ListFlags.add(f, "ModelSyncs")
	f.BoolVarP(&o.Watch, "watch", "w", false, "After listing, watch for changes and print a line for each.")
	return cmd
}

// Complete fills in the name and the namespace.
func (o *StatusOptions) Complete(args []string) error {
	if len(args) == 1 {
		o.Name = args[0]
	}
	var err error
	o.Namespace, err = o.ListFlags.namespace(o.Common)
	return err
}

// Validate checks flag combinations.
func (o *StatusOptions) Validate() error {
	if err := validateOutput(o.Output, "wide", "json", "yaml", "name"); err != nil {
		return err
	}
	if o.Name != "" && o.AllNamespaces {
		return errors.New("a ModelSync name cannot be combined with --all-namespaces: use -n")
	}
	if o.Name != "" && o.Selector != "" {
		return errors.New("a ModelSync name cannot be combined with --selector")
	}
	if _, err := labels.Parse(o.Selector); err != nil {
		return fmt.Errorf("invalid --selector %q: %w", o.Selector, err)
	}
	if o.Watch && o.Output != "" && o.Output != "wide" {
		return fmt.Errorf("--watch prints table lines: use it without -o or with -o wide, not -o %s", o.Output)
	}
	return nil
}

// Run prints the table, the objects, or the detailed view.
func (o *StatusOptions) Run(ctx context.Context) error {
	if o.Name != "" && o.Output == "" && !o.Watch {
		return o.describe(ctx)
	}
	opts := metav1.ListOptions{LabelSelector: o.Selector}
	if o.Name != "" {
		opts.FieldSelector = fields.OneTermEqualSelector("metadata.name", o.Name).String()
	}
	list, err := o.clients.listModelSyncs(ctx, o.Namespace, opts)
	if err != nil {
		return err
	}
	if o.Name != "" && len(list.Items) == 0 {
		return modelSyncError(notFound(o.Name), "get", o.Namespace, o.Name)
	}
	switch o.Output {
	case "name":
		for i := range list.Items {
			if err := printObject(o.Out, o.Output, &list.Items[i]); err != nil {
				return err
			}
		}
		return nil
	case "json", "yaml":
		if o.Name != "" {
			return printObject(o.Out, o.Output, &list.Items[0])
		}
		return printObject(o.Out, o.Output, list)
	}
	if len(list.Items) == 0 && !o.Watch {
		fmt.Fprintln(o.ErrOut, noneFound("ModelSyncs", o.Namespace))
		return nil
	}
	t := o.table()
	if !o.NoHeaders {
		t.header()
	}
	for i := range list.Items {
		t.row(&list.Items[i])
	}
	if err := t.flush(); err != nil {
		return err
	}
	if !o.Watch {
		return nil
	}
	opts.ResourceVersion = list.ResourceVersion
	return o.watch(ctx, opts, t)
}

// watch prints a line per change until the context ends; it re-opens the watch when the
// server closes it.
func (o *StatusOptions) watch(ctx context.Context, opts metav1.ListOptions, t *statusTable) error {
	for {
		w, err := o.clients.watchModelSyncs(ctx, o.Namespace, opts)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		for ev := range w.ResultChan() {
			if ev.Type == watch.Error {
				w.Stop()
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("failed to watch ModelSyncs: %w", apierrors.FromObject(ev.Object))
			}
			ms, ok := ev.Object.(*automlv1alpha1.ModelSync)
			if !ok {
				continue
			}
			opts.ResourceVersion = ms.ResourceVersion
			t.row(ms)
			if err := t.flush(); err != nil {
				w.Stop()
				return err
			}
		}
		w.Stop()
		if ctx.Err() != nil {
			return nil
		}
	}
}

type statusTable struct {
	tw    *tabWriter
	nowFn func() time.Time
	allNS bool
	wide  bool
}

func (o *StatusOptions) table() *statusTable {
	return &statusTable{tw: newTabWriter(o.Out), nowFn: o.Now, allNS: o.AllNamespaces, wide: o.Output == "wide"}
}

func (t *statusTable) header() {
	cols := []string{"NAME", "READY", "SUSPENDED", "NEEDS SYNC", "ACTIVE RUN", "LAST RUN", "NEXT CHECK", "AGE"}
	if t.allNS {
		cols = append([]string{"NAMESPACE"}, cols...)
	}
	if t.wide {
		cols = append(cols, "LAST CHECK", "INTERVAL", "LAMBDA", "MESSAGE")
	}
	t.tw.line(cols...)
}

func (t *statusTable) row(ms *automlv1alpha1.ModelSync) {
	now := t.nowFn()
	cols := []string{
		ms.Name,
		format.ConditionStatus(ms.Status.Conditions, automlv1alpha1.ConditionReady),
		format.Bool(ms.Spec.Suspend),
		needsSyncColumn(ms.Status.LastNeedsSync),
		activeRunColumn(ms.Status.Active),
		lastRunColumn(ms.Status.LastRun, now),
		nextCheck(ms, now),
		format.Age(&ms.CreationTimestamp, now),
	}
	if t.allNS {
		cols = append([]string{ms.Namespace}, cols...)
	}
	if t.wide {
		var lastCheck *metav1.Time
		if ms.Status.LastNeedsSync != nil {
			lastCheck = &ms.Status.LastNeedsSync.Time
		}
		cols = append(cols, format.Age(lastCheck, now), ms.GetInterval().String(), ms.Spec.NeedsSyncURL, readyMessage(ms))
	}
	t.tw.line(cols...)
}

func (t *statusTable) flush() error { return t.tw.flush() }

func needsSyncColumn(r *automlv1alpha1.NeedsSyncResult) string {
	switch {
	case r == nil:
		return format.Missing
	case r.Error != "":
		return "Error"
	}
	return format.Bool(r.NeedsSync)
}

func activeRunColumn(active []corev1.ObjectReference) string {
	switch len(active) {
	case 0:
		return format.Missing
	case 1:
		return active[0].Name
	}
	return fmt.Sprintf("%s (+%d)", active[0].Name, len(active)-1)
}

func lastRunColumn(r *automlv1alpha1.RunStatus, now time.Time) string {
	if r == nil {
		return format.Missing
	}
	when := r.CompletionTime
	if when == nil {
		when = r.StartTime
	}
	result := format.Result(r.Succeeded)
	if when == nil {
		return result
	}
	return result + ", " + format.Age(when, now) + " ago"
}

// nextCheck says when the controller asks the lambda next, following DESIGN.md: never while
// suspended, after the active run ends, now for a pending manual trigger, else one interval
// after the last check.
func nextCheck(ms *automlv1alpha1.ModelSync, now time.Time) string {
	switch {
	case ms.Spec.Suspend:
		return format.Missing
	case triggerPending(ms):
		return "now (triggered)"
	case len(ms.Status.Active) > 0:
		return "after " + ms.Status.Active[0].Name
	case ms.Status.LastNeedsSync == nil:
		return "now"
	}
	return format.Until(ms.Status.LastNeedsSync.Time.Add(ms.GetInterval()), now)
}

// triggerPending reports whether a manual trigger waits for the controller.
func triggerPending(ms *automlv1alpha1.ModelSync) bool {
	at := ms.Annotations[automlv1alpha1.AnnotationRequestedAt]
	return at != "" && at != ms.Status.LastHandledTriggerAt
}

func readyMessage(ms *automlv1alpha1.ModelSync) string {
	for _, c := range ms.Status.Conditions {
		if c.Type == automlv1alpha1.ConditionReady {
			return format.Or(strings.TrimSpace(format.OneLine(c.Message)))
		}
	}
	return format.Missing
}

// noneFound is kubectl's message for an empty list.
func noneFound(what, ns string) string {
	if ns == "" {
		return "No " + what + " found."
	}
	return fmt.Sprintf("No %s found in %s namespace.", what, ns)
}

// tabWriter writes aligned columns like kubectl.
type tabWriter struct {
	w interface {
		io.Writer
		Flush() error
	}
}

func newTabWriter(out io.Writer) *tabWriter { return &tabWriter{w: printers.GetNewTabWriter(out)} }

func (t *tabWriter) line(cols ...string) {
	fmt.Fprintln(t.w, strings.Join(cols, "\t"))
}

func (t *tabWriter) flush() error { return t.w.Flush() }
