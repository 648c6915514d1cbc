package labelbot

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/modelsync/modelsync/internal/registry"
)

// NewCommand returns the labelbot command line: generate, export, train and serve.
func NewCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "labelbot",
		Short:         "Issue Label Bot: export labelled issues, train a calibrated classifier, serve predictions",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newGenerateCommand(), newExportCommand(), newTrainCommand(), newServeCommand())
	return root
}

// Main runs the command line with args and returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := NewCommand()
	cmd.SetArgs(args)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	if err := cmd.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "Error:", err)
		return 1
	}
	return 0
}

// writeOutput writes to stdout for "" or "-", else to path through a temporary file that is
// renamed into place only when write succeeds.
func writeOutput(cmd *cobra.Command, path string, write func(io.Writer) error) error {
	if path == "" || path == "-" {
		return write(cmd.OutOrStdout())
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("failed to create %s: %w", path, err)
	}
	werr := write(tmp)
	if err := errors.Join(werr, tmp.Close()); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	return nil
}

// timeFlag is a flag holding an RFC 3339 time.
type timeFlag struct{ t *time.Time }

func (f timeFlag) String() string {
	if f.t == nil || f.t.IsZero() {
		return ""
	}
	return f.t.Format(time.RFC3339)
}

func (f timeFlag) Set(s string) error {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return fmt.Errorf("%q is not an RFC 3339 time", s)
	}
	*f.t = t
	return nil
}

func (timeFlag) Type() string { return "time" }

func newGenerateCommand() *cobra.Command {
	var (
		opts GenerateOptions
		out  string
	)
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Write a seeded demo data set of labelled issues (JSONL)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			issues, err := Generate(opts)
			if err != nil {
				return err
			}
			return writeOutput(cmd, out, func(w io.Writer) error { return WriteIssues(w, issues) })
		},
	}
	cmd.Flags().IntVar(&opts.N, "n", 20000, "number of issues")
	cmd.Flags().Uint64Var(&opts.Seed, "seed", 1, "random seed")
	cmd.Flags().StringVarP(&out, "out", "o", "-", "output file (- for stdout)")
	return cmd
}

func newExportCommand() *cobra.Command {
	var (
		opts ExportOptions
		out  string
	)
	cmd := &cobra.Command{
		Use:   "export --repo OWNER/NAME",
		Short: "Export a repository's issues and their labels from GitHub (JSONL; pull requests excluded)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Log = cmd.ErrOrStderr()
			return writeOutput(cmd, out, func(w io.Writer) error {
				stats, err := Export(cmd.Context(), w, opts)
				if err == nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "exported %d issues from %d pages (%d pull requests left out)\n",
						stats.Issues, stats.Pages, stats.PullRequests)
				}
				return err
			})
		},
	}
	cmd.Flags().StringVar(&opts.Repo, "repo", "", "repository, OWNER/NAME (required)")
	cmd.Flags().Var(timeFlag{&opts.Since}, "since", "only issues updated at or after this RFC 3339 time")
	cmd.Flags().StringVar(&opts.Host, "hostname", "github.com", "GitHub host")
	cmd.Flags().StringVarP(&out, "out", "o", "-", "output file (- for stdout)")
	_ = cmd.MarkFlagRequired("repo")
	return cmd
}

func newTrainCommand() *cobra.Command {
	var (
		opts TrainOptions
		info ModelInfo
		data string
		out  string
	)
	cmd := &cobra.Command{
		Use:   "train --data FILE.jsonl --out DIR",
		Short: "Train the classifier and write a model folder for the registry",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			raw, err := os.ReadFile(data)
			if err != nil {
				return fmt.Errorf("failed to read data file: %w", err)
			}
			issues, bad, err := ReadIssues(bytes.NewReader(raw))
			if err != nil {
				return fmt.Errorf("failed to read data file %s: %w", data, err)
			}
			for _, b := range bad {
				fmt.Fprintf(cmd.ErrOrStderr(), "%s: skipped %v\n", data, b)
			}
			if len(issues) == 0 {
				return fmt.Errorf("data file %s has no usable issues (%d bad lines skipped)", data, len(bad))
			}
			start := time.Now()
			res, err := Train(issues, opts)
			if err != nil {
				return err
			}
			info.TrainingSeconds = time.Since(start).Seconds()
			if info.Lineage.DataSnapshot == "" {
				sum := sha256.Sum256(raw)
				info.Lineage.DataSnapshot = "sha256:" + hex.EncodeToString(sum[:])
			}
			m, err := WriteModelDir(out, res, info)
			if err != nil {
				return err
			}
			printSummary(cmd.OutOrStdout(), m, res, len(bad))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&data, "data", "", "training data, JSONL (required)")
	f.StringVar(&out, "out", "", "model folder to write (required)")
	f.Float64Var(&opts.TargetPrecision, "target-precision", 0.7, "precision each label's threshold is calibrated to")
	f.IntVar(&opts.MinExamples, "min-examples", 20, "training examples a label needs; rarer labels are skipped")
	f.IntVar(&opts.MinPredicted, "min-predicted", 10, "validation issues a calibrated threshold must select")
	f.Float64Var(&opts.ValidationFraction, "validation-fraction", 0.15, "share of issues (after the training ones) for calibration")
	f.Float64Var(&opts.TestFraction, "test-fraction", 0.15, "share of the newest issues held out for measurement")
	f.Uint64Var(&opts.Seed, "seed", 1, "random seed; the same data and seed give the same classifier")
	f.StringVar(&info.ID, "id", "", "model id (default labelbot-<created>-<digest>)")
	f.Var(timeFlag{&info.Created}, "created", "creation time recorded in model.json, RFC 3339 (default now)")
	f.StringVar(&info.Lineage.PipelineRun, "pipeline-run", "", "lineage: namespace/name of the training PipelineRun")
	f.StringVar(&info.Lineage.ModelSync, "modelsync", "", "lineage: namespace/name of the ModelSync")
	f.StringVar(&info.Lineage.CodeRevision, "code-revision", "", "lineage: git commit of the training code")
	f.StringVar(&info.Lineage.DataSnapshot, "data-snapshot", "", "lineage: data identity (default sha256 of the data file)")
	_ = cmd.MarkFlagRequired("data")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

func printSummary(w io.Writer, m *registry.Model, res *TrainResult, bad int) {
	fmt.Fprintf(w, "model %s: %d training, %d validation, %d test issues; %d bad lines skipped\n",
		m.ID, res.Split.Train, res.Split.Validation, res.Split.Test, bad)
	fmt.Fprintf(w, "%-16s %9s %9s %9s %8s %9s\n", "LABEL", "THRESHOLD", "PRECISION", "RECALL", "SUPPORT", "PREDICTED")
	for _, l := range m.Metrics.Labels {
		fmt.Fprintf(w, "%-16s %9.3f %9.3f %9.3f %8d %9d  %s\n", l.Label, l.Threshold, l.Precision, l.Recall, l.Support, l.Predicted, l.Note)
	}
	if a := m.Metrics.Micro; a != nil {
		fmt.Fprintf(w, "%-16s %9s %9.3f %9.3f\n", "micro", "", a.Precision, a.Recall)
	}
	if a := m.Metrics.Macro; a != nil {
		fmt.Fprintf(w, "%-16s %9s %9.3f %9.3f\n", "macro", "", a.Precision, a.Recall)
	}
	if len(m.Metrics.Skipped) > 0 {
		fmt.Fprintf(w, "skipped (too few examples): %v\n", m.Metrics.Skipped)
	}
	fmt.Fprintf(w, "training took %.2fs\n", m.Metrics.Extra["trainingSeconds"])
}

func newServeCommand() *cobra.Command {
	var (
		dir, registryURL, idFile, addr string
		poll                           time.Duration
	)
	cmd := &cobra.Command{
		Use:   "serve --model-dir DIR | --registry URL --model-id-file FILE",
		Short: "Serve POST /predict, /healthz and /metrics; reload when the model id file changes",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			var src ModelSource
			switch {
			case (dir == "") == (registryURL == ""):
				return fmt.Errorf("give exactly one of --model-dir and --registry")
			case dir != "":
				src = DirSource{Dir: dir}
			case idFile == "":
				return fmt.Errorf("flag --model-id-file is required with --registry")
			default:
				bs, err := OpenBucketSource(ctx, registryURL)
				if err != nil {
					return err
				}
				defer bs.Close()
				src = bs
			}
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			s, err := NewServer(ServerOptions{Source: src, IDFile: idFile, Poll: poll, Log: log})
			if err != nil {
				return err
			}
			if err := s.Refresh(ctx); err != nil && idFile == "" {
				return err
			}
			return s.ListenAndServe(ctx, addr)
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "model-dir", "", "a model folder, or with --model-id-file a folder of model folders named by id")
	f.StringVar(&registryURL, "registry", "", "registry bucket URL (file://...); models are read from models/<id>/")
	f.StringVar(&idFile, "model-id-file", "", "file holding the id of the model to serve (e.g. a mounted ConfigMap key)")
	f.StringVar(&addr, "addr", ":8080", "listen address")
	f.DurationVar(&poll, "poll", 2*time.Second, "how often to read the model id file")
	return cmd
}
