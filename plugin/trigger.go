package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
	"github.com/modelsync/modelsync/internal/pipelinerun"
	"github.com/modelsync/modelsync/plugin/format"
)

// TriggerOptions are the options of `kubectl modelsync trigger`.
type TriggerOptions struct {
	*Common

	Name      string
	Namespace string
	Force     bool
	RawParams []string
	Params    map[string]string
	Wait      bool
	Timeout   time.Duration
	DryRun    bool
	Output    string
}

func newTriggerCommand(common *Common) *cobra.Command {
	o := &TriggerOptions{Common: common}
	cmd := &cobra.Command{
		Use:   "trigger NAME",
		Short: "Ask the controller to check a ModelSync now (or to run it with --force)",
		Long: `trigger writes the manual-trigger annotation on a ModelSync: the controller asks the lambda
at once instead of at the next interval, and starts a run if the lambda says a sync is needed.
With --force the controller starts a run without asking the lambda, with the parameters given
by --param (each must be a lambda parameter that spec.parameters maps).

--wait follows the run the trigger caused until it finishes and exits 1 if it failed.
--dry-run changes nothing: it prints the PipelineRun that would be created, rendered here by
the same library the controller uses.`,
		Example: `  kubectl modelsync trigger deployer -n label-bot --wait
  kubectl modelsync trigger trainer --force --param name=model-42 --wait --timeout 1h
  kubectl modelsync trigger deployer --force --param name=model-42 --dry-run -o json`,
		Args: cobra.ExactArgs(1),
		RunE: runE(o),
	}
	f := cmd.Flags()
	f.BoolVar(&o.Force, "force", false, "Start a run without asking the lambda.")
	f.StringArrayVar(&o.RawParams, "param", nil, "Parameter of a forced run as KEY=VALUE, KEY a lambda parameter name (repeatable).")
	f.BoolVar(&o.Wait, "wait", false, "Wait for the run the trigger causes to finish; exit 1 if it fails.")
	f.DurationVar(&o.Timeout, "timeout", 30*time.Minute, "How long --wait waits.")
	f.BoolVar(&o.DryRun, "dry-run", false, "Print the PipelineRun that would be created and change nothing.")
	f.StringVarP(&o.Output, "output", "o", "", "Output format: yaml or json with --dry-run (default yaml), name otherwise.")
	return cmd
}

// Complete fills in the name, the namespace and the parsed parameters.
func (o *TriggerOptions) Complete(args []string) error {
	o.Name = args[0]
	params, err := parseParams(o.RawParams)
	if err != nil {
		return err
	}
	o.Params = params
	ns, err := o.defaultNamespace()
	if err != nil {
		return err
	}
	o.Namespace = ns
	return nil
}

// parseParams reads KEY=VALUE pairs; an empty key or a repeated key is an error.
func parseParams(raw []string) (map[string]string, error) {
	params := map[string]string{}
	for _, kv := range raw {
		key, value, ok := strings.Cut(kv, "=")
		if !ok || key == "" {
			return nil, fmt.Errorf("invalid --param %q: want KEY=VALUE with a non-empty KEY", kv)
		}
		if _, dup := params[key]; dup {
			return nil, fmt.Errorf("invalid --param %q: %q is given twice", kv, key)
		}
		params[key] = value
	}
	return params, nil
}

// Validate checks flag combinations.
func (o *TriggerOptions) Validate() error {
	if len(o.Params) > 0 && !o.Force {
		return errors.New("--param needs --force: without it the lambda chooses the parameters")
	}
	if o.DryRun {
		if o.Wait {
			return errors.New("--dry-run and --wait cannot be combined: a dry run starts nothing")
		}
		return validateOutput(o.Output, "yaml", "json")
	}
	if o.Timeout <= 0 {
		return fmt.Errorf("invalid --timeout %s: must be positive", o.Timeout)
	}
	return validateOutput(o.Output, "name")
}

// Run writes the trigger annotations (or renders the run for --dry-run) and waits if asked.
func (o *TriggerOptions) Run(ctx context.Context) error {
	c := o.clients
	ms, err := c.getModelSync(ctx, o.Namespace, o.Name)
	if err != nil {
		return err
	}
	if err := checkParams(ms, o.Params); err != nil {
		return err
	}
	if o.DryRun {
		return o.dryRun(ctx, ms)
	}
	if ms.Spec.Suspend {
		return fmt.Errorf("modelsync %q is suspended: the controller serves no trigger until it is resumed (kubectl modelsync resume %s -n %s)",
			ms.Name, ms.Name, ms.Namespace)
	}
	var baseline int64
	if o.Wait {
		if baseline, err = o.nextNumber(ctx, ms); err != nil {
			return err
		}
	}
	at := o.requestedAt()
	patch, err := triggerPatch(at, o.Force, o.Params)
	if err != nil {
		return err
	}
	if _, err := c.patchModelSync(ctx, o.Namespace, o.Name, patch); err != nil {
		return err
	}
	ref := fmt.Sprintf("modelsync.%s/%s", modelSyncGVK.Group, o.Name)
	switch {
	case o.Output == "name":
		fmt.Fprintln(o.Out, ref)
	case o.Force:
		fmt.Fprintf(o.Out, "%s triggered (forced, parameters %s)\n", ref, format.Params(o.Params))
	default:
		fmt.Fprintf(o.Out, "%s triggered\n", ref)
	}
	if !o.Wait {
		return nil
	}
	return o.wait(ctx, at, baseline)
}

// checkParams rejects a forced parameter that spec.parameters does not map: the controller
// could not render the run.
func checkParams(ms *automlv1alpha1.ModelSync, params map[string]string) error {
	var mapped []string
	for _, p := range ms.Spec.Parameters {
		mapped = append(mapped, p.NeedsSyncName)
	}
	for key := range params {
		if !slices.Contains(mapped, key) {
			known := format.Or(strings.Join(mapped, ", "))
			return fmt.Errorf("invalid --param %q: modelsync %q maps no lambda parameter of that name (spec.parameters has: %s)",
				key, ms.Name, known)
		}
	}
	return nil
}

// triggerPatch sets the trigger annotations of DESIGN.md and clears a previous force request
// when this one is not forced.
func triggerPatch(at string, force bool, params map[string]string) ([]byte, error) {
	annotations := map[string]any{
		automlv1alpha1.AnnotationRequestedAt:         at,
		automlv1alpha1.AnnotationForce:               nil,
		automlv1alpha1.AnnotationRequestedParameters: nil,
	}
	if force {
		encoded, err := json.Marshal(params)
		if err != nil {
			return nil, fmt.Errorf("failed to encode the parameters: %w", err)
		}
		annotations[automlv1alpha1.AnnotationForce] = "true"
		annotations[automlv1alpha1.AnnotationRequestedParameters] = string(encoded)
	}
	return json.Marshal(map[string]any{"metadata": map[string]any{"annotations": annotations}})
}

// nextNumber is the number the next run of ms gets, from its status and its runs (one list).
func (o *TriggerOptions) nextNumber(ctx context.Context, ms *automlv1alpha1.ModelSync) (int64, error) {
	sel, err := modelSyncRunsSelector(ms.Name, "")
	if err != nil {
		return 0, err
	}
	runs, err := o.clients.listRuns(ctx, ms.Namespace, sel)
	if err != nil {
		return 0, err
	}
	names := make([]string, len(runs))
	for i, r := range runs {
		names[i] = r.Name
	}
	return pipelinerun.NextNumber(ms, names), nil
}

// requestedAt is the value of the requested-at annotation for a trigger written now.
func (o *TriggerOptions) requestedAt() string { return o.Now().UTC().Format(time.RFC3339Nano) }

// dryRun renders the run the controller would create for this trigger and prints it.
func (o *TriggerOptions) dryRun(ctx context.Context, ms *automlv1alpha1.ModelSync) error {
	n, err := o.nextNumber(ctx, ms)
	if err != nil {
		return err
	}
	params := o.Params
	if !o.Force {
		params = nil
		if last := ms.Status.LastNeedsSync; last != nil && last.Error == "" {
			params = last.Parameters
		}
		fmt.Fprintf(o.ErrOut, "note: without --force the controller asks the lambda first; this run uses the parameters of its last answer (%s)\n",
			format.Params(params))
	}
	// The same input the controller renders from when it serves the request this command would write.
	res, err := pipelinerun.Render(ms, pipelinerun.Input{Number: n, Parameters: params, Trigger: automlv1alpha1.TriggerManual,
		RequestedAt: o.requestedAt()})
	if err != nil {
		return fmt.Errorf("failed to render the PipelineRun of modelsync %q: %w", ms.Name, err)
	}
	for _, w := range res.Warnings {
		fmt.Fprintln(o.ErrOut, "Warning: "+w)
	}
	output := o.Output
	if output == "" {
		output = "yaml"
	}
	return printObject(o.Out, output, res.PipelineRun)
}
