package lambda

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics of the lambda server, on a registry of its own (served at /metrics).
type metrics struct {
	registry *prometheus.Registry
	// answers counts answers by route and result (true, false, error).
	answers *prometheus.CounterVec
	// duration of the checks by route.
	duration *prometheus.HistogramVec
	// syncs counts repo syncs by repo and result (ok, error).
	syncs *prometheus.CounterVec
	// lastSync is the time of the last successful sync by repo.
	lastSync *prometheus.GaugeVec
	// pointerRepairs counts newest-model pointers fixed by the repair loop.
	pointerRepairs *prometheus.CounterVec
	// ready is 1 once every repo and registry was read.
	ready prometheus.Gauge
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		answers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "modelsync_lambda_answers_total",
			Help: "Answers of the lambdas by route and result (true, false or error).",
		}, []string{"route", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "modelsync_lambda_check_duration_seconds",
			Help:    "Time to compute a lambda answer, by route.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"route"}),
		syncs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "modelsync_lambda_repo_syncs_total",
			Help: "Syncs of the git checkouts by repo and result (ok or error).",
		}, []string{"repo", "result"}),
		lastSync: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "modelsync_lambda_repo_last_sync_timestamp_seconds",
			Help: "Unix time of the last successful sync of each repo.",
		}, []string{"repo"}),
		pointerRepairs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "modelsync_lambda_registry_pointer_repairs_total",
			Help: "Newest-model pointers found stale and rewritten, by registry.",
		}, []string{"registry"}),
		ready: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "modelsync_lambda_ready",
			Help: "1 once every repo and registry has been read.",
		}),
	}
	m.registry.MustRegister(m.answers, m.duration, m.syncs, m.lastSync, m.pointerRepairs, m.ready,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
