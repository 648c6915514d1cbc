package demo

import (
	"context"
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/kio/filters"
)

// FieldManager is the server-side apply field manager of everything the demo applies.
const FieldManager = "modelsync-demo"

// readPackage reads the resources of a kpt package folder (and its subfolders), leaving out
// local-config resources such as the Kptfile, as kpt live apply does.
func readPackage(dir string) ([]*unstructured.Unstructured, error) {
	nodes, err := (&kio.LocalPackageReader{PackagePath: dir, OmitReaderAnnotations: true}).Read()
	if err != nil {
		return nil, fmt.Errorf("failed to read package %s: %w", dir, err)
	}
	nodes, err = (&filters.IsLocalConfig{IncludeLocalConfig: false, ExcludeNonLocalConfig: false}).Filter(nodes)
	if err != nil {
		return nil, err
	}
	var objs []*unstructured.Unstructured
	for _, n := range nodes {
		data, err := n.MarshalJSON()
		if err != nil {
			return nil, err
		}
		u := &unstructured.Unstructured{}
		if err := json.Unmarshal(data, &u.Object); err != nil {
			return nil, err
		}
		objs = append(objs, u)
	}
	return objs, nil
}

// apply applies objects with server-side apply, in order.
func (d *demo) apply(ctx context.Context, objs ...*unstructured.Unstructured) error {
	for _, u := range objs {
		u = u.DeepCopy()
		u.SetManagedFields(nil)
		u.SetResourceVersion("")
		if err := d.client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
			return fmt.Errorf("failed to apply %s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
		}
	}
	return nil
}
