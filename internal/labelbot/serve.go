package labelbot

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// ServerOptions configure a prediction server.
type ServerOptions struct {
	// Source loads models.
	Source ModelSource
	// IDFile holds the id of the model to serve (a mounted ConfigMap key). Without it the
	// source's only model is served and never reloaded.
	IDFile string
	// Poll is how often IDFile is read (default 2s).
	Poll time.Duration
	Log  *slog.Logger
}

// Server answers POST /predict with the current model and swaps models without a pause:
// a request uses the model that was current when it started.
type Server struct {
	opts    ServerOptions
	current atomic.Pointer[LoadedModel]

	refreshMu sync.Mutex
	lastErr   string

	registry    *prometheus.Registry
	requests    *prometheus.CounterVec
	latency     prometheus.Histogram
	reloads     *prometheus.CounterVec
	modelInfo   *prometheus.GaugeVec
	predictions *prometheus.CounterVec
}

// NewServer makes a server; call Refresh (or Run) to load the first model.
func NewServer(opts ServerOptions) (*Server, error) {
	if opts.Source == nil {
		return nil, fmt.Errorf("failed to create server: no model source")
	}
	opts.Poll = cmp.Or(opts.Poll, 2*time.Second)
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: opts, registry: prometheus.NewRegistry()}
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "labelbot_http_requests_total", Help: "HTTP requests by path and status code.",
	}, []string{"path", "code"})
	s.latency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "labelbot_predict_duration_seconds", Help: "Time to answer a prediction request.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 4, 8),
	})
	s.reloads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "labelbot_model_loads_total", Help: "Model loads by result.",
	}, []string{"result"})
	s.modelInfo = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "labelbot_model_info", Help: "The model being served (value 1).",
	}, []string{"id"})
	s.predictions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "labelbot_predicted_labels_total", Help: "Labels predicted, by label.",
	}, []string{"label"})
	s.registry.MustRegister(s.requests, s.latency, s.reloads, s.modelInfo, s.predictions)
	return s, nil
}

// Current returns the model being served, or nil before the first load.
func (s *Server) Current() *LoadedModel { return s.current.Load() }

// Refresh reads the id file and loads the model it names when it differs from the current
// one. On failure the current model stays in service.
func (s *Server) Refresh(ctx context.Context) error {
	s.refreshMu.Lock()
	defer s.refreshMu.Unlock()
	id := ""
	if s.opts.IDFile != "" {
		raw, err := os.ReadFile(s.opts.IDFile)
		if err != nil {
			return s.loadFailed(fmt.Errorf("failed to read model id file: %w", err))
		}
		if id = strings.TrimSpace(string(raw)); id == "" {
			return s.loadFailed(fmt.Errorf("model id file %s is empty", s.opts.IDFile))
		}
	}
	cur := s.current.Load()
	if cur != nil && (id == "" || cur.Manifest.ID == id) {
		return nil
	}
	lm, err := s.opts.Source.Load(ctx, id)
	if err != nil {
		return s.loadFailed(err)
	}
	s.current.Store(lm)
	s.lastErr = ""
	s.reloads.WithLabelValues("success").Inc()
	s.modelInfo.Reset()
	s.modelInfo.WithLabelValues(lm.Manifest.ID).Set(1)
	s.opts.Log.Info("serving model", "id", lm.Manifest.ID, "source", s.opts.Source.String())
	return nil
}

func (s *Server) loadFailed(err error) error {
	s.reloads.WithLabelValues("failure").Inc()
	if msg := err.Error(); msg != s.lastErr {
		s.lastErr = msg
		s.opts.Log.Error("model not loaded; the current one stays in service", "error", err)
	}
	return err
}

// Run polls the id file until ctx ends.
func (s *Server) Run(ctx context.Context) {
	if s.opts.IDFile == "" {
		return
	}
	t := time.NewTicker(s.opts.Poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = s.Refresh(ctx)
		}
	}
}

// PredictRequest is the body of POST /predict.
type PredictRequest struct {
	Title string `json:"title"`
	Body  string `json:"body"`
}

// PredictResponse lists the labels whose scores reached their thresholds.
type PredictResponse struct {
	Model  string       `json:"model"`
	Labels []Prediction `json:"labels"`
}

// Handler serves POST /predict, GET /healthz and GET /metrics.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/predict", s.predict)
	mux.HandleFunc("/healthz", s.healthz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{}))
	return mux
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	lm := s.current.Load()
	if lm == nil {
		s.reply(w, "/healthz", http.StatusServiceUnavailable, map[string]string{"error": "no model loaded"})
		return
	}
	s.reply(w, "/healthz", http.StatusOK, map[string]string{"model": lm.Manifest.ID})
}

func (s *Server) predict(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		s.reply(w, "/predict", http.StatusMethodNotAllowed, map[string]string{"error": "use POST"})
		return
	}
	var req PredictRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		s.reply(w, "/predict", http.StatusBadRequest, map[string]string{"error": "invalid request body: " + err.Error()})
		return
	}
	if strings.TrimSpace(req.Title) == "" && strings.TrimSpace(req.Body) == "" {
		s.reply(w, "/predict", http.StatusBadRequest, map[string]string{"error": "fields title and body are both empty"})
		return
	}
	lm := s.current.Load()
	if lm == nil {
		s.reply(w, "/predict", http.StatusServiceUnavailable, map[string]string{"error": "no model loaded"})
		return
	}
	resp := PredictResponse{Model: lm.Manifest.ID, Labels: lm.Classifier.Predict(req.Title, req.Body)}
	for _, p := range resp.Labels {
		s.predictions.WithLabelValues(p.Label).Inc()
	}
	s.reply(w, "/predict", http.StatusOK, resp)
	s.latency.Observe(time.Since(start).Seconds())
}

func (s *Server) reply(w http.ResponseWriter, path string, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
	s.requests.WithLabelValues(path, fmt.Sprint(code)).Inc()
}

// ListenAndServe serves on addr until ctx ends, then drains in-flight requests.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	srv := &http.Server{Addr: addr, Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go s.Run(ctx)
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	s.opts.Log.Info("listening", "addr", addr)
	select {
	case err := <-errc:
		return fmt.Errorf("failed to serve on %s: %w", addr, err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("failed to shut down server: %w", err)
	}
	return nil
}
