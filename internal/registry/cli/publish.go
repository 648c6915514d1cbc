package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/modelsync/modelsync/internal/registry"
)

type publishOptions struct {
	*options
	id, displayName, created, metricsFile string
	lineage                               registry.Lineage
	replace                               bool
	finishTraining, runID                 string
}

func newPublish(o *options) *cobra.Command {
	p := &publishOptions{options: o}
	cmd := &cobra.Command{
		Use:   "publish DIR",
		Short: "Publish the files of DIR as a model (files first, model.json last)",
		Long: `Publish uploads every regular file under DIR as an artifact of the model, then writes
models/<id>/model.json, then updates the newest-model index. A model.json at the top of DIR,
if any, is the starting manifest; the flags override its fields.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return p.run(cmd, args[0]) },
	}
	f := cmd.Flags()
	f.StringVar(&p.id, "id", "", "model id (required unless DIR/model.json has one)")
	f.StringVar(&p.displayName, "display-name", "", "human-friendly name")
	f.StringVar(&p.created, "created", "", "training time, RFC 3339 (default: DIR/model.json's, else now)")
	f.StringVar(&p.metricsFile, "metrics", "", "JSON file with the metrics (micro, macro, labels, skipped, extra)")
	f.StringVar(&p.lineage.PipelineRun, "pipeline-run", "", "namespace/name of the training PipelineRun")
	f.StringVar(&p.lineage.ModelSync, "modelsync", "", "namespace/name of the ModelSync that started the training")
	f.StringVar(&p.lineage.CodeRevision, "code-revision", "", "git commit of the training code")
	f.StringVar(&p.lineage.DataSnapshot, "data-snapshot", "", "training data snapshot (path, URL or hash)")
	f.StringVar(&p.lineage.Notebook, "notebook", "", "location of the executed notebook")
	f.StringVar(&p.lineage.Report, "report", "", "location of the HTML report")
	f.BoolVar(&p.replace, "replace", false, "replace a model that already exists")
	f.StringVar(&p.finishTraining, "finish-training", "", "after publishing, remove the in-progress marker of this trainer key")
	f.StringVar(&p.runID, "run-id", "", "with --finish-training: only remove the marker of this run")
	return cmd
}

func (p *publishOptions) run(cmd *cobra.Command, dir string) error {
	m, err := p.manifest(dir)
	if err != nil {
		return err
	}
	arts, err := artifacts(dir)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	return p.withRegistry(ctx, true, func(r *registry.Registry) error {
		if err := r.Publish(ctx, m, arts, registry.PublishOptions{Replace: p.replace}); err != nil {
			return err
		}
		noun := "files"
		if len(m.Files) == 1 {
			noun = "file"
		}
		if _, err := fmt.Fprintf(p.out, "published model %s (%d %s) to %s\n", m.ID, len(m.Files), noun, r.URL()); err != nil {
			return err
		}
		if p.finishTraining != "" {
			return r.FinishTraining(ctx, p.finishTraining, p.runID)
		}
		return nil
	})
}

// manifest builds the model from DIR/model.json (if present) and the flags.
func (p *publishOptions) manifest(dir string) (*registry.Model, error) {
	m := &registry.Model{}
	data, err := os.ReadFile(filepath.Join(dir, registry.ManifestName))
	switch {
	case err == nil:
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(m); err != nil {
			return nil, fmt.Errorf("failed to parse %s: %w", filepath.Join(dir, registry.ManifestName), err)
		}
	case !os.IsNotExist(err):
		return nil, fmt.Errorf("failed to read %s: %w", filepath.Join(dir, registry.ManifestName), err)
	}
	if p.id != "" {
		m.ID = p.id
	}
	if m.ID == "" {
		return nil, fmt.Errorf("--id is required (%s has none)", filepath.Join(dir, registry.ManifestName))
	}
	if p.displayName != "" {
		m.DisplayName = p.displayName
	}
	if p.created != "" {
		t, err := time.Parse(time.RFC3339, p.created)
		if err != nil {
			return nil, fmt.Errorf("--created %q is not an RFC 3339 time: %w", p.created, err)
		}
		m.Created = t
	}
	if m.Created.IsZero() {
		m.Created = p.now().UTC().Truncate(time.Second)
	}
	if p.metricsFile != "" {
		data, err := os.ReadFile(p.metricsFile)
		if err != nil {
			return nil, fmt.Errorf("failed to read --metrics: %w", err)
		}
		var metrics registry.Metrics
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&metrics); err != nil {
			return nil, fmt.Errorf("failed to parse --metrics %s: %w", p.metricsFile, err)
		}
		m.Metrics = metrics
	}
	mergeLineage(&m.Lineage, p.lineage)
	return m, nil
}

func mergeLineage(dst *registry.Lineage, src registry.Lineage) {
	for _, f := range []struct {
		dst *string
		src string
	}{
		{&dst.PipelineRun, src.PipelineRun}, {&dst.ModelSync, src.ModelSync}, {&dst.CodeRevision, src.CodeRevision},
		{&dst.DataSnapshot, src.DataSnapshot}, {&dst.Notebook, src.Notebook}, {&dst.Report, src.Report},
	} {
		if f.src != "" {
			*f.dst = f.src
		}
	}
}

// artifacts lists the regular files under dir (but dir/model.json) as artifacts. Anything
// else (a symlink, a device) is an error naming it, so nothing is silently left out.
func artifacts(dir string) ([]registry.Artifact, error) {
	var arts []registry.Artifact
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return nil
		case rel == registry.ManifestName:
			return nil
		case !d.Type().IsRegular():
			return fmt.Errorf("%s is not a regular file (symlinks and special files are not published)", path)
		}
		arts = append(arts, registry.Artifact{Name: filepath.ToSlash(rel), Open: func() (io.ReadCloser, error) {
			return os.Open(path)
		}})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("failed to read model folder %s: %w", dir, err)
	}
	return arts, nil
}
