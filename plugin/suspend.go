package plugin

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

// SuspendOptions are the options of `kubectl modelsync suspend` and `resume`.
type SuspendOptions struct {
	*Common

	Names     []string
	Namespace string
	Output    string
	// Suspend is the value written to spec.suspend: true for suspend, false for resume.
	Suspend bool
}

func newSuspendCommand(common *Common) *cobra.Command {
	o := &SuspendOptions{Common: common, Suspend: true}
	cmd := &cobra.Command{
		Use:   "suspend NAME...",
		Short: "Stop the controller from checking and starting runs for ModelSyncs",
		Long: `suspend sets spec.suspend on each named ModelSync: the controller stops asking the lambda
and starts no new run. A run already going is left to finish. Undo it with resume.`,
		Example: `  kubectl modelsync suspend deployer -n label-bot`,
		Args:    cobra.MinimumNArgs(1),
		RunE:    runE(o),
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "Output format: name (prints only the resource name).")
	return cmd
}

// Complete fills in the names and the namespace.
func (o *SuspendOptions) Complete(args []string) error {
	o.Names = args
	ns, err := o.defaultNamespace()
	if err != nil {
		return err
	}
	o.Namespace = ns
	return nil
}

// Validate checks the output format.
func (o *SuspendOptions) Validate() error { return validateOutput(o.Output, "name") }

// Run patches spec.suspend of each ModelSync. It goes on past a failing name and reports all
// failures at the end.
func (o *SuspendOptions) Run(ctx context.Context) error {
	verb, already := "suspended", "already suspended"
	if !o.Suspend {
		verb, already = "resumed", "not suspended"
	}
	patch := fmt.Appendf(nil, `{"spec":{"suspend":%t}}`, o.Suspend)
	var errs []error
	for _, name := range o.Names {
		ms, err := o.clients.getModelSync(ctx, o.Namespace, name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		state := verb
		if ms.Spec.Suspend == o.Suspend {
			state = already
		} else if _, err := o.clients.patchModelSync(ctx, o.Namespace, name, patch); err != nil {
			errs = append(errs, err)
			continue
		}
		if o.Output == "name" {
			fmt.Fprintf(o.Out, "modelsync.%s/%s\n", modelSyncGVK.Group, name)
		} else {
			fmt.Fprintf(o.Out, "modelsync.%s/%s %s\n", modelSyncGVK.Group, name, state)
		}
	}
	return errors.Join(errs...)
}
