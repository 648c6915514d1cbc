// Package registrytest fills registries for tests and benchmarks.
package registrytest

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/modelsync/modelsync/internal/registry"
)

// Base is the created time of the first model Populate writes.
var Base = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// ID is the id Populate gives the i-th model.
func ID(i int) string { return fmt.Sprintf("model-%05d", i) }

// Populate publishes n models through Publish, each with one small artifact, created one
// minute apart in a shuffled order so the newest (ID(n-1)) is neither first nor last
// published. It uses a few writers in parallel.
func Populate(ctx context.Context, r *registry.Registry, n int) error {
	const workers = 4
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := w; k < n; k += workers {
				i := (k * 7919) % n // 7919 is prime: a permutation of 0..n-1 when n is not a multiple
				if n%7919 == 0 {
					i = k
				}
				m := &registry.Model{ID: ID(i), Created: Base.Add(time.Duration(i) * time.Minute)}
				art := registry.Artifact{Name: "model.bin", Open: func() (io.ReadCloser, error) {
					return io.NopCloser(strings.NewReader(m.ID)), nil
				}}
				if err := r.Publish(ctx, m, []registry.Artifact{art}, registry.PublishOptions{}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// Shared returns the location of a registry of n models populated by Populate, built once
// per machine under the temp dir and reused by later runs and by other test binaries (it is
// built aside and renamed into place, so concurrent builders never see a partial one).
// Callers must only read it.
func Shared(ctx context.Context, n int) (string, error) {
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("modelsync-registry-bench-v%d-%d", layoutVersion, n))
	if _, err := os.Stat(dir); err == nil {
		return dir, nil
	}
	tmp, err := os.MkdirTemp(os.TempDir(), "modelsync-registry-bench-build-")
	if err != nil {
		return "", err
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	r, err := registry.Open(ctx, tmp)
	if err != nil {
		return "", err
	}
	err = Populate(ctx, r, n)
	if cerr := r.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("failed to populate the benchmark registry: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(dir); serr == nil {
			return dir, nil // another builder won
		}
		return "", err
	}
	return dir, nil
}

// layoutVersion changes when the registry layout changes, so stale shared registries are
// not reused.
const layoutVersion = 1
