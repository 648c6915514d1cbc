// Package controller reconciles ModelSyncs: it asks their lambdas whether a sync is needed and
// starts, watches and garbage-collects their Tekton PipelineRuns.
package controller

// The controller's permissions, exactly what the code uses; `make generate` turns these markers
// into kpt-packages/modelsync/rbac/role.yaml. ModelSyncs are only read (the controller writes
// their status, never their spec); PipelineRuns are created and deleted, never modified; no
// Secrets. The leader election lease is confined to the controller's own namespace.
//
// +kubebuilder:rbac:groups=automl.cloudai.kubeflow.org,resources=modelsyncs,verbs=get;list;watch
// +kubebuilder:rbac:groups=automl.cloudai.kubeflow.org,resources=modelsyncs/status,verbs=get;patch
// +kubebuilder:rbac:groups=tekton.dev,resources=pipelineruns,verbs=get;list;watch;create;delete
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;list;watch;create;update;patch;delete,namespace=modelsync-system
