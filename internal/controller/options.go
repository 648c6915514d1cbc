package controller

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"
)

// Options configure the controller binary. DefaultOptions gives the values of a Deployment.
type Options struct {
	// MetricsAddr is where the Prometheus metrics are served ("0" turns them off).
	MetricsAddr string
	// HealthAddr is where /healthz and /readyz are served ("0" turns them off).
	HealthAddr string
	// LeaderElection makes only one replica reconcile at a time.
	LeaderElection bool
	// LeaderElectionNamespace holds the lease; empty means the namespace the pod runs in.
	LeaderElectionNamespace string
	// Concurrency is the number of ModelSyncs reconciled in parallel.
	Concurrency int
	// DefaultInterval applies to ModelSyncs without spec.interval.
	DefaultInterval time.Duration
	// RetryBase is the first delay after a failed lambda check; it doubles per failure and is
	// capped at the ModelSync's interval.
	RetryBase time.Duration
	// SyncPeriod is how often every ModelSync is reconciled even when nothing changed.
	SyncPeriod time.Duration
	// Namespaces limits the controller to these namespaces; empty means all.
	Namespaces []string
	// AllowedHosts, when not empty, lists the only hosts lambdas may be reached at: exact host
	// names, or "*.example.com" for any subdomain. Redirects are checked too.
	AllowedHosts []string
}

// DefaultOptions returns the options of a production Deployment.
func DefaultOptions() Options {
	return Options{
		MetricsAddr:     ":8080",
		HealthAddr:      ":8081",
		LeaderElection:  true,
		Concurrency:     4,
		DefaultInterval: 5 * time.Minute,
		RetryBase:       5 * time.Second,
		SyncPeriod:      10 * time.Hour,
	}
}

// BindFlags registers the options as flags of fs, with the current values as defaults.
func (o *Options) BindFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.MetricsAddr, "metrics-bind-address", o.MetricsAddr, "address of the Prometheus metrics endpoint (\"0\" disables it)")
	fs.StringVar(&o.HealthAddr, "health-probe-bind-address", o.HealthAddr, "address of /healthz and /readyz (\"0\" disables them)")
	fs.BoolVar(&o.LeaderElection, "leader-elect", o.LeaderElection, "elect a leader so that only one replica reconciles")
	fs.StringVar(&o.LeaderElectionNamespace, "leader-election-namespace", o.LeaderElectionNamespace, "namespace of the leader election lease (default: the pod's namespace)")
	fs.IntVar(&o.Concurrency, "concurrency", o.Concurrency, "number of ModelSyncs reconciled in parallel")
	fs.DurationVar(&o.DefaultInterval, "default-interval", o.DefaultInterval, "lambda check interval of ModelSyncs without spec.interval")
	fs.DurationVar(&o.RetryBase, "retry-base", o.RetryBase, "first retry delay after a failed lambda check (doubles per failure, capped at the interval)")
	fs.DurationVar(&o.SyncPeriod, "sync-period", o.SyncPeriod, "how often every ModelSync is reconciled even when nothing changed")
	fs.Func("namespaces", "comma-separated namespaces to watch (default: all)", func(s string) error {
		o.Namespaces = splitList(s)
		return nil
	})
	fs.Func("needs-sync-allowed-hosts", "comma-separated hosts that lambdas may be reached at, \"*.domain\" for subdomains (default: any)", func(s string) error {
		o.AllowedHosts = splitList(s)
		return nil
	})
}

// Validate checks the options and names the flag at fault.
func (o *Options) Validate() error {
	var errs []error
	if o.Concurrency < 1 {
		errs = append(errs, fmt.Errorf("--concurrency must be at least 1, got %d", o.Concurrency))
	}
	if o.DefaultInterval < 10*time.Second {
		errs = append(errs, fmt.Errorf("--default-interval must be at least 10s, got %s", o.DefaultInterval))
	}
	if o.RetryBase <= 0 {
		errs = append(errs, fmt.Errorf("--retry-base must be positive, got %s", o.RetryBase))
	}
	if o.SyncPeriod <= 0 {
		errs = append(errs, fmt.Errorf("--sync-period must be positive, got %s", o.SyncPeriod))
	}
	for _, h := range o.AllowedHosts {
		if strings.ContainsAny(h, "/: ") || strings.Contains(strings.TrimPrefix(h, "*."), "*") {
			errs = append(errs, fmt.Errorf("--needs-sync-allowed-hosts: %q is not a host name or *.domain", h))
		}
	}
	return errors.Join(errs...)
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
