package registry

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gocloud.dev/gcerrors"
)

// TrainingPrefix holds the in-progress markers: training/<hex of the key>.json, one per
// trainer (usually the namespace/name of its ModelSync), so that trainings never overlap.
const TrainingPrefix = "training/"

// Training marks a training run in progress.
type Training struct {
	// Key names the trainer the marker belongs to.
	Key string `json:"key"`
	// RunID is the run id handed to the training pipeline.
	RunID string `json:"runId"`
	// Started is when the marker was written.
	Started time.Time `json:"started"`
	// Deadline is when the marker stops counting: a run that never published by then is
	// considered dead and a new one may start.
	Deadline time.Time `json:"deadline"`
}

// Active reports whether the marker still holds at now: before its deadline and not
// superseded by a model published after it started (newest may be nil).
func (t *Training) Active(now time.Time, newest *Model) bool {
	if t == nil || !now.Before(t.Deadline) {
		return false
	}
	if newest != nil && !newest.Published.IsZero() && newest.Published.After(t.Started) {
		return false
	}
	return true
}

func trainingKey(key string) string {
	return TrainingPrefix + hex.EncodeToString([]byte(key)) + ".json"
}

func validateTrainingKey(key string) error {
	if key == "" {
		return errors.New("training key is empty")
	}
	if len(key) > 253 {
		return fmt.Errorf("training key %.20q... is longer than 253 characters", key)
	}
	return nil
}

// StartTraining writes the in-progress marker of t.Key (replacing an older one).
func (r *Registry) StartTraining(ctx context.Context, t Training) error {
	if err := validateTrainingKey(t.Key); err != nil {
		return fmt.Errorf("failed to start training: %w", err)
	}
	if t.RunID == "" || t.Started.IsZero() || !t.Deadline.After(t.Started) {
		return fmt.Errorf("failed to start training %s: runId, started and a deadline after started are required", t.Key)
	}
	data, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("failed to encode training marker %s: %w", t.Key, err)
	}
	if err := r.writeAll(ctx, trainingKey(t.Key), data, "application/json"); err != nil {
		return fmt.Errorf("failed to write training marker %s: %w", t.Key, err)
	}
	return nil
}

// GetTraining reads the in-progress marker of key; nil (and no error) when there is none.
func (r *Registry) GetTraining(ctx context.Context, key string) (*Training, error) {
	if err := validateTrainingKey(key); err != nil {
		return nil, fmt.Errorf("failed to read training marker: %w", err)
	}
	data, err := r.bucket.ReadAll(ctx, trainingKey(key))
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read training marker %s: %w", key, err)
	}
	var t Training
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, fmt.Errorf("failed to decode training marker %s: %w", key, err)
	}
	return &t, nil
}

// FinishTraining removes the marker of key. Removing a missing marker is not an error;
// with runID set, a marker of another run is left alone and reported.
func (r *Registry) FinishTraining(ctx context.Context, key, runID string) error {
	t, err := r.GetTraining(ctx, key)
	if err != nil || t == nil {
		return err
	}
	if runID != "" && t.RunID != runID {
		return fmt.Errorf("failed to finish training %s: the marker belongs to run %q, not %q", key, t.RunID, runID)
	}
	err = r.bucket.Delete(ctx, trainingKey(key))
	if err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		return fmt.Errorf("failed to delete training marker %s: %w", key, err)
	}
	return nil
}
