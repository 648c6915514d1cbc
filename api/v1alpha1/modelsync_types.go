package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// ModelSyncSpec declares what "in sync" means for a model: a lambda that answers whether a sync
// is needed (and with which parameters), and the Tekton PipelineRun to start when it is.
type ModelSyncSpec struct {
	// needsSyncUrl is the http or https URL of the lambda. The controller sends it a GET and expects a
	// NeedsSync JSON answer (see DESIGN.md, "The lambda protocol").
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && (url(self).getScheme() == 'http' || url(self).getScheme() == 'https') && url(self).getHostname() != ''",message="needsSyncUrl must be an absolute http or https URL with a host"
	NeedsSyncURL string `json:"needsSyncUrl"`

	// parameters maps keys of the lambda's answer to params of the PipelineRun. Every key the
	// lambda returns must be mapped here; an unmapped key fails the sync.
	// +optional
	// +listType=map
	// +listMapKey=needsSyncName
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:XValidation:rule="self.all(p, self.exists_one(q, q.pipelineName == p.pipelineName))",message="parameters[].pipelineName must be unique"
	Parameters []ParameterMapping `json:"parameters,omitempty"`

	// pipelineRunTemplate is the PipelineRun to create when the lambda says a sync is needed.
	// +required
	PipelineRunTemplate PipelineRunTemplate `json:"pipelineRunTemplate"`

	// successfulPipelineRunsHistoryLimit is how many succeeded PipelineRuns to keep; older ones are deleted.
	// +optional
	// +kubebuilder:default=10
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000
	SuccessfulPipelineRunsHistoryLimit *int32 `json:"successfulPipelineRunsHistoryLimit,omitempty"`

	// failedPipelineRunsHistoryLimit is how many failed PipelineRuns to keep; older ones are deleted.
	// +optional
	// +kubebuilder:default=10
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000
	FailedPipelineRunsHistoryLimit *int32 `json:"failedPipelineRunsHistoryLimit,omitempty"`

	// interval is how often the lambda is asked, as a Go duration (e.g. "5m", "1h30m"). At least 10s.
	// +optional
	// +kubebuilder:default="5m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('10s')",message="interval must be at least 10s"
	Interval *metav1.Duration `json:"interval,omitempty"`

	// timeout bounds one lambda call, as a Go duration (e.g. "30s"). Between 1s and 10m.
	// +optional
	// +kubebuilder:default="30s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1s') && duration(self) <= duration('10m')",message="timeout must be between 1s and 10m"
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// suspend stops the controller from asking the lambda and creating runs. Runs already
	// started are left alone.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// ParameterMapping maps one key of the lambda's parameters to one PipelineRun param.
type ParameterMapping struct {
	// needsSyncName is the key in the lambda's "parameters" object.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	NeedsSyncName string `json:"needsSyncName"`

	// pipelineName is the name of the PipelineRun param that receives the value. The template's
	// param of that name is overridden, or added when the template has none.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern="^[a-zA-Z_][a-zA-Z0-9_.-]*$"
	PipelineName string `json:"pipelineName"`
}

// PipelineRunTemplate is the PipelineRun created for each sync.
type PipelineRunTemplate struct {
	// metadata holds labels and annotations copied onto every run. The name and namespace are
	// chosen by the controller (<modelsync>-<n>, in the ModelSync's namespace) and may not be set.
	// +optional
	Metadata TemplateMetadata `json:"metadata,omitempty"`

	// spec is a Tekton PipelineRunSpec. Both the tekton.dev/v1 shape and the legacy v1beta1 shape
	// (serviceAccountName, timeout, resources of type git) are accepted; runs are always
	// created as tekton.dev/v1.
	// +required
	// +kubebuilder:validation:Type=object
	// +kubebuilder:pruning:PreserveUnknownFields
	Spec runtime.RawExtension `json:"spec"`
}

// TemplateMetadata is the part of a PipelineRun's metadata that a template may set.
// +kubebuilder:validation:XValidation:rule="!has(self.name) && !has(self.generateName)",message="pipelineRunTemplate.metadata.name and generateName may not be set: runs are named <modelsync>-<n>"
// +kubebuilder:validation:XValidation:rule="!has(self.__namespace__)",message="pipelineRunTemplate.metadata.namespace may not be set: runs are created in the ModelSync's namespace"
type TemplateMetadata struct {
	// labels are copied onto every run. The modelsync label is always set by the controller.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`

	// annotations are copied onto every run. The controller's own annotations win on conflict.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`

	// name may not be set; it is part of the schema only so that setting it is rejected with a message.
	// +optional
	Name string `json:"name,omitempty"`

	// generateName may not be set; runs have deterministic names.
	// +optional
	GenerateName string `json:"generateName,omitempty"`

	// namespace may not be set; runs live in the ModelSync's namespace.
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// ModelSyncStatus is what the controller observed.
type ModelSyncStatus struct {
	// observedGeneration is the generation of the spec that the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Ready, Running and Stalled.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// active holds references to the PipelineRuns that are running (at most one).
	// +optional
	// +listType=atomic
	Active []corev1.ObjectReference `json:"active,omitempty"`

	// lastNeedsSync is the last answer of the lambda (or why there was none).
	// +optional
	LastNeedsSync *NeedsSyncResult `json:"lastNeedsSync,omitempty"`

	// lastRun is the newest PipelineRun created for this ModelSync.
	// +optional
	LastRun *RunStatus `json:"lastRun,omitempty"`

	// lastSuccessfulRun is the newest PipelineRun that succeeded.
	// +optional
	LastSuccessfulRun *RunStatus `json:"lastSuccessfulRun,omitempty"`

	// lastFailedRun is the newest PipelineRun that failed.
	// +optional
	LastFailedRun *RunStatus `json:"lastFailedRun,omitempty"`

	// lastHandledTriggerAt is the value of the requested-at annotation that was last served, so
	// that each manual trigger is handled exactly once.
	// +optional
	LastHandledTriggerAt string `json:"lastHandledTriggerAt,omitempty"`
}

// NeedsSyncResult records one lambda check.
type NeedsSyncResult struct {
	// time the check finished.
	// +required
	Time metav1.Time `json:"time"`

	// needsSync is the lambda's answer (false when the check failed).
	// +optional
	NeedsSync bool `json:"needsSync"`

	// parameters returned by the lambda.
	// +optional
	Parameters map[string]string `json:"parameters,omitempty"`

	// error says why the check failed; empty on success.
	// +optional
	Error string `json:"error,omitempty"`
}

// RunStatus summarizes one PipelineRun of the ModelSync.
type RunStatus struct {
	// name of the PipelineRun.
	// +required
	Name string `json:"name"`

	// number is the sync number n of the run's name <modelsync>-<n>.
	// +optional
	Number int64 `json:"number,omitempty"`

	// trigger that started the run: interval or manual.
	// +optional
	Trigger Trigger `json:"trigger,omitempty"`

	// succeeded mirrors the run's Succeeded condition: "True", "False" or "Unknown" (running).
	// +optional
	Succeeded metav1.ConditionStatus `json:"succeeded,omitempty"`

	// reason of the run's Succeeded condition.
	// +optional
	Reason string `json:"reason,omitempty"`

	// startTime of the run.
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`

	// completionTime of the run; unset while it runs.
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`
}

// ModelSync keeps a model in sync: it asks a lambda whether a sync is needed and runs a Tekton
// PipelineRun when it is.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ms,categories=modelsync
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Active run",type=string,JSONPath=`.status.active[0].name`
// +kubebuilder:printcolumn:name="Last sync",type=date,JSONPath=`.status.lastRun.startTime`
// +kubebuilder:printcolumn:name="Status",type=string,priority=1,JSONPath=`.status.conditions[?(@.type=="Ready")].message`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 52",message="metadata.name must be at most 52 characters: runs are named <modelsync>-<n> and must fit in a 63-character label"
type ModelSync struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec declares the lambda and the PipelineRun template.
	// +required
	Spec ModelSyncSpec `json:"spec"`

	// status is written by the controller.
	// +optional
	Status ModelSyncStatus `json:"status,omitempty"`
}

// ModelSyncList is a list of ModelSyncs.
// +kubebuilder:object:root=true
type ModelSyncList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ModelSync `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ModelSync{}, &ModelSyncList{})
}
