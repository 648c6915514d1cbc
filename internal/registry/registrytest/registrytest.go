// Package registrytest fills registries for tests and benchmarks.
package registrytest

import (
	"context"
	"fmt"
	"io"
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
