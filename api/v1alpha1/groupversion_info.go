// Package v1alpha1 holds the ModelSync API (automl.cloudai.kubeflow.org/v1alpha1) and the
// types of the lambda protocol that the controller speaks to "needs sync" endpoints.
//
// The group is the one used by the original Kubeflow Issue Label Bot system, so that existing
// ModelSync objects apply unchanged.
//
// +kubebuilder:object:generate=true
// +groupName=automl.cloudai.kubeflow.org
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of the ModelSync API.
	GroupVersion = schema.GroupVersion{Group: "automl.cloudai.kubeflow.org", Version: "v1alpha1"}

	// SchemeBuilder registers the API types with a runtime.Scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the types of this group-version to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

// ModelSyncKind is the kind of the ModelSync resource.
const ModelSyncKind = "ModelSync"
