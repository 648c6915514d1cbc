package controller

import (
	"fmt"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/selection"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
)

// LeaderElectionID names the lease that replicas of the controller compete for.
const LeaderElectionID = "modelsync-controller.automl.cloudai.kubeflow.org"

// New builds a manager that runs the ModelSync reconciler, and returns both. The reconciler's
// fields may be adjusted until the manager starts.
func New(cfg *rest.Config, opts Options) (ctrl.Manager, *Reconciler, error) {
	if err := opts.Validate(); err != nil {
		return nil, nil, err
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, nil, fmt.Errorf("failed to build the scheme: %w", err)
	}
	if err := automlv1alpha1.AddToScheme(scheme); err != nil {
		return nil, nil, fmt.Errorf("failed to build the scheme: %w", err)
	}
	// Only PipelineRuns that belong to a ModelSync are cached.
	owned, err := labels.NewRequirement(automlv1alpha1.LabelModelSync, selection.Exists, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to build the PipelineRun selector: %w", err)
	}
	cacheOpts := cache.Options{
		SyncPeriod: &opts.SyncPeriod,
		ByObject:   map[client.Object]cache.ByObject{newRunObject(): {Label: labels.NewSelector().Add(*owned)}},
	}
	if len(opts.Namespaces) > 0 {
		cacheOpts.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range opts.Namespaces {
			cacheOpts.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme: scheme,
		Cache:  cacheOpts,
		// PipelineRuns are unstructured: read them from the cache too, so an idle resync costs no request.
		Client:                        client.Options{Cache: &client.CacheOptions{Unstructured: true}},
		Metrics:                       metricsserver.Options{BindAddress: opts.MetricsAddr},
		HealthProbeBindAddress:        opts.HealthAddr,
		LeaderElection:                opts.LeaderElection,
		LeaderElectionID:              LeaderElectionID,
		LeaderElectionNamespace:       opts.LeaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("failed to create the manager: %w", err)
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return nil, nil, fmt.Errorf("failed to add the health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("ping", healthz.Ping); err != nil {
		return nil, nil, fmt.Errorf("failed to add the readiness check: %w", err)
	}
	r := &Reconciler{
		Client:          mgr.GetClient(),
		APIReader:       mgr.GetAPIReader(),
		Recorder:        mgr.GetEventRecorder("modelsync-controller"),
		Lambda:          NewLambda(opts.AllowedHosts),
		DefaultInterval: opts.DefaultInterval,
		RetryBase:       opts.RetryBase,
	}
	if err := r.SetupWithManager(mgr, opts.Concurrency); err != nil {
		return nil, nil, fmt.Errorf("failed to set up the ModelSync controller: %w", err)
	}
	return mgr, r, nil
}
