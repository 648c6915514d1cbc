package plugin_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
	"github.com/modelsync/modelsync/internal/pipelinerun"
)

// Scale of the status benchmark; BENCH_MODELSYNCS and BENCH_RUNS_PER_MODELSYNC override it.
func benchScale() (modelSyncs, runsEach int) {
	modelSyncs, runsEach = 1000, 10
	if v, err := strconv.Atoi(os.Getenv("BENCH_MODELSYNCS")); err == nil && v > 0 {
		modelSyncs = v
	}
	if v, err := strconv.Atoi(os.Getenv("BENCH_RUNS_PER_MODELSYNC")); err == nil && v >= 0 {
		runsEach = v
	}
	return modelSyncs, runsEach
}

var benchSetup struct {
	once   sync.Once
	err    error
	plugin string // path of the built kubectl-modelsync
	cache  string // kubectl's discovery cache
}

// setupBench fills the namespace "bench" with ModelSyncs (with a status, as the controller
// leaves them) and their PipelineRuns, and builds the plugin binary.
func setupBench(b *testing.B) {
	benchSetup.once.Do(func() { benchSetup.err = populate(b) })
	if benchSetup.err != nil {
		b.Fatal(benchSetup.err)
	}
}

func populate(b *testing.B) error {
	modelSyncs, runsEach := benchScale()
	cfg := rest.CopyConfig(env.Config)
	cfg.QPS, cfg.Burst = 5000, 10000
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		return err
	}
	ctx := context.Background()
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "bench"}}); err != nil {
		return err
	}
	start := time.Now()
	err = parallel(modelSyncs, func(i int) error {
		name := fmt.Sprintf("model-%04d", i)
		ms := &automlv1alpha1.ModelSync{
			ObjectMeta: metav1.ObjectMeta{Namespace: "bench", Name: name, Labels: map[string]string{"team": "bench"}},
			Spec: automlv1alpha1.ModelSyncSpec{
				NeedsSyncURL: "http://lambdas.bench/needsSync?model=" + name,
				Parameters:   []automlv1alpha1.ParameterMapping{{NeedsSyncName: "name", PipelineName: "automl-model"}},
				PipelineRunTemplate: automlv1alpha1.PipelineRunTemplate{
					Metadata: automlv1alpha1.TemplateMetadata{Labels: map[string]string{"app": "bench"}},
					Spec:     runtime.RawExtension{Raw: []byte(templateSpec)},
				},
			},
		}
		if err := c.Create(ctx, ms); err != nil {
			return err
		}
		for n := int64(1); n <= int64(runsEach); n++ {
			res, err := pipelinerun.Render(ms, pipelinerun.Input{Number: n, Parameters: map[string]string{"name": fmt.Sprintf("m%d", n)}})
			if err != nil {
				return err
			}
			if err := c.Create(ctx, res.PipelineRun); err != nil {
				return err
			}
		}
		ms.Status = automlv1alpha1.ModelSyncStatus{
			Conditions:    []metav1.Condition{condition(automlv1alpha1.ConditionReady, metav1.ConditionTrue, automlv1alpha1.ReasonSucceeded, "in sync", time.Minute)},
			LastNeedsSync: &automlv1alpha1.NeedsSyncResult{Time: *ago(time.Minute), Parameters: map[string]string{"name": "m1"}},
			LastRun: &automlv1alpha1.RunStatus{Name: pipelinerun.Name(name, int64(runsEach)), Number: int64(runsEach),
				Succeeded: metav1.ConditionTrue, StartTime: ago(time.Hour), CompletionTime: ago(50 * time.Minute)},
		}
		return c.Status().Update(ctx, ms)
	})
	if err != nil {
		return fmt.Errorf("failed to create the benchmark objects: %w", err)
	}
	b.Logf("created %d ModelSyncs and %d PipelineRuns in %s", modelSyncs, modelSyncs*runsEach, time.Since(start).Round(time.Second))

	dir, err := os.MkdirTemp("", "modelsync-bench-")
	if err != nil {
		return err
	}
	benchSetup.plugin = filepath.Join(dir, "kubectl-modelsync")
	benchSetup.cache = filepath.Join(dir, "cache")
	build := exec.Command("go", "build", "-o", benchSetup.plugin, "./cmd/kubectl-modelsync")
	build.Dir = env.Root
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("failed to build kubectl-modelsync: %v: %s", err, out)
	}
	return nil
}

// parallel runs f(0..n-1) on a few workers and returns the first error.
func parallel(n int, f func(i int) error) error {
	var next atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				if err := f(i); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}

// timeCommand runs a command with output discarded and returns how long it took.
func timeCommand(b *testing.B, name string, args ...string) time.Duration {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(benchSetup.plugin)+":"+os.Getenv("PATH"))
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, stderr.String())
	}
	return time.Since(start)
}

// BenchmarkStatusAllNamespaces times `kubectl modelsync status -A` against `kubectl get
// modelsyncs -A` over the same objects, both as processes, in the same iterations, and reports
// the ratio. The plugin is timed directly and through kubectl's plugin lookup.
func BenchmarkStatusAllNamespaces(b *testing.B) {
	setupBench(b)
	kubectlBin, err := exec.LookPath("kubectl")
	if err != nil {
		b.Skip("kubectl is not on PATH")
	}
	common := []string{"--kubeconfig", env.Kubeconfig, "--cache-dir", benchSetup.cache}
	get := append([]string{"get", "modelsyncs", "-A"}, common...)
	plugin := append([]string{"status", "-A"}, common...)
	viaKubectl := append([]string{"modelsync", "status", "-A"}, common...)
	timeCommand(b, kubectlBin, get...) // fill kubectl's discovery cache
	var tGet, tPlugin, tVia time.Duration
	b.ResetTimer()
	for b.Loop() {
		tGet += timeCommand(b, kubectlBin, get...)
		tPlugin += timeCommand(b, benchSetup.plugin, plugin...)
		tVia += timeCommand(b, kubectlBin, viaKubectl...)
	}
	n := float64(b.N)
	b.ReportMetric(float64(tGet.Milliseconds())/n, "get-ms/op")
	b.ReportMetric(float64(tPlugin.Milliseconds())/n, "status-ms/op")
	b.ReportMetric(float64(tVia.Milliseconds())/n, "kubectl-modelsync-ms/op")
	b.ReportMetric(float64(tPlugin)/float64(tGet), "status/get")
	b.ReportMetric(float64(tVia)/float64(tGet), "kubectl-modelsync/get")
}

// countingTransport counts requests by method and path.
type countingTransport struct {
	next http.RoundTripper
	mu   sync.Mutex
	seen map[string]int
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.seen[r.Method+" "+r.URL.Path]++
	c.mu.Unlock()
	return c.next.RoundTrip(r)
}

// BenchmarkStatusInProcess runs `status -A` in-process, counts its API requests (it must make
// exactly one, a list of ModelSyncs, whatever their number) and reports its time as a ratio to
// a bare typed list of the same ModelSyncs.
func BenchmarkStatusInProcess(b *testing.B) {
	setupBench(b)
	modelSyncs, _ := benchScale()
	ctx := context.Background()
	counter := &countingTransport{seen: map[string]int{}}
	wrap := func(cfg *rest.Config) {
		cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { counter.next = rt; return counter })
	}
	c, err := client.New(env.Config, client.Options{Scheme: env.Scheme})
	if err != nil {
		b.Fatal(err)
	}
	var tList, tStatus time.Duration
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		list := &automlv1alpha1.ModelSyncList{}
		if err := c.List(ctx, list); err != nil {
			b.Fatal(err)
		}
		tList += time.Since(start)
		if len(list.Items) < modelSyncs {
			b.Fatalf("listed %d ModelSyncs, want at least %d", len(list.Items), modelSyncs)
		}

		start = time.Now()
		r := kubectl(ctx, options{wrapCfg: wrap, stdout: &syncBuffer{}}, "status", "-A", "-l", "team=bench")
		tStatus += time.Since(start)
		if r.Code != 0 {
			b.Fatalf("status failed: %s", r.Stderr)
		}
		if lines := strings.Count(r.Stdout, "\n"); lines != modelSyncs+1 {
			b.Fatalf("status printed %d lines, want %d", lines, modelSyncs+1)
		}
	}
	b.StopTimer()
	total := 0
	for key, count := range counter.seen {
		total += count
		if key != "GET /apis/automl.cloudai.kubeflow.org/v1alpha1/modelsyncs" {
			b.Errorf("status made an unexpected request: %s (%d times)", key, count)
		}
	}
	b.ReportMetric(float64(total)/float64(b.N), "requests/op")
	b.ReportMetric(float64(tStatus)/float64(tList), "status/list")
}
