// Package pipelinerun turns a ModelSync and a lambda's parameters into the tekton.dev/v1
// PipelineRun that runs the sync. The controller, the render-pipelinerun KRM function and
// `kubectl modelsync trigger --dry-run` all call Render, so their output is identical.
//
// The package works on unstructured objects and does not import the Tekton API types: the KRM
// functions that use it must stay small.
package pipelinerun

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
)

// Tekton identifiers used in the rendered object.
const (
	APIVersion = "tekton.dev/v1"
	Kind       = "PipelineRun"
)

// Input is what a run is rendered from, besides the ModelSync.
type Input struct {
	// Number is the sync number n; the run is named <modelsync>-<n>. Must be ≥ 1.
	Number int64
	// Parameters are the lambda's answer (or the requested parameters of a forced trigger).
	Parameters map[string]string
	// Trigger is what started the run; empty means TriggerInterval.
	Trigger automlv1alpha1.Trigger
	// RequestedAt is the requested-at value of the manual trigger the run serves, if any. It is
	// copied onto the run so that any reader (a restarted or second controller) can tell that
	// the request was served.
	RequestedAt string
}

// Result is a rendered run and the warnings met on the way (legacy template shapes).
type Result struct {
	PipelineRun *unstructured.Unstructured
	Warnings    []string
}

// Name returns the name of the run number n of a ModelSync.
func Name(modelSync string, n int64) string {
	return modelSync + "-" + strconv.FormatInt(n, 10)
}

// NumberOf returns n for a run named <modelSync>-<n>, and false for any other name.
func NumberOf(modelSync, runName string) (int64, bool) {
	rest, ok := strings.CutPrefix(runName, modelSync+"-")
	if !ok || rest == "" || rest[0] == '0' && len(rest) > 1 {
		return 0, false
	}
	n, err := strconv.ParseInt(rest, 10, 64)
	if err != nil || n < 1 {
		return 0, false
	}
	return n, true
}

// Error is a rendering failure. Field is the path of the ModelSync field at fault, so that the
// user can find what to fix.
type Error struct {
	Field   string
	Message string
}

func (e *Error) Error() string { return e.Field + ": " + e.Message }

func errorf(field, format string, args ...any) *Error {
	return &Error{Field: field, Message: fmt.Sprintf(format, args...)}
}

// Render builds the PipelineRun for one sync of ms. It never modifies ms.
func Render(ms *automlv1alpha1.ModelSync, in Input) (*Result, error) {
	if ms.Name == "" {
		return nil, errorf("metadata.name", "the ModelSync has no name")
	}
	if in.Number < 1 {
		return nil, errorf("number", "the run number must be at least 1, got %d", in.Number)
	}
	trigger := in.Trigger
	if trigger == "" {
		trigger = automlv1alpha1.TriggerInterval
	}
	if trigger != automlv1alpha1.TriggerInterval && trigger != automlv1alpha1.TriggerManual {
		return nil, errorf("trigger", "unknown trigger %q (want %q or %q)", trigger,
			automlv1alpha1.TriggerInterval, automlv1alpha1.TriggerManual)
	}

	spec, err := templateSpec(ms)
	if err != nil {
		return nil, err
	}
	warnings, err := convertLegacy(spec)
	if err != nil {
		return nil, err
	}
	if err := applyParameters(spec, ms.Spec.Parameters, in.Parameters); err != nil {
		return nil, err
	}

	run := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": APIVersion,
		"kind":       Kind,
		"spec":       spec,
	}}
	run.SetName(Name(ms.Name, in.Number))
	run.SetNamespace(ms.Namespace)
	run.SetLabels(runLabels(ms))
	annotations, err := runAnnotations(ms, in.Parameters, trigger)
	if err != nil {
		return nil, err
	}
	if in.RequestedAt != "" {
		annotations[automlv1alpha1.AnnotationRequestedAt] = in.RequestedAt
	}
	run.SetAnnotations(annotations)
	if ms.UID != "" {
		run.SetOwnerReferences([]metav1.OwnerReference{{
			APIVersion:         automlv1alpha1.GroupVersion.String(),
			Kind:               automlv1alpha1.ModelSyncKind,
			Name:               ms.Name,
			UID:                ms.UID,
			Controller:         ptr.To(true),
			BlockOwnerDeletion: ptr.To(true),
		}})
	}
	return &Result{PipelineRun: run, Warnings: warnings}, nil
}

// templateSpec decodes a private copy of spec.pipelineRunTemplate.spec.
func templateSpec(ms *automlv1alpha1.ModelSync) (map[string]any, error) {
	const field = "spec.pipelineRunTemplate.spec"
	raw := ms.Spec.PipelineRunTemplate.Spec.Raw
	if len(raw) == 0 && ms.Spec.PipelineRunTemplate.Spec.Object != nil {
		var err error
		if raw, err = json.Marshal(ms.Spec.PipelineRunTemplate.Spec.Object); err != nil {
			return nil, errorf(field, "cannot encode: %v", err)
		}
	}
	if len(raw) == 0 {
		return nil, errorf(field, "is required")
	}
	var spec map[string]any
	if err := json.Unmarshal(raw, &spec); err != nil {
		return nil, errorf(field, "must be a JSON object: %v", err)
	}
	if spec == nil {
		return nil, errorf(field, "must be an object, not null")
	}
	_, hasRef := spec["pipelineRef"]
	_, hasSpec := spec["pipelineSpec"]
	if !hasRef && !hasSpec {
		return nil, errorf(field, "must set pipelineRef or pipelineSpec")
	}
	return spec, nil
}

// runLabels copies the template labels and sets the modelsync label (which always wins).
func runLabels(ms *automlv1alpha1.ModelSync) map[string]string {
	labels := maps.Clone(ms.Spec.PipelineRunTemplate.Metadata.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[automlv1alpha1.LabelModelSync] = ms.Name
	return labels
}

// runAnnotations copies the template annotations and adds the controller's own.
func runAnnotations(ms *automlv1alpha1.ModelSync, params map[string]string, trigger automlv1alpha1.Trigger) (map[string]string, error) {
	annotations := maps.Clone(ms.Spec.PipelineRunTemplate.Metadata.Annotations)
	if annotations == nil {
		annotations = map[string]string{}
	}
	if params == nil {
		params = map[string]string{}
	}
	encoded, err := json.Marshal(params) // map keys are sorted: stable output
	if err != nil {
		return nil, errorf("parameters", "cannot encode: %v", err)
	}
	annotations[automlv1alpha1.AnnotationParameters] = string(encoded)
	annotations[automlv1alpha1.AnnotationTrigger] = string(trigger)
	annotations[automlv1alpha1.AnnotationGeneration] = strconv.FormatInt(ms.Generation, 10)
	return annotations, nil
}

// applyParameters overrides (or appends) the params named by the mappings with the lambda's
// values. A lambda key without a mapping is an error: the original silently made a nameless param.
func applyParameters(spec map[string]any, mappings []automlv1alpha1.ParameterMapping, values map[string]string) error {
	byKey := make(map[string]string, len(mappings))
	for _, m := range mappings {
		byKey[m.NeedsSyncName] = m.PipelineName
	}
	var unmapped []string
	for key := range values {
		if _, ok := byKey[key]; !ok {
			unmapped = append(unmapped, key)
		}
	}
	if len(unmapped) > 0 {
		slices.Sort(unmapped)
		return errorf("spec.parameters", "no mapping for lambda parameter(s) %s: add a {needsSyncName, pipelineName} entry for each",
			strings.Join(quoteAll(unmapped), ", "))
	}

	params, err := paramList(spec)
	if err != nil {
		return err
	}
	for _, m := range mappings { // mapping order: stable output
		value, ok := values[m.NeedsSyncName]
		if !ok {
			continue
		}
		params = setParam(params, m.PipelineName, value)
	}
	if len(params) > 0 {
		spec["params"] = params
	}
	return nil
}

// paramList returns spec.params as a list of param objects, checking its shape.
func paramList(spec map[string]any) ([]any, error) {
	const field = "spec.pipelineRunTemplate.spec.params"
	v, ok := spec["params"]
	if !ok || v == nil {
		return nil, nil
	}
	params, ok := v.([]any)
	if !ok {
		return nil, errorf(field, "must be a list of {name, value}")
	}
	for i, p := range params {
		obj, ok := p.(map[string]any)
		if !ok {
			return nil, errorf(fmt.Sprintf("%s[%d]", field, i), "must be an object with name and value")
		}
		if name, _ := obj["name"].(string); name == "" {
			return nil, errorf(fmt.Sprintf("%s[%d].name", field, i), "is required")
		}
	}
	return params, nil
}

// setParam sets the value of the named param, appending the param when it is missing.
func setParam(params []any, name, value string) []any {
	for _, p := range params {
		obj := p.(map[string]any)
		if obj["name"] == name {
			obj["value"] = value
			return params
		}
	}
	return append(params, map[string]any{"name": name, "value": value})
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = strconv.Quote(v)
	}
	return out
}

// NextNumber returns the number of the next run of a ModelSync: one more than the highest
// number seen, in status.lastRun and in the names of the existing runs. Deleted (garbage-
// collected) runs are remembered through status, so numbers are not reused.
func NextNumber(ms *automlv1alpha1.ModelSync, runNames []string) int64 {
	var highest int64
	if ms.Status.LastRun != nil {
		highest = ms.Status.LastRun.Number
		if n, ok := NumberOf(ms.Name, ms.Status.LastRun.Name); ok && n > highest {
			highest = n
		}
	}
	for _, name := range runNames {
		if n, ok := NumberOf(ms.Name, name); ok && n > highest {
			highest = n
		}
	}
	return highest + 1
}
