// Package plugin holds the `kubectl modelsync` commands, one verb per file. Each command has an
// Options struct (kubeconfig flags and IO streams) and runs Complete → Validate → Run, in the
// manner of kubectl's own commands.
package plugin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"

	"github.com/modelsync/modelsync/plugin/format"
	"github.com/modelsync/modelsync/plugin/steplogs"
)

// Common is what every command shares: the kubeconfig flags, the streams, the clock and the
// clients built from the flags.
type Common struct {
	ConfigFlags *genericclioptions.ConfigFlags
	genericiooptions.IOStreams

	// Now is the clock used for ages and durations (tests fix it).
	Now func() time.Time
	// WrapConfig, when set, may change the REST config before clients are made (tests count requests).
	WrapConfig func(*rest.Config)
	// LogSource opens step log streams; nil means the kubelet's, through the API server.
	LogSource steplogs.Source
	// PollInterval is how often `trigger --wait` and `logs -f` look for progress.
	PollInterval time.Duration

	clients *clients
}

// command is the life cycle of every verb: Complete fills in what the flags and the
// kubeconfig imply, Validate rejects bad combinations before any request, Run does the work.
type command interface {
	Complete(args []string) error
	Validate() error
	Run(ctx context.Context) error
}

func runE(o command) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := o.Complete(args); err != nil {
			return err
		}
		if err := o.Validate(); err != nil {
			return err
		}
		return o.Run(cmd.Context())
	}
}

// ListFlags are the kubectl listing flags shared by the commands that print tables.
type ListFlags struct {
	AllNamespaces bool
	Selector      string
	Output        string
	NoHeaders     bool
}

func (l *ListFlags) add(f *pflag.FlagSet, what string) {
	f.BoolVarP(&l.AllNamespaces, "all-namespaces", "A", false, "List "+what+" in all namespaces.")
	f.StringVarP(&l.Selector, "selector", "l", "", "Label selector to filter "+what+" (e.g. -l team=nlp).")
	f.StringVarP(&l.Output, "output", "o", "", "Output format: wide, json, yaml or name.")
	f.BoolVar(&l.NoHeaders, "no-headers", false, "Do not print table headers.")
}

// namespace is the namespace to list in: "" for -A.
func (l *ListFlags) namespace(c *Common) (string, error) {
	ns, err := c.defaultNamespace()
	if l.AllNamespaces {
		ns = ""
	}
	return ns, err
}

// defaultNamespace is the namespace of -n or of the kubeconfig context; it also builds the clients.
func (c *Common) defaultNamespace() (string, error) {
	clients, err := c.Clients()
	if err != nil {
		return "", err
	}
	return clients.namespace, nil
}

// ExitError ends the command with a given exit code and message (a failed run, for example).
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// NewCommand returns the root command, `kubectl modelsync`.
func NewCommand(common *Common) *cobra.Command {
	if common.ConfigFlags == nil {
		common.ConfigFlags = genericclioptions.NewConfigFlags(true)
	}
	if common.Now == nil {
		common.Now = time.Now
	}
	if common.PollInterval == 0 {
		common.PollInterval = time.Second
	}
	root := &cobra.Command{
		Use:   "kubectl-modelsync",
		Short: "Inspect and drive ModelSyncs: status, trigger, runs, logs, lineage, suspend, resume",
		Long: `kubectl modelsync shows what the modelsync controller is doing and lets you drive it.

A ModelSync asks a lambda whether a model is out of sync and, when it is, starts a Tekton
PipelineRun named <modelsync>-<n>. These commands read ModelSyncs, their runs, the runs'
pods and events with your kubeconfig, and write only the annotations and fields that the
controller documents (manual trigger, suspend). lineage also reads ConfigMaps and the model
registry, to show where a deployed model came from.`,
		Annotations:       map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl modelsync"},
		SilenceUsage:      true,
		SilenceErrors:     true,
		DisableAutoGenTag: true,
	}
	root.SetIn(common.In)
	root.SetOut(common.Out)
	root.SetErr(common.ErrOut)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())
	})
	common.ConfigFlags.AddFlags(root.PersistentFlags())
	root.AddCommand(
		newStatusCommand(common),
		newTriggerCommand(common),
		newRunsCommand(common),
		newLogsCommand(common),
		newLineageCommand(common),
		newSuspendCommand(common),
		newResumeCommand(common),
	)
	return root
}

// Execute runs the command line args and returns the exit code. Errors are printed on one line.
func Execute(ctx context.Context, common *Common, args []string) int {
	root := NewCommand(common)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintln(common.ErrOut, "error: "+format.OneLine(err.Error()))
	var exit *ExitError
	if errors.As(err, &exit) {
		return exit.Code
	}
	return 1
}
