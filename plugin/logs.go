package plugin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/modelsync/modelsync/plugin/steplogs"
)

// LogsOptions are the options of `kubectl modelsync logs`.
type LogsOptions struct {
	*Common

	Name      string
	Namespace string
	Follow    bool
	Task      string

	source steplogs.Source
}

func newLogsCommand(common *Common) *cobra.Command {
	o := &LogsOptions{Common: common}
	cmd := &cobra.Command{
		Use:   "logs NAME|RUN",
		Short: "Print the step logs of a run (the newest run of a ModelSync)",
		Long: `logs prints the logs of every step of a PipelineRun, task by task, each line prefixed by
[task : step]. Given a ModelSync name it shows the ModelSync's newest run; given a PipelineRun
name, that run. With -f it follows the run until it ends, picking up tasks as they start.`,
		Example: `  kubectl modelsync logs trainer -f
  kubectl modelsync logs deployer-7 --task open-pr`,
		Args: cobra.ExactArgs(1),
		RunE: runE(o),
	}
	f := cmd.Flags()
	f.BoolVarP(&o.Follow, "follow", "f", false, "Follow the logs until the run ends.")
	f.StringVar(&o.Task, "task", "", "Only the steps of this pipeline task.")
	return cmd
}

// Complete fills in the name, the namespace and the log source.
func (o *LogsOptions) Complete(args []string) error {
	o.Name = args[0]
	ns, err := o.defaultNamespace()
	if err != nil {
		return err
	}
	o.Namespace = ns
	o.source = o.LogSource
	if o.source == nil {
		o.source = steplogs.Kubelet{Client: o.clients.kube}
	}
	return nil
}

// Validate has nothing to check beyond cobra's argument count.
func (o *LogsOptions) Validate() error { return nil }

// Run prints the logs of the run, following it with -f.
func (o *LogsOptions) Run(ctx context.Context) error {
	run, err := o.resolveRun(ctx)
	if err != nil {
		return err
	}
	printed := map[string]bool{}
	for {
		finished := true
		if o.Follow {
			u, err := o.clients.getRun(ctx, o.Namespace, run)
			if err != nil {
				return err
			}
			info := newRunInfo(u)
			finished = info.Finished()
		}
		steps, err := steplogs.Discover(ctx, o.clients.kube, o.Namespace, run, o.Task)
		if err != nil {
			return err
		}
		if len(steps) == 0 && finished && len(printed) == 0 {
			return o.noSteps(ctx, run)
		}
		fresh := 0
		for _, s := range steps {
			if printed[s.Key()] {
				continue
			}
			if err := o.print(ctx, s); err != nil {
				if !o.Follow {
					return err
				}
				continue // not started yet: try again on the next round
			}
			printed[s.Key()] = true
			fresh++
		}
		if finished && fresh == 0 || !o.Follow {
			return nil
		}
		if fresh == 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(o.PollInterval):
			}
		}
	}
}

func (o *LogsOptions) print(ctx context.Context, s steplogs.Step) error {
	rc, err := o.source.Open(ctx, s, o.Follow)
	if err != nil {
		return err
	}
	defer rc.Close()
	return steplogs.Copy(o.Out, s, rc)
}

// resolveRun takes NAME as a ModelSync (its newest run) and then as a PipelineRun.
func (o *LogsOptions) resolveRun(ctx context.Context) (string, error) {
	c := o.clients
	ms, err := c.getModelSync(ctx, o.Namespace, o.Name)
	if err == nil {
		sel, err := modelSyncRunsSelector(ms.Name, "")
		if err != nil {
			return "", err
		}
		runs, err := c.listRuns(ctx, o.Namespace, sel)
		if err != nil {
			return "", err
		}
		if len(runs) == 0 {
			return "", fmt.Errorf("modelsync %q in namespace %q has no runs yet", o.Name, o.Namespace)
		}
		return runs[0].Name, nil
	}
	var missing *objectNotFound
	if !errors.As(err, &missing) {
		return "", err
	}
	if _, err := c.dynamic.Resource(pipelineRunsGVR).Namespace(o.Namespace).Get(ctx, o.Name, metav1.GetOptions{}); err != nil {
		if apierrors.IsNotFound(err) && !missingResource(err) {
			return "", fmt.Errorf("no modelsync or pipelinerun named %q in namespace %q", o.Name, o.Namespace)
		}
		return "", runError(err, "get", o.Namespace, o.Name)
	}
	return o.Name, nil
}

// noSteps explains an empty result: a task that does not exist, or a run without pods.
func (o *LogsOptions) noSteps(ctx context.Context, run string) error {
	if o.Task != "" {
		all, err := steplogs.Discover(ctx, o.clients.kube, o.Namespace, run, "")
		if err != nil {
			return err
		}
		if len(all) > 0 {
			return fmt.Errorf("pipelinerun %q has no task %q (tasks: %s)", run, o.Task, strings.Join(steplogs.Tasks(all), ", "))
		}
	}
	return fmt.Errorf("pipelinerun %q in namespace %q has no step pods yet", run, o.Namespace)
}
