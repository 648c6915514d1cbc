package controller

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Check results, the values of the result label of modelsync_checks_total.
const (
	checkNeedsSync = "needs_sync"
	checkNoSync    = "no_sync"
	checkError     = "error"
)

var (
	checksTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "modelsync_checks_total",
		Help: "Lambda checks by result: needs_sync, no_sync or error.",
	}, []string{"result"})
	checkDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "modelsync_check_duration_seconds",
		Help:    "Duration of lambda checks.",
		Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
	})
	runsCreated = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "modelsync_runs_created_total",
		Help: "PipelineRuns created, by trigger: interval or manual.",
	}, []string{"trigger"})
	runsFinished = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "modelsync_runs_finished_total",
		Help: "PipelineRuns seen finishing, by result: succeeded or failed.",
	}, []string{"result"})
	activeRunsGauge = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "modelsync_active_runs",
		Help: "PipelineRuns running, over all ModelSyncs of this controller.",
	})
)

func init() {
	metrics.Registry.MustRegister(checksTotal, checkDuration, runsCreated, runsFinished, activeRunsGauge)
}

// activeRuns counts the running PipelineRuns per ModelSync and publishes their sum.
type activeRuns struct {
	mu    sync.Mutex
	count map[types.NamespacedName]int
}

func (a *activeRuns) set(key types.NamespacedName, n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.count == nil {
		a.count = map[types.NamespacedName]int{}
	}
	if n == 0 {
		delete(a.count, key)
	} else {
		a.count[key] = n
	}
	total := 0
	for _, c := range a.count {
		total += c
	}
	activeRunsGauge.Set(float64(total))
}
