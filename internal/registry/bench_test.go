package registry_test

import (
	"context"
	"testing"

	"github.com/modelsync/modelsync/internal/registry"
	"github.com/modelsync/modelsync/internal/registry/registrytest"
)

const benchModels = 10000

// BenchmarkNewest compares the newest-model lookup at 10,000 models: "pointer" (Newest's
// fast path), "entries" (the sorted index entries, the repair path) and the "listing"
// baseline (list every manifest and read it). Each checks the answer. The registry is
// built once per machine (registrytest.Shared).
func BenchmarkNewest(b *testing.B) {
	dir, err := registrytest.Shared(context.Background(), benchModels)
	if err != nil {
		b.Fatal(err)
	}
	r, err := registry.Open(context.Background(), dir)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = r.Close() }()
	want := registrytest.ID(benchModels - 1)
	for _, bm := range []struct {
		name string
		get  func(context.Context) (*registry.Model, error)
	}{
		{"pointer", r.Newest},
		{"entries", r.NewestByIndex},
		{"listing", r.NewestByListing},
	} {
		b.Run(bm.name, func(b *testing.B) {
			for b.Loop() {
				m, err := bm.get(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				if m == nil || m.ID != want {
					b.Fatalf("newest = %v, want %s", m, want)
				}
			}
		})
	}
}
