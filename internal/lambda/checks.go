package lambda

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/modelsync/modelsync/api/v1alpha1"
	"github.com/modelsync/modelsync/internal/registry"
)

// Trainer parameters in a needsSync=true answer.
const (
	ParamRunID      = "runId"
	ParamDataCutoff = "dataCutoff"
	// ParamName is the deployer's parameter: the id of the newest model.
	ParamName = "name"
)

// Result is a check's answer and a human-readable reason, which the server logs and puts in
// the answer's metadata (ignored by the controller).
type Result struct {
	NeedsSync  bool
	Parameters map[string]string
	Reason     string
}

// Check computes one lambda's answer. An error is answered with HTTP 500 and `errors`.
type Check interface {
	Check(ctx context.Context) (Result, error)
}

// RegistryFunc returns the registry a check reads (opened lazily, so a bucket that is not
// reachable at start-up is retried on the next request).
type RegistryFunc func(ctx context.Context) (*registry.Registry, error)

// Trainer answers /needsTrain: a sync is needed when there is no model or the newest one
// is at least RetrainInterval old, unless a training started by an earlier answer is still
// in progress. A true answer writes the in-progress marker before it is returned, so two
// answers never start overlapping trainings.
type Trainer struct {
	Registry        RegistryFunc
	Key             string
	RetrainInterval time.Duration
	TrainingTimeout time.Duration
	Now             func() time.Time

	mu sync.Mutex // one check at a time per trainer: read marker, decide, write marker
}

// Check implements Check.
func (t *Trainer) Check(ctx context.Context) (Result, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	reg, err := t.Registry(ctx)
	if err != nil {
		return Result{}, err
	}
	now := time.Now()
	if t.Now != nil {
		now = t.Now()
	}
	now = now.UTC()
	newest, err := reg.Newest(ctx)
	if err != nil {
		return Result{}, err
	}
	marker, err := reg.GetTraining(ctx, t.Key)
	if err != nil {
		return Result{}, err
	}
	if marker.Active(now, newest) {
		return Result{Reason: fmt.Sprintf("training run %s started at %s is in progress (until %s at the latest)",
			marker.RunID, marker.Started.Format(time.RFC3339), marker.Deadline.Format(time.RFC3339))}, nil
	}
	if newest != nil {
		if age := now.Sub(newest.Created); age < t.RetrainInterval {
			return Result{Reason: fmt.Sprintf("newest model %s is %s old, younger than the retrain interval %s",
				newest.ID, age.Round(time.Second), t.RetrainInterval)}, nil
		}
	}
	runID := "train-" + now.Format("20060102-150405")
	tr := registry.Training{Key: t.Key, RunID: runID, Started: now, Deadline: now.Add(t.TrainingTimeout)}
	if err := reg.StartTraining(ctx, tr); err != nil {
		return Result{}, err
	}
	reason := "the registry holds no model"
	if newest != nil {
		reason = fmt.Sprintf("newest model %s is %s old, at least the retrain interval %s",
			newest.ID, now.Sub(newest.Created).Round(time.Second), t.RetrainInterval)
	}
	return Result{NeedsSync: true, Reason: reason,
		Parameters: map[string]string{ParamRunID: runID, ParamDataCutoff: now.Format(time.RFC3339)}}, nil
}

// ModelReader returns the model id committed in the package at dir.
type ModelReader func(dir string) (string, error)

// Deployer answers /needsSync: a sync is needed when the newest model of the registry is
// not the one the package in git names. Parameters: {"name": <newest id>}.
type Deployer struct {
	Registry  RegistryFunc
	Checkout  Checkout
	Path      string
	ReadModel ModelReader

	mu       sync.Mutex
	revision string // the checkout revision model was read from
	model    string
}

// deployed returns the model id committed in the checkout. The package is parsed once per
// checkout revision; a failed read is not remembered, so it is retried by the next answer.
func (d *Deployer) deployed() (string, error) {
	snap, release, err := d.Checkout.Acquire()
	if err != nil {
		return "", err
	}
	defer release()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.revision != "" && d.revision == snap.Revision {
		return d.model, nil
	}
	model, err := d.ReadModel(filepath.Join(snap.Root, filepath.FromSlash(d.Path)))
	if err != nil {
		d.revision = ""
		return "", fmt.Errorf("failed to read the deployed model from repo %s: %w", d.Checkout.Name(), err)
	}
	d.revision, d.model = snap.Revision, model
	return model, nil
}

// Check implements Check.
func (d *Deployer) Check(ctx context.Context) (Result, error) {
	current, err := d.deployed()
	if err != nil {
		return Result{}, err
	}
	reg, err := d.Registry(ctx)
	if err != nil {
		return Result{}, err
	}
	newest, err := reg.Newest(ctx)
	if err != nil {
		return Result{}, err
	}
	if newest == nil {
		return Result{Reason: "the registry holds no model to deploy"}, nil
	}
	params := map[string]string{ParamName: newest.ID}
	if newest.ID == current {
		return Result{Parameters: params, Reason: fmt.Sprintf("git already names the newest model %s", current)}, nil
	}
	return Result{NeedsSync: true, Parameters: params,
		Reason: fmt.Sprintf("git names model %q, the newest is %s", current, newest.ID)}, nil
}

// answer turns a check's outcome into the wire answer.
func answer(res Result, err error) *v1alpha1.NeedsSync {
	if err != nil {
		ns := v1alpha1.NewNeedsSync(false, nil)
		ns.Errors = []string{err.Error()}
		return ns
	}
	ns := v1alpha1.NewNeedsSync(res.NeedsSync, res.Parameters)
	if res.Reason != "" {
		ns.Metadata = map[string]any{"reason": res.Reason}
	}
	return ns
}
