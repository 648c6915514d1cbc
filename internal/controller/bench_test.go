package controller

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
)

// benchObjects is how many ModelSyncs BenchmarkController1000 manages, and benchInterval their
// interval. Every check writes the status, so 1,000 objects at the shortest interval the API
// allows (10s) ask for 100 status writes a second: more than a test API server on a shared
// 2-core machine absorbs, which would measure the machine rather than the controller.
const (
	benchObjects  = 1000
	benchInterval = time.Minute
)

// BenchmarkController1000 runs the controller binary as its own process against 1,000
// ModelSyncs (interval 1m) and a loopback lambda, and reports:
//   - the time from the lambda flipping to needsSync:true until each run exists (p50/p99), as
//     figures and as ratios to the interval (the wait the design implies: 0.5 and 0.99 ideally);
//   - the controller's own part of it: from the lambda's "true" answer to the run (p50/p99);
//   - API requests per object per idle resync (all runs active: nothing to do; goal 0 writes);
//   - the controller's peak RSS, and its ratio to the RSS of the idle controller at start.
func BenchmarkController1000(b *testing.B) {
	bin := buildController(b)
	for range b.N {
		benchOnce(b, bin)
	}
}

func buildController(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "modelsync-controller")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/modelsync-controller")
	cmd.Dir = env.Root
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("failed to build the controller: %v\n%s", err, out)
	}
	return bin
}

// benchLambda answers every path; it flips from false to true and remembers when it first
// answered true to each ModelSync.
type benchLambda struct {
	needsSync atomic.Bool
	mu        sync.Mutex
	asked     map[string]bool
	firstTrue map[string]time.Time
}

func (l *benchLambda) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	yes := l.needsSync.Load()
	name := strings.TrimPrefix(r.URL.Path, "/")
	l.mu.Lock()
	l.asked[name] = true
	if _, ok := l.firstTrue[name]; yes && !ok {
		l.firstTrue[name] = time.Now()
	}
	l.mu.Unlock()
	fmt.Fprintf(w, `{"kind":"NeedsSync","apiVersion":"v1alpha1","needsSync":%v,"parameters":{"name":"m"},"errors":[]}`, yes)
}

func benchOnce(b *testing.B, bin string) {
	ctx := context.Background()
	ns := env.Namespace(b)
	lam := &benchLambda{asked: map[string]bool{}, firstTrue: map[string]time.Time{}}
	srv := httptest.NewServer(lam)
	defer srv.Close()
	cfg := rest.CopyConfig(env.Config)
	cfg.QPS, cfg.Burst = -1, 0 // the test's own requests are not the subject
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		b.Fatal(err)
	}

	metricsURL := fmt.Sprintf("http://127.0.0.1:%d/metrics", freePort(b))
	logFile, err := os.CreateTemp("", "modelsync-bench-controller-*.log")
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		if b.Failed() {
			b.Logf("controller log: %s", logFile.Name())
		} else {
			_ = os.Remove(logFile.Name())
		}
	}()
	proc := exec.Command(bin, "--kubeconfig", env.Kubeconfig, "--leader-elect=false", "--health-probe-bind-address=0",
		"--metrics-bind-address="+strings.TrimSuffix(strings.TrimPrefix(metricsURL, "http://"), "/metrics"),
		"--namespaces="+ns, "--sync-period=20s", "--concurrency=8")
	proc.Stdout, proc.Stderr = logFile, logFile
	if err := proc.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = proc.Process.Kill(); _ = proc.Wait() }()
	scrape(b, metricsURL) // up and serving
	idleRSS := procStatusKiB(b, proc.Process.Pid, "VmRSS")

	// 1,000 ModelSyncs; the lambda says no; wait for every first check.
	b.ResetTimer()
	setupStart := time.Now()
	createMany(b, c, ns, srv.URL)
	eventually(b, 8*time.Minute, func() (bool, string) {
		lam.mu.Lock()
		n := len(lam.asked)
		lam.mu.Unlock()
		return n == benchObjects, fmt.Sprintf("%d/%d lambdas asked once", n, benchObjects)
	})
	settle := func() map[string]float64 {
		var last map[string]float64
		eventually(b, 2*time.Minute, func() (bool, string) {
			m := scrapeCounters(b, metricsURL)
			stable := last != nil && last["reconciles"] == m["reconciles"] && last["requests"] == m["requests"]
			last = m
			time.Sleep(time.Second)
			return stable, "the controller to settle"
		})
		return last
	}
	fmt.Printf("  setup: 1,000 ModelSyncs created and checked once in %s\n", time.Since(setupStart).Round(time.Millisecond))

	// Flip the lambda; record when each run appears.
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(runListGVK)
	w, err := c.Watch(ctx, list, client.InNamespace(ns))
	if err != nil {
		b.Fatal(err)
	}
	flip := time.Now()
	lam.needsSync.Store(true)
	seen := map[string]time.Time{}
	timeout := time.After(benchInterval + 5*time.Minute)
	for len(seen) < benchObjects {
		select {
		case ev := <-w.ResultChan():
			if u, ok := ev.Object.(*unstructured.Unstructured); ok && ev.Type == watch.Added {
				seen[u.GetLabels()[automlv1alpha1.LabelModelSync]] = time.Now()
			}
		case <-timeout:
			b.Fatalf("only %d/%d runs %s after the flip", len(seen), benchObjects, time.Since(flip).Round(time.Second))
		}
	}
	w.Stop()
	allCreated := time.Since(flip)
	var fromFlip, fromAnswer []time.Duration
	lam.mu.Lock()
	for name, at := range seen {
		fromFlip = append(fromFlip, at.Sub(flip))
		fromAnswer = append(fromAnswer, at.Sub(lam.firstTrue[name]))
	}
	lam.mu.Unlock()
	b.StopTimer()

	// Idle resyncs: every run is active, so a reconcile has nothing to do. Let the status
	// writes settle, then count the API requests over at least one full resync of every object.
	before := settle()
	var after map[string]float64
	eventually(b, 2*time.Minute, func() (bool, string) {
		after = scrapeCounters(b, metricsURL)
		time.Sleep(200 * time.Millisecond)
		return after["reconciles"]-before["reconciles"] >= benchObjects, "a full resync"
	})
	time.Sleep(2 * time.Second) // the resync's last reconciles finish
	after = scrapeCounters(b, metricsURL)
	reconciles := after["reconciles"] - before["reconciles"]
	perObject := (after["requests"] - before["requests"]) / reconciles
	writesPerObject := (after["writes"] - before["writes"]) / reconciles
	peakRSS := procStatusKiB(b, proc.Process.Pid, "VmHWM")

	interval := benchInterval
	p50, p99 := percentile(fromFlip, 50), percentile(fromFlip, 99)
	c50, c99 := percentile(fromAnswer, 50), percentile(fromAnswer, 99)
	b.ReportMetric(float64(p50.Milliseconds()), "flip-p50-ms")
	b.ReportMetric(float64(p99.Milliseconds()), "flip-p99-ms")
	b.ReportMetric(float64(c50.Milliseconds()), "answer-to-run-p50-ms")
	b.ReportMetric(float64(c99.Milliseconds()), "answer-to-run-p99-ms")
	b.ReportMetric(perObject, "api-req/obj/idle-resync")
	b.ReportMetric(writesPerObject, "api-writes/obj/idle-resync")
	b.ReportMetric(float64(peakRSS)/1024, "peak-RSS-MiB")
	fmt.Printf("\nmodelsync controller, %d ModelSyncs, interval %s, loopback lambda, controller in its own process:\n", benchObjects, interval)
	fmt.Printf("  lambda flip → run created: p50 %s (%.2f × interval), p99 %s (%.2f × interval), all %s\n",
		p50.Round(time.Millisecond), p50.Seconds()/interval.Seconds(), p99.Round(time.Millisecond), p99.Seconds()/interval.Seconds(),
		allCreated.Round(time.Millisecond))
	fmt.Printf("  lambda's true answer → run created (controller's own part): p50 %s, p99 %s\n",
		c50.Round(time.Millisecond), c99.Round(time.Millisecond))
	fmt.Printf("  idle resync: %.0f reconciles, %.3f API requests per object (%.3f writes)\n", reconciles, perObject, writesPerObject)
	fmt.Printf("  peak RSS %.1f MiB (%.2f × the idle controller's %.1f MiB at start)\n",
		float64(peakRSS)/1024, float64(peakRSS)/float64(idleRSS), float64(idleRSS)/1024)
}

func createMany(b *testing.B, c client.Client, ns, url string) {
	var wg sync.WaitGroup
	errs := make(chan error, benchObjects)
	next := atomic.Int64{}
	for range 16 {
		wg.Go(func() {
			for i := next.Add(1); i <= benchObjects; i = next.Add(1) {
				name := fmt.Sprintf("ms-%04d", i)
				ms := newModelSync(ns, name, url+"/"+name)
				ms.Spec.Interval = &metav1.Duration{Duration: benchInterval}
				if err := c.Create(context.Background(), ms); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatalf("failed to create a ModelSync: %v", err)
	}
}

var metricLine = regexp.MustCompile(`^(\w+)\{([^}]*)\} ([0-9.e+]+)$`)

// scrapeCounters sums the controller's reconciles, API requests and API writes.
func scrapeCounters(b *testing.B, url string) map[string]float64 {
	out := map[string]float64{"reconciles": 0, "requests": 0, "writes": 0}
	sc := bufio.NewScanner(strings.NewReader(scrape(b, url)))
	for sc.Scan() {
		m := metricLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		v, _ := strconv.ParseFloat(m[3], 64)
		switch {
		case m[1] == "controller_runtime_reconcile_total" && strings.Contains(m[2], `controller="modelsync"`):
			out["reconciles"] += v
		case m[1] == "rest_client_requests_total":
			out["requests"] += v
			if !strings.Contains(m[2], `method="GET"`) {
				out["writes"] += v
			}
		}
	}
	return out
}

func procStatusKiB(b *testing.B, pid int, field string) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	b.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

func percentile(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	i := (len(s)*p+99)/100 - 1
	return s[max(0, min(i, len(s)-1))]
}
