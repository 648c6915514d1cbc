// Package registry is the model registry: a bucket (file://, gs://, s3://) holding one folder
// per model, models/<id>/, with a model.json manifest and the model's files.
package registry

import (
	"fmt"
	"strings"
	"time"
)

// ManifestName is the file name of a model's manifest inside models/<id>/.
const ManifestName = "model.json"

// Model is the manifest of one model (models/<id>/model.json). It is written last when a
// model is published, so a model without it is incomplete and never the newest.
type Model struct {
	// ID names the model; it is the folder name and the value that deployments refer to.
	ID string `json:"id"`
	// DisplayName is a human-friendly name.
	DisplayName string `json:"displayName,omitempty"`
	// Created is when the model was trained; "newest" is by this time.
	Created time.Time `json:"created"`
	// Metrics measured on held-out data.
	Metrics Metrics `json:"metrics"`
	// Lineage says where the model came from.
	Lineage Lineage `json:"lineage"`
	// Published is when the manifest was written (set by Publish).
	Published time.Time `json:"published,omitzero"`
	// Files lists the artifacts of the model, relative to its folder (model.json excluded).
	Files []string `json:"files,omitempty"`
}

// Metrics of a classifier, per label and averaged.
type Metrics struct {
	// Micro averages pool every decision of every label.
	Micro *Averages `json:"micro,omitempty"`
	// Macro averages are the mean of the per-label figures.
	Macro *Averages `json:"macro,omitempty"`
	// Labels holds one entry per label the model predicts.
	Labels []LabelMetrics `json:"labels,omitempty"`
	// Skipped lists labels left out of training (too few examples).
	Skipped []string `json:"skipped,omitempty"`
	// Extra holds any other named figure (e.g. "trainingSeconds").
	Extra map[string]float64 `json:"extra,omitempty"`
}

// Averages of precision, recall and F1.
type Averages struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
}

// LabelMetrics are the figures of one label at its calibrated threshold.
type LabelMetrics struct {
	Label     string  `json:"label"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	// Support is the number of held-out examples that carry the label.
	Support int `json:"support"`
	// Threshold is the decision threshold calibrated for the label.
	Threshold float64 `json:"threshold"`
	// Predicted is the number of held-out examples the model gave the label.
	Predicted int `json:"predicted"`
	// Note explains figures that are not plain measurements, e.g. a label absent from the
	// held-out data (recall undefined) or one whose threshold never reached the target precision.
	Note string `json:"note,omitempty"`
}

// Lineage links a model to what produced it.
type Lineage struct {
	// PipelineRun is the namespace/name of the training PipelineRun.
	PipelineRun string `json:"pipelineRun,omitempty"`
	// ModelSync is the namespace/name of the ModelSync that started the training.
	ModelSync string `json:"modelSync,omitempty"`
	// CodeRevision is the git commit of the training code.
	CodeRevision string `json:"codeRevision,omitempty"`
	// DataSnapshot identifies the training data (a path, URL or content hash).
	DataSnapshot string `json:"dataSnapshot,omitempty"`
	// Notebook is the location of the executed notebook.
	Notebook string `json:"notebook,omitempty"`
	// Report is the location of the HTML report.
	Report string `json:"report,omitempty"`
}

// ValidateID checks that id can name a model folder and be written into a ConfigMap value:
// non-empty, at most 253 characters, no whitespace, no "..", no leading or trailing slash.
func ValidateID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("model id is empty")
	case len(id) > 253:
		return fmt.Errorf("model id %.20q... is longer than 253 characters", id)
	case strings.ContainsAny(id, " \t\r\n\v\f"):
		return fmt.Errorf("model id %q contains whitespace", id)
	case strings.Contains(id, ".."), strings.HasPrefix(id, "/"), strings.HasSuffix(id, "/"):
		return fmt.Errorf("model id %q is not a clean relative name", id)
	}
	return nil
}
