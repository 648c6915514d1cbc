package registry_test

import (
	"context"
	"os"
	"sync"
	"testing"

	"github.com/modelsync/modelsync/internal/registry"
	"github.com/modelsync/modelsync/internal/registry/registrytest"
)

const benchModels = 10000

var (
	benchOnce sync.Once
	benchReg  *registry.Registry
	benchErr  error
	benchDir  string
)

// bench10k returns a registry of 10,000 models, built once per test binary.
func bench10k(b *testing.B) *registry.Registry {
	b.Helper()
	benchOnce.Do(func() {
		benchDir, benchErr = os.MkdirTemp("", "registry-bench-")
		if benchErr != nil {
			return
		}
		benchReg, benchErr = registry.Open(context.Background(), benchDir)
		if benchErr == nil {
			benchErr = registrytest.Populate(context.Background(), benchReg, benchModels)
		}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchReg
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		_ = os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// BenchmarkNewest compares the newest-model lookup at 10,000 models: "pointer" (Newest's
// fast path), "entries" (the sorted index entries, the repair path) and the "listing"
// baseline (list every manifest and read it). Each checks the answer.
func BenchmarkNewest(b *testing.B) {
	r := bench10k(b)
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
