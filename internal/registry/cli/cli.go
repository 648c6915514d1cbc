// Package cli is the modelsync-registry command: publish a folder as a model, list and show
// models, repair the index, and finish a training run. The train pipeline's upload step
// runs `modelsync-registry publish`.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/modelsync/modelsync/internal/registry"
)

// RegistryEnv is the environment variable that gives the default of --registry.
const RegistryEnv = "MODELSYNC_REGISTRY"

type options struct {
	registry string
	out, err io.Writer
	// now is the clock used for a default created time.
	now func() time.Time
}

// NewCommand returns the root command writing to out and errOut.
func NewCommand(out, errOut io.Writer) *cobra.Command {
	o := &options{out: out, err: errOut, now: time.Now}
	root := &cobra.Command{
		Use:           "modelsync-registry",
		Short:         "Publish, list and show models in a modelsync model registry",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(out)
	root.SetErr(errOut)
	root.PersistentFlags().StringVar(&o.registry, "registry", os.Getenv(RegistryEnv),
		"registry bucket URL (file:///path, gs://bucket, s3://bucket) or local path; default $"+RegistryEnv)
	root.AddCommand(newPublish(o), newList(o), newShow(o), newReindex(o), newFinishTraining(o))
	return root
}

func (o *options) open(ctx context.Context, create bool) (*registry.Registry, error) {
	if o.registry == "" {
		return nil, fmt.Errorf("--registry is required (or set $%s)", RegistryEnv)
	}
	if create {
		return registry.Create(ctx, o.registry)
	}
	return registry.Open(ctx, o.registry)
}

// withRegistry opens the registry, runs fn and closes it.
func (o *options) withRegistry(ctx context.Context, create bool, fn func(*registry.Registry) error) error {
	r, err := o.open(ctx, create)
	if err != nil {
		return err
	}
	err = fn(r)
	return errors.Join(err, r.Close())
}

func newList(o *options) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the published models, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "table" && output != "json" {
				return fmt.Errorf("--output %q is not one of table, json", output)
			}
			return o.withRegistry(cmd.Context(), false, func(r *registry.Registry) error {
				models, err := r.List(cmd.Context())
				if err != nil {
					return err
				}
				if output == "json" {
					return writeJSON(o.out, models)
				}
				return writeTable(o.out, models)
			})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	return cmd
}

func writeTable(out io.Writer, models []*registry.Model) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	_, _ = fmt.Fprintln(tw, "ID\tCREATED\tDISPLAY NAME\tPRECISION\tRECALL\tFILES")
	for _, m := range models {
		p, rc := "---", "---"
		if a := m.Metrics.Micro; a != nil {
			p, rc = fmt.Sprintf("%.2f", a.Precision), fmt.Sprintf("%.2f", a.Recall)
		}
		name := m.DisplayName
		if name == "" {
			name = "---"
		}
		_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\n", m.ID, m.Created.UTC().Format(time.RFC3339), name, p, rc, len(m.Files))
	}
	return tw.Flush()
}

func writeJSON(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func newShow(o *options) *cobra.Command {
	var newest bool
	cmd := &cobra.Command{
		Use:   "show (ID | --newest)",
		Short: "Print the manifest (model.json) of a model",
		Args: func(_ *cobra.Command, args []string) error {
			if newest == (len(args) == 1) || len(args) > 1 {
				return errors.New("give exactly one model ID or --newest")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.withRegistry(cmd.Context(), false, func(r *registry.Registry) error {
				var m *registry.Model
				var err error
				if newest {
					m, err = r.Newest(cmd.Context())
					if err == nil && m == nil {
						err = errors.New("the registry holds no model")
					}
				} else {
					m, err = r.Get(cmd.Context(), args[0])
				}
				if err != nil {
					return err
				}
				return writeJSON(o.out, m)
			})
		},
	}
	cmd.Flags().BoolVar(&newest, "newest", false, "show the newest model")
	return cmd
}

func newReindex(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "reindex",
		Short: "Rebuild the newest-model index from the listing of manifests",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.withRegistry(cmd.Context(), false, func(r *registry.Registry) error {
				res, err := r.Reindex(cmd.Context())
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(o.out, "%d models; %d index entries added, %d removed\n", res.Models, res.Added, res.Removed)
				return err
			})
		},
	}
}

func newFinishTraining(o *options) *cobra.Command {
	var runID string
	cmd := &cobra.Command{
		Use:   "finish-training KEY",
		Short: "Remove the in-progress marker of a trainer (e.g. when its training run failed)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.withRegistry(cmd.Context(), false, func(r *registry.Registry) error {
				return r.FinishTraining(cmd.Context(), args[0], runID)
			})
		},
	}
	cmd.Flags().StringVar(&runID, "run-id", "", "only remove the marker if it belongs to this run")
	return cmd
}
