package v1alpha1

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// The lambda protocol: the controller sends GET <needsSyncUrl> with Accept: application/json and
// the lambda answers 200 with a NeedsSync object. Anything else is a failed check.
const (
	// NeedsSyncKind is the kind field of a lambda answer.
	NeedsSyncKind = "NeedsSync"
	// NeedsSyncAPIVersion is the apiVersion field of a lambda answer (kept from the original lambdas).
	NeedsSyncAPIVersion = "v1alpha1"
)

// NeedsSync is a lambda's answer: whether a sync is needed and with which parameters.
// It is a wire type, not a Kubernetes object.
// +kubebuilder:object:generate=false
type NeedsSync struct {
	Kind       string `json:"kind"`
	APIVersion string `json:"apiVersion"`
	// Metadata is accepted and ignored (the original lambdas send an empty object).
	Metadata map[string]any `json:"metadata,omitempty"`
	// NeedsSync is true when the controller should start a run.
	NeedsSync bool `json:"needsSync"`
	// Parameters are mapped to PipelineRun params by spec.parameters.
	Parameters map[string]string `json:"parameters,omitempty"`
	// Errors, when not empty, make the answer a failed check.
	Errors []string `json:"errors"`
}

// NewNeedsSync returns an answer with kind and apiVersion set and empty (not null) errors.
func NewNeedsSync(needsSync bool, parameters map[string]string) *NeedsSync {
	return &NeedsSync{Kind: NeedsSyncKind, APIVersion: NeedsSyncAPIVersion, NeedsSync: needsSync,
		Parameters: parameters, Errors: []string{}}
}

// ParseNeedsSync decodes and validates a lambda answer. It fails on malformed JSON, a wrong
// kind or apiVersion, parameters that are not strings, and a non-empty errors list.
func ParseNeedsSync(body []byte) (*NeedsSync, error) {
	var ns NeedsSync
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&ns); err != nil {
		return nil, fmt.Errorf("invalid NeedsSync answer: %w", err)
	}
	if dec.More() {
		return nil, errors.New("invalid NeedsSync answer: trailing data after the JSON object")
	}
	if ns.Kind != NeedsSyncKind {
		return nil, fmt.Errorf("invalid NeedsSync answer: kind is %q, want %q", ns.Kind, NeedsSyncKind)
	}
	if ns.APIVersion != NeedsSyncAPIVersion {
		return nil, fmt.Errorf("invalid NeedsSync answer: apiVersion is %q, want %q", ns.APIVersion, NeedsSyncAPIVersion)
	}
	if len(ns.Errors) > 0 {
		return &ns, fmt.Errorf("lambda reported errors: %s", strings.Join(ns.Errors, "; "))
	}
	return &ns, nil
}
