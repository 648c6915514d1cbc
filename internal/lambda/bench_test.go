package lambda

import (
	"context"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/modelsync/modelsync/internal/registry/registrytest"
)

const benchModels = 10000

// BenchmarkNeedsSync measures /needsSync of a real server (git checkout fetched with the git
// CLI, file registry of 10,000 models) under concurrent load from a loopback HTTP client:
// 16 requests in flight. It reports p50 and p99 latency and throughput. The "healthz"
// sub-benchmark is the baseline of the same run: the same client and server answering the
// cheapest route, i.e. the cost of the loopback HTTP round trip alone.
func BenchmarkNeedsSync(b *testing.B) {
	dir, err := registrytest.Shared(context.Background(), benchModels)
	if err != nil {
		b.Fatal(err)
	}
	newest := registrytest.ID(benchModels - 1)
	remote := newRemote(b, "")
	remote.commit(map[string]string{"deploy/configmap.yaml": configMap(registrytest.ID(benchModels - 2))})
	s, url := testServer(b, testConfig("file://"+dir, remoteRepo(remote.bare, time.Hour)))
	waitReady(b, s)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

	// check runs on the load goroutines, so it reports with Errorf (not Fatal).
	check := func(b *testing.B, path string) {
		resp, err := client.Get(url + path)
		if err != nil {
			b.Error(err)
			return
		}
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Errorf("GET %s = %d %s %v", path, resp.StatusCode, body, err)
		}
	}
	// One answer is checked in full outside the timing.
	if r := get(b, url+"/needsSync"); !r.ns.NeedsSync || r.ns.Parameters[ParamName] != newest {
		b.Fatalf("/needsSync = %s, want needsSync true for %s", r.raw, newest)
	}
	for _, path := range []string{"/healthz", "/needsSync"} {
		b.Run(path[1:], func(b *testing.B) { loadTest(b, func() { check(b, path) }) })
	}
}

// loadTest runs do b.N times from 16 goroutines and reports latency percentiles and throughput.
func loadTest(b *testing.B, do func()) {
	const inFlight = 16
	var mu sync.Mutex
	var all []time.Duration
	var wg sync.WaitGroup
	next := make(chan struct{})
	b.ResetTimer()
	start := time.Now()
	for range inFlight {
		wg.Go(func() {
			var mine []time.Duration
			for range next {
				t := time.Now()
				do()
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		})
	}
	for range b.N {
		next <- struct{}{}
	}
	close(next)
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(all)
	pct := func(p float64) float64 {
		return float64(all[min(len(all)-1, int(float64(len(all))*p))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
}
