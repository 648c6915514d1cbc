package plugin

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/modelsync/modelsync/plugin/format"
)

// RunsOptions are the options of `kubectl modelsync runs`.
type RunsOptions struct {
	*Common

	ListFlags

	Name      string
	Namespace string
}

func newRunsCommand(common *Common) *cobra.Command {
	o := &RunsOptions{Common: common}
	cmd := &cobra.Command{
		Use:   "runs [NAME]",
		Short: "List the PipelineRuns of a ModelSync, newest first",
		Long: `runs prints the run history of a ModelSync: each PipelineRun with what triggered it, the
lambda's parameters, its result, when it started and how long it took. Without a name it lists
the runs of every ModelSync in the namespace (or all namespaces with -A).`,
		Example: `  kubectl modelsync runs deployer -n label-bot
  kubectl modelsync runs -A -o wide`,
		Args: cobra.MaximumNArgs(1),
		RunE: runE(o),
	}
	f := cmd.Flags()
	o.ListFlags.add(f, "runs")
	return cmd
}

// Complete fills in the name and the namespace.
func (o *RunsOptions) Complete(args []string) error {
	if len(args) == 1 {
		o.Name = args[0]
	}
	var err error
	o.Namespace, err = o.ListFlags.namespace(o.Common)
	return err
}

// Validate checks flag combinations.
func (o *RunsOptions) Validate() error {
	if o.Name != "" && o.AllNamespaces {
		return errors.New("a ModelSync name cannot be combined with --all-namespaces: use -n")
	}
	return validateOutput(o.Output, "wide", "json", "yaml", "name")
}

// Run lists the runs: a get of the ModelSync (so that a wrong name is an error, not an empty
// list) and one list of PipelineRuns.
func (o *RunsOptions) Run(ctx context.Context) error {
	c := o.clients
	if o.Name != "" {
		if _, err := c.getModelSync(ctx, o.Namespace, o.Name); err != nil {
			return err
		}
	}
	sel, err := modelSyncRunsSelector(o.Name, o.Selector)
	if err != nil {
		return err
	}
	if o.Output == "json" || o.Output == "yaml" || o.Output == "name" {
		list, err := c.dynamic.Resource(pipelineRunsGVR).Namespace(o.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
		if err != nil {
			return runError(err, "list", o.Namespace, "")
		}
		list.SetAPIVersion("v1")
		list.SetKind("List")
		if o.Output == "name" {
			for i := range list.Items {
				if err := printObject(o.Out, o.Output, &list.Items[i]); err != nil {
					return err
				}
			}
			return nil
		}
		return printObject(o.Out, o.Output, list)
	}
	runs, err := c.listRuns(ctx, o.Namespace, sel)
	if err != nil {
		return err
	}
	if len(runs) == 0 {
		if o.Name != "" {
			fmt.Fprintf(o.ErrOut, "No runs yet for modelsync %q in %s namespace.\n", o.Name, o.Namespace)
		} else {
			fmt.Fprintln(o.ErrOut, noneFound("ModelSync runs", o.Namespace))
		}
		return nil
	}
	now := o.Now()
	w := newTabWriter(o.Out)
	if !o.NoHeaders {
		cols := []string{"NAME", "TRIGGER", "PARAMETERS", "RESULT", "STARTED", "DURATION"}
		if o.Name == "" {
			cols = append([]string{"MODELSYNC"}, cols...)
		}
		if o.AllNamespaces {
			cols = append([]string{"NAMESPACE"}, cols...)
		}
		if o.Output == "wide" {
			cols = append(cols, "REASON", "MESSAGE")
		}
		w.line(cols...)
	}
	for _, r := range runs {
		cols := []string{r.Name, format.Or(r.Trigger), format.Params(r.Parameters), r.Result(), ago(r.Start, now), format.Duration(r.Start, r.End, now)}
		if o.Name == "" {
			cols = append([]string{r.ModelSync}, cols...)
		}
		if o.AllNamespaces {
			cols = append([]string{r.Namespace}, cols...)
		}
		if o.Output == "wide" {
			cols = append(cols, format.Or(r.Reason), format.Or(format.OneLine(r.Message)))
		}
		w.line(cols...)
	}
	return w.flush()
}
