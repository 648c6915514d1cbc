package lambda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/modelsync/modelsync/fn/set-automl-model/setmodel"
	"github.com/modelsync/modelsync/internal/registry"
)

// Options are the server's settings that are not part of Config.
type Options struct {
	// WorkDir holds the clones of remote repos.
	WorkDir string
	// Logger receives structured logs (default: slog.Default()).
	Logger *slog.Logger
	// CheckTimeout bounds one answer (default 25s, under the controller's default 30s).
	CheckTimeout time.Duration
	// RetryPeriod is how often start-up reads are retried until ready (default 2s).
	RetryPeriod time.Duration
}

// Server serves the routes of a Config.
type Server struct {
	cfg        *Config
	opts       Options
	log        *slog.Logger
	metrics    *metrics
	mux        *http.ServeMux
	checkouts  []Checkout
	registries map[string]*lazyRegistry
	ready      atomic.Bool
}

// NewServer builds the server of a validated, defaulted config. Nothing is read yet: Run
// syncs the repos and reads the registries, and /readyz turns ready once both succeeded.
func NewServer(cfg *Config, opts Options) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid config: %w", err)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.CheckTimeout <= 0 {
		opts.CheckTimeout = 25 * time.Second
	}
	if opts.RetryPeriod <= 0 {
		opts.RetryPeriod = 2 * time.Second
	}
	s := &Server{cfg: cfg, opts: opts, log: opts.Logger, metrics: newMetrics(), mux: http.NewServeMux(),
		registries: map[string]*lazyRegistry{}}
	byName := map[string]Checkout{}
	for _, rc := range cfg.Repos {
		c := NewCheckout(rc, opts.WorkDir, s.log)
		byName[rc.Name] = c
		s.checkouts = append(s.checkouts, c)
	}
	for _, rt := range cfg.Routes {
		reg := s.registry(rt.Registry)
		var check Check
		switch rt.Kind {
		case KindTrainer:
			check = &Trainer{Registry: reg.get, Key: rt.Trainer.Key,
				RetrainInterval: rt.Trainer.RetrainInterval.Duration, TrainingTimeout: rt.Trainer.TrainingTimeout.Duration}
		case KindDeployer:
			sel := rt.Deployer.Selector
			check = &Deployer{Registry: reg.get, Checkout: byName[rt.Deployer.Repo], Path: rt.Deployer.Path,
				ReadModel: func(dir string) (string, error) { return setmodel.ReadModel(dir, sel) }}
		}
		s.mux.Handle(rt.Path, s.handler(rt.Path, check))
	}
	s.mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	s.mux.HandleFunc("/readyz", s.serveReady)
	s.mux.Handle("/metrics", promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{}))
	return s, nil
}

// Handler is the HTTP handler of every route, /healthz, /readyz and /metrics.
func (s *Server) Handler() http.Handler { return s.mux }

// Ready reports whether every repo was synced and every registry read at least once.
func (s *Server) Ready() bool { return s.ready.Load() }

func (s *Server) registry(url string) *lazyRegistry {
	if r, ok := s.registries[url]; ok {
		return r
	}
	r := &lazyRegistry{url: url}
	s.registries[url] = r
	return r
}

func (s *Server) handler(route string, check Check) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "only GET is supported", http.StatusMethodNotAllowed)
			return
		}
		start := time.Now()
		ctx, cancel := context.WithTimeout(req.Context(), s.opts.CheckTimeout)
		res, err := check.Check(ctx)
		cancel()
		elapsed := time.Since(start)
		s.metrics.duration.WithLabelValues(route).Observe(elapsed.Seconds())
		code, result := http.StatusOK, fmt.Sprint(res.NeedsSync)
		if err != nil {
			code, result = http.StatusInternalServerError, "error"
			s.log.Error("check failed", "route", route, "error", err.Error(), "duration", elapsed)
		} else {
			s.log.Info("answered", "route", route, "needsSync", res.NeedsSync, "parameters", res.Parameters,
				"reason", res.Reason, "duration", elapsed)
		}
		s.metrics.answers.WithLabelValues(route, result).Inc()
		body, merr := json.Marshal(answer(res, err))
		if merr != nil {
			http.Error(w, merr.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = w.Write(append(body, '\n'))
	})
}

func (s *Server) serveReady(w http.ResponseWriter, req *http.Request) {
	if !s.ready.Load() {
		if pending := s.checkReady(req.Context()); len(pending) > 0 {
			http.Error(w, "not ready:\n"+strings.Join(pending, "\n"), http.StatusServiceUnavailable)
			return
		}
	}
	_, _ = w.Write([]byte("ok\n"))
}

// Run syncs the repos and reads the registries until each succeeded once (then the server
// is ready), and keeps remote repos fetched and registry pointers repaired until ctx ends.
func (s *Server) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, c := range s.checkouts {
		if c.Period() > 0 {
			wg.Go(func() { s.syncLoop(ctx, c) })
		}
	}
	if p := s.cfg.RegistryRepairPeriod.Duration; p > 0 {
		for _, r := range s.registries {
			wg.Go(func() { s.repairLoop(ctx, r, p) })
		}
	}
	for len(s.checkReady(ctx)) > 0 {
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-time.After(s.opts.RetryPeriod):
		}
	}
	wg.Wait()
}

// checkReady reads every checkout and registry and returns what is not readable yet; when
// everything is, the server becomes ready for good.
func (s *Server) checkReady(ctx context.Context) []string {
	if s.ready.Load() {
		return nil
	}
	var pending []string
	for _, c := range s.checkouts {
		_, release, err := c.Acquire()
		if err != nil {
			pending = append(pending, err.Error())
			continue
		}
		release()
	}
	for _, r := range s.sortedRegistries() {
		if err := r.probe(ctx); err != nil {
			pending = append(pending, err.Error())
		}
	}
	if len(pending) == 0 && s.ready.CompareAndSwap(false, true) {
		s.metrics.ready.Set(1)
		s.log.Info("ready")
	}
	return pending
}

func (s *Server) syncLoop(ctx context.Context, c Checkout) {
	for {
		s.recordSync(c, c.Sync(ctx))
		select {
		case <-ctx.Done():
			return
		case <-time.After(c.Period()):
		}
	}
}

func (s *Server) recordSync(c Checkout, err error) {
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			s.log.Error("repo sync failed", "repo", c.Name(), "error", err.Error())
		}
		s.metrics.syncs.WithLabelValues(c.Name(), "error").Inc()
		return
	}
	s.metrics.syncs.WithLabelValues(c.Name(), "ok").Inc()
	s.metrics.lastSync.WithLabelValues(c.Name()).SetToCurrentTime()
}

func (s *Server) repairLoop(ctx context.Context, r *lazyRegistry, period time.Duration) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(period):
		}
		reg, err := r.get(ctx)
		if err != nil {
			continue // reported by the answers
		}
		changed, err := reg.SyncPointer(ctx)
		switch {
		case err != nil:
			s.log.Error("registry pointer check failed", "registry", r.url, "error", err.Error())
		case changed:
			s.metrics.pointerRepairs.WithLabelValues(r.url).Inc()
			s.log.Warn("repaired the newest-model pointer", "registry", r.url)
		}
	}
}

func (s *Server) sortedRegistries() []*lazyRegistry {
	out := make([]*lazyRegistry, 0, len(s.registries))
	for _, r := range s.registries {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].url < out[j].url })
	return out
}

// lazyRegistry opens a registry on first use and retries a failed open on the next one.
type lazyRegistry struct {
	url string
	mu  sync.Mutex
	reg *registry.Registry
}

func (l *lazyRegistry) get(ctx context.Context) (*registry.Registry, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.reg != nil {
		return l.reg, nil
	}
	reg, err := registry.Open(ctx, l.url)
	if err != nil {
		return nil, err
	}
	l.reg = reg
	return reg, nil
}

// probe reads the registry once (its newest model).
func (l *lazyRegistry) probe(ctx context.Context) error {
	reg, err := l.get(ctx)
	if err != nil {
		return err
	}
	_, err = reg.Newest(ctx)
	return err
}

// Close closes the registries that were opened.
func (s *Server) Close() error {
	var errs []error
	for _, r := range s.registries {
		r.mu.Lock()
		if r.reg != nil {
			errs = append(errs, r.reg.Close())
			r.reg = nil
		}
		r.mu.Unlock()
	}
	return errors.Join(errs...)
}
