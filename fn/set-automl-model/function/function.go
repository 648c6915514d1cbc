// Package function is the set-automl-model KRM function: it reads its functionConfig and applies
// setmodel.Set to the items of the ResourceList.
package function

import (
	"fmt"

	"github.com/kptdev/krm-functions-sdk/go/fn"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/modelsync/modelsync/fn/internal/fnconfig"
	"github.com/modelsync/modelsync/fn/set-automl-model/setmodel"
)

// SetAutomlModel is the typed functionConfig (apiVersion fn.kpt.dev/v1alpha1). A ConfigMap whose
// data holds the same keys flat (model, name, namespace, key, marker) is accepted too.
type SetAutomlModel struct {
	// Data receives the data of a ConfigMap functionConfig. It must stay the first map[string]string
	// field: the SDK assigns ConfigMap data to that field.
	Data map[string]string `json:"data,omitempty" yaml:"data,omitempty"`

	// Model is the model id to set. Required.
	Model string `json:"model,omitempty" yaml:"model,omitempty"`
	// Selector chooses the values that hold the model id.
	Selector setmodel.Selector `json:"selector,omitempty" yaml:"selector,omitempty"`
}

var _ fn.Runner = &SetAutomlModel{}

// Run sets the model in the items. On any error it adds an error result, leaves every item as it
// was, and returns false.
func (s *SetAutomlModel) Run(_ *fn.Context, config *fn.KubeObject, items fn.KubeObjects, results *fn.Results) bool {
	if err := s.load(config); err != nil {
		results.ErrorE(err)
		return false
	}
	nodes := make([]*yaml.RNode, len(items))
	for i, item := range items {
		nodes[i] = item.MoveToResourceNode()
	}
	changes, err := setmodel.Set(nodes, s.Selector, s.Model)
	for i, rn := range nodes { // hand every node back, changed or not
		*items[i] = *fn.MoveToKubeObject(rn)
	}
	if err != nil {
		results.ErrorE(fmt.Errorf("failed to set the model: %w", err))
		return false
	}
	for _, c := range changes {
		*results = append(*results, result(c))
	}
	return true
}

// load completes the config from ConfigMap data and rejects unknown fields.
func (s *SetAutomlModel) load(config *fn.KubeObject) error {
	if s.Data != nil {
		if err := fnconfig.CheckKeys(s.Data, "data", "key", "marker", "model", "name", "namespace"); err != nil {
			return err
		}
		s.Model = s.Data["model"]
		s.Selector = setmodel.Selector{Name: s.Data["name"], Namespace: s.Data["namespace"], Key: s.Data["key"], Marker: s.Data["marker"]}
		return nil
	}
	if config == nil || config.IsEmpty() || config.GetKind() == "ConfigMap" {
		return nil // no config: Set reports the missing model
	}
	if err := fnconfig.CheckFields(&config.SubObject, "", "apiVersion", "kind", "metadata", "model", "selector"); err != nil {
		return err
	}
	if sel, found, _ := config.NestedSubObject("selector"); found {
		return fnconfig.CheckFields(&sel, "selector", "key", "marker", "name", "namespace")
	}
	return nil
}

func result(c setmodel.Change) *fn.Result {
	return &fn.Result{
		Message:     c.Summary(),
		Severity:    fn.Info,
		ResourceRef: &fn.ResourceRef{APIVersion: c.Resource.APIVersion, Kind: c.Resource.Kind, Name: c.Resource.Name, Namespace: c.Resource.Namespace},
		Field:       &fn.Field{Path: c.Field, CurrentValue: c.Old, ProposedValue: c.Value},
		File:        fileOf(c.Resource),
	}
}

func fileOf(r setmodel.Resource) *fn.File {
	if r.File == "" {
		return nil
	}
	return &fn.File{Path: r.File, Index: r.Index}
}
