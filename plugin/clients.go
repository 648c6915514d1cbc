package plugin

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
)

// Resources the plugin reads. They are fixed, so no discovery request is ever made.
var (
	pipelineRunsGVR = schema.GroupVersionResource{Group: "tekton.dev", Version: "v1", Resource: "pipelineruns"}
	modelSyncGVK    = automlv1alpha1.GroupVersion.WithKind(automlv1alpha1.ModelSyncKind)
)

const (
	modelSyncResource = "modelsyncs"
	modelSyncPlural   = "modelsyncs.automl.cloudai.kubeflow.org"
	// Tekton labels set on the pods of a run.
	labelPipelineRun  = "tekton.dev/pipelineRun"
	labelPipelineTask = "tekton.dev/pipelineTask"
)

// clients talk to the API server for one command.
type clients struct {
	modelSyncs rest.Interface
	dynamic    dynamic.Interface
	kube       kubernetes.Interface
	// namespace is the namespace of -n or of the kubeconfig context.
	namespace string
}

// Clients builds the clients from the flags once.
func (c *Common) Clients() (*clients, error) {
	if c.clients != nil {
		return c.clients, nil
	}
	cfg, err := c.ConfigFlags.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("failed to load the kubeconfig: %w", err)
	}
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 50, 100
	if c.WrapConfig != nil {
		c.WrapConfig(cfg)
	}
	ns, _, err := c.ConfigFlags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return nil, fmt.Errorf("failed to read the namespace from the kubeconfig: %w", err)
	}
	scheme := runtime.NewScheme()
	if err := automlv1alpha1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	msCfg := rest.CopyConfig(cfg)
	msCfg.GroupVersion = &automlv1alpha1.GroupVersion
	msCfg.APIPath = "/apis"
	msCfg.NegotiatedSerializer = serializer.NewCodecFactory(scheme).WithoutConversion()
	out := &clients{namespace: ns}
	if out.modelSyncs, err = rest.RESTClientFor(msCfg); err != nil {
		return nil, fmt.Errorf("failed to create the ModelSync client: %w", err)
	}
	if out.dynamic, err = dynamic.NewForConfig(cfg); err != nil {
		return nil, fmt.Errorf("failed to create the dynamic client: %w", err)
	}
	if out.kube, err = kubernetes.NewForConfig(cfg); err != nil {
		return nil, fmt.Errorf("failed to create the Kubernetes client: %w", err)
	}
	c.clients = out
	return out, nil
}

func (c *clients) getModelSync(ctx context.Context, ns, name string) (*automlv1alpha1.ModelSync, error) {
	ms := &automlv1alpha1.ModelSync{}
	err := c.modelSyncs.Get().Namespace(ns).Resource(modelSyncResource).Name(name).Do(ctx).Into(ms)
	if err != nil {
		return nil, modelSyncError(err, "get", ns, name)
	}
	ms.SetGroupVersionKind(modelSyncGVK)
	return ms, nil
}

// listModelSyncs lists the ModelSyncs of ns ("" for all namespaces) in one request.
func (c *clients) listModelSyncs(ctx context.Context, ns string, opts metav1.ListOptions) (*automlv1alpha1.ModelSyncList, error) {
	list := &automlv1alpha1.ModelSyncList{}
	err := c.modelSyncs.Get().NamespaceIfScoped(ns, ns != "").Resource(modelSyncResource).
		VersionedParams(&opts, metav1.ParameterCodec).Do(ctx).Into(list)
	if err != nil {
		return nil, modelSyncError(err, "list", ns, "")
	}
	list.SetGroupVersionKind(automlv1alpha1.GroupVersion.WithKind("ModelSyncList"))
	for i := range list.Items {
		list.Items[i].SetGroupVersionKind(modelSyncGVK)
	}
	return list, nil
}

func (c *clients) watchModelSyncs(ctx context.Context, ns string, opts metav1.ListOptions) (watch.Interface, error) {
	opts.Watch = true
	w, err := c.modelSyncs.Get().NamespaceIfScoped(ns, ns != "").Resource(modelSyncResource).
		VersionedParams(&opts, metav1.ParameterCodec).Watch(ctx)
	if err != nil {
		return nil, modelSyncError(err, "watch", ns, "")
	}
	return w, nil
}

func (c *clients) patchModelSync(ctx context.Context, ns, name string, patch []byte) (*automlv1alpha1.ModelSync, error) {
	ms := &automlv1alpha1.ModelSync{}
	err := c.modelSyncs.Patch(types.MergePatchType).Namespace(ns).Resource(modelSyncResource).Name(name).
		Body(patch).Do(ctx).Into(ms)
	if err != nil {
		return nil, modelSyncError(err, "patch", ns, name)
	}
	ms.SetGroupVersionKind(modelSyncGVK)
	return ms, nil
}

// modelSyncError turns an API error into a one-line message naming the ModelSync.
func modelSyncError(err error, verb, ns, name string) error {
	what := "ModelSyncs"
	if name != "" {
		what = fmt.Sprintf("modelsync %q", name)
	}
	where := fmt.Sprintf(" in namespace %q", ns)
	if ns == "" {
		where = " in any namespace"
	}
	switch {
	case missingResource(err):
		return fmt.Errorf("failed to %s %s: the server has no resource %s: is the ModelSync CRD installed (kpt-packages/modelsync)?",
			verb, what, modelSyncPlural)
	case apierrors.IsNotFound(err):
		return &objectNotFound{fmt.Sprintf("modelsync %q not found%s", name, where)}
	default:
		return fmt.Errorf("failed to %s %s%s: %w", verb, what, where, err)
	}
}

// objectNotFound is the error for a missing object (of a resource the server has).
type objectNotFound struct{ msg string }

func (e *objectNotFound) Error() string { return e.msg }

// missingResource tells a missing resource type (no CRD) from a missing object: for the
// former the server answers a bare 404 page, not a Status, and client-go records that as an
// unexpected server response.
func missingResource(err error) bool {
	status, ok := err.(apierrors.APIStatus)
	if !ok || !apierrors.IsNotFound(err) {
		return false
	}
	details := status.Status().Details
	if details == nil {
		return true
	}
	for _, cause := range details.Causes {
		if cause.Type == metav1.CauseTypeUnexpectedServerResponse {
			return true
		}
	}
	return details.Name == ""
}
