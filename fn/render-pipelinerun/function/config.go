// Package function is the render-pipelinerun KRM function: it renders, with internal/pipelinerun,
// the PipelineRun that the controller would create for a ModelSync of the package, and adds it to
// the package (or replaces the run already there).
package function

import (
	"fmt"
	"maps"
	"strconv"

	"github.com/kptdev/krm-functions-sdk/go/fn"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
	"github.com/modelsync/modelsync/fn/internal/fnconfig"
)

// Reserved keys of a ConfigMap functionConfig; every other key is a lambda parameter.
const (
	keyModelSync = "modelSync"
	keyNamespace = "namespace"
	keyNumber    = "number"
	keyTrigger   = "trigger"
)

// RenderPipelineRun is the typed functionConfig (apiVersion fn.kpt.dev/v1alpha1). A ConfigMap is
// accepted too: its keys modelSync, namespace, number and trigger set those fields and every other
// key is a parameter.
type RenderPipelineRun struct {
	// Data receives the data of a ConfigMap functionConfig. It must stay the first map[string]string
	// field: the SDK assigns ConfigMap data to that field.
	Data map[string]string `json:"data,omitempty" yaml:"data,omitempty"`

	// ModelSync is the name of the ModelSync to render; optional when the package holds one.
	ModelSync string `json:"modelSync,omitempty" yaml:"modelSync,omitempty"`
	// Namespace picks the ModelSync when several share the name.
	Namespace string `json:"namespace,omitempty" yaml:"namespace,omitempty"`
	// Parameters are the lambda's answer, e.g. {name: <model id>}.
	Parameters map[string]string `json:"parameters,omitempty" yaml:"parameters,omitempty"`
	// Number is the run number n (the run is named <modelSync>-<n>). When 0, the run of the
	// ModelSync already in the package is rendered again, or else the next number after
	// status.lastRun is used.
	Number int64 `json:"number,omitempty" yaml:"number,omitempty"`
	// Trigger is recorded on the run: interval (the default, as for a scheduled sync) or manual.
	Trigger automlv1alpha1.Trigger `json:"trigger,omitempty" yaml:"trigger,omitempty"`

	// output is the rendered run, for Processor to place in the package.
	output *fn.KubeObject
}

// load completes the config from ConfigMap data and rejects unknown fields.
func (r *RenderPipelineRun) load(config *fn.KubeObject) error {
	if r.Data != nil {
		params := maps.Clone(r.Data)
		r.ModelSync, r.Namespace, r.Trigger = params[keyModelSync], params[keyNamespace], automlv1alpha1.Trigger(params[keyTrigger])
		if v, ok := params[keyNumber]; ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1 {
				return fmt.Errorf("data.%s: %q is not a positive integer", keyNumber, v)
			}
			r.Number = n
		}
		for _, k := range []string{keyModelSync, keyNamespace, keyNumber, keyTrigger} {
			delete(params, k)
		}
		r.Parameters = params
		return nil
	}
	if config == nil || config.IsEmpty() || config.GetKind() == "ConfigMap" {
		return nil
	}
	if err := fnconfig.CheckFields(&config.SubObject, "", "apiVersion", "kind", "metadata",
		keyModelSync, keyNamespace, "parameters", keyNumber, keyTrigger); err != nil {
		return err
	}
	if r.Number < 0 {
		return fmt.Errorf("number: %d is not a positive integer", r.Number)
	}
	return nil
}
