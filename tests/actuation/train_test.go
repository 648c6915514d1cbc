package actuation

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/modelsync/modelsync/internal/registry"
)

// TestTrainLabelbotSteps runs the train-labelbot Task's step scripts, taken from the YAML, in
// order with the built labelbot and modelsync-registry: the demo data is generated, a model is
// trained, and its folder is published to a file:// registry unchanged — the manifest the
// trainer wrote is the registry's, and every artifact has the trainer's bytes.
func TestTrainLabelbotSteps(t *testing.T) {
	ctx := context.Background()
	bins := binDir(t)
	task := readTask(t, filepath.Join(packagesDir(t), "pipelines", "train-labelbot-task.yaml"))
	regDir := t.TempDir()
	const id = "train-20261128-101500"
	params := map[string]string{
		"registry": "file://" + regDir, "model-id": id, "demo-issues": "3000",
		"run": "label-bot-prod/label-bot-trainer-1", "modelsync": "label-bot-prod/label-bot-trainer",
	}
	results := task.run(t, params, bins, nil, nil)
	if results["model-id"] != id {
		t.Fatalf("model-id result = %q, want %q", results["model-id"], id)
	}

	reg, err := registry.Open(ctx, "file://"+regDir)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	newest, err := reg.Newest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if newest == nil || newest.ID != id {
		t.Fatalf("newest model = %+v, want %s", newest, id)
	}

	modelDir := filepath.Join(results["workspace"], "out", "model")
	data, err := os.ReadFile(filepath.Join(modelDir, registry.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	var trained registry.Model
	if err := json.Unmarshal(data, &trained); err != nil {
		t.Fatal(err)
	}
	if len(trained.Metrics.Labels) == 0 || trained.Metrics.Macro == nil {
		t.Fatalf("the trainer wrote no per-label metrics: %+v", trained.Metrics)
	}
	if trained.Lineage.PipelineRun != params["run"] || trained.Lineage.ModelSync != params["modelsync"] {
		t.Errorf("lineage not carried from the params: %+v", trained.Lineage)
	}
	// The registry may add what only it knows (the publish time); everything else is the trainer's.
	stored, err := reg.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	stored.Published = trained.Published
	stored.Files, trained.Files = nil, nil
	if diff := cmp.Diff(&trained, stored); diff != "" {
		t.Errorf("the published manifest differs from the trainer's (-trainer +registry):\n%s", diff)
	}

	entries, err := os.ReadDir(modelDir)
	if err != nil {
		t.Fatal(err)
	}
	artifacts := 0
	for _, e := range entries {
		if e.Name() == registry.ManifestName {
			continue
		}
		artifacts++
		local, err := os.ReadFile(filepath.Join(modelDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		rd, err := reg.Bucket().NewReader(ctx, registry.ModelsPrefix+id+"/"+e.Name(), nil)
		if err != nil {
			t.Fatalf("artifact %s was not published: %v", e.Name(), err)
		}
		remote, err := io.ReadAll(rd)
		rd.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(local, remote) {
			t.Errorf("artifact %s changed on the way to the registry", e.Name())
		}
	}
	if artifacts < 2 {
		t.Errorf("the trainer's folder held %d artifacts besides model.json, want the classifier and the report at least", artifacts)
	}
}
