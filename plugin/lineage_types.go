package plugin

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
	"github.com/modelsync/modelsync/internal/registry"
)

// Lineage is what `kubectl modelsync lineage -o json|yaml` prints: the chain that put a model
// where it is, newest link first. Every link but Model may be missing (a run deleted by the
// history limits, a model that was never deployed): a missing link keeps its place in the
// chain and says why in its Missing field, so a script can tell "absent" from "not looked for".
type Lineage struct {
	// Model is the id of the model the chain is about.
	Model string `json:"model"`
	// Namespace is where the ConfigMap, the runs and the ModelSyncs were looked for.
	Namespace string `json:"namespace"`
	// Registry is the URL of the model registry the manifest was read from.
	Registry string `json:"registry"`
	// Deployed is the ConfigMap that names the model on the cluster.
	Deployed ConfigMapLink `json:"deployed"`
	// DeployRun is the PipelineRun that proposed the model (set it in git, pushed, opened a PR).
	DeployRun RunLink `json:"deployRun"`
	// Manifest is the model as the registry describes it (its model.json).
	Manifest ModelLink `json:"manifest"`
	// TrainingRun is the PipelineRun that trained and published the model.
	TrainingRun RunLink `json:"trainingRun"`
	// ModelSyncs are the trainer and the deployer, in that order.
	ModelSyncs []ModelSyncLink `json:"modelSyncs"`
}

// ConfigMapLink is the ConfigMap whose key holds the model id.
type ConfigMapLink struct {
	// Name of the ConfigMap.
	Name string `json:"name,omitempty"`
	// Key that holds the model id (--key, default automl-model).
	Key string `json:"key"`
	// Value is the model id the ConfigMap holds.
	Value string `json:"value,omitempty"`
	// SourceCommit is the git commit a GitOps agent applied the ConfigMap from (the
	// automl.cloudai.kubeflow.org/source-commit annotation), empty when not annotated.
	SourceCommit string `json:"sourceCommit,omitempty"`
	// Missing says why no ConfigMap is shown (e.g. "not deployed: ...").
	Missing string `json:"missing,omitempty"`
}

// RunLink is one PipelineRun of the chain.
type RunLink struct {
	// Namespace and Name of the PipelineRun.
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
	// Result is Succeeded, Failed, Running or Pending (Tekton has not written a status yet).
	Result string `json:"result,omitempty"`
	// Reason and Message of the run's Succeeded condition.
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
	// Started and Completed are the run's status.startTime and status.completionTime.
	Started   *metav1.Time `json:"started,omitempty"`
	Completed *metav1.Time `json:"completed,omitempty"`
	// Params are the run's spec.params that have a string value.
	Params map[string]string `json:"params,omitempty"`
	// Results are the run's status.results that have a string value (for a deploy run:
	// commit, push-status, pr-url; for a training run: model-id, code-revision).
	Results map[string]string `json:"results,omitempty"`
	// Check is the lambda check that asked for the run, read from the run's annotations.
	Check *CheckLink `json:"check,omitempty"`
	// Missing says why the run is not shown (e.g. deleted by the history limits).
	Missing string `json:"missing,omitempty"`
}

// CheckLink is the check of a ModelSync that created a run: what the controller wrote on it.
type CheckLink struct {
	// ModelSync is the name of the ModelSync that created the run (its label).
	ModelSync string `json:"modelSync,omitempty"`
	// Trigger is interval or manual.
	Trigger string `json:"trigger,omitempty"`
	// Parameters are the lambda's answer that the run was made from.
	Parameters map[string]string `json:"parameters,omitempty"`
	// RequestedAt is the manual trigger's time, for a manual run.
	RequestedAt string `json:"requestedAt,omitempty"`
	// Checked is when the run was created, right after the lambda answered.
	Checked *metav1.Time `json:"checked,omitempty"`
	// Generation is the ModelSync generation the run was rendered from (0 if not recorded).
	Generation int64 `json:"generation,omitempty"`
}

// ModelLink is the model's manifest in the registry.
type ModelLink struct {
	// ID of the model.
	ID string `json:"id"`
	// Created is when the model was trained; Published when its manifest was written.
	Created   *metav1.Time `json:"created,omitempty"`
	Published *metav1.Time `json:"published,omitempty"`
	// Micro and Macro are the averaged precision, recall and F1 on held-out data.
	Micro *registry.Averages `json:"micro,omitempty"`
	Macro *registry.Averages `json:"macro,omitempty"`
	// DataSnapshot identifies the training data; CodeRevision the training code's commit.
	DataSnapshot string `json:"dataSnapshot,omitempty"`
	CodeRevision string `json:"codeRevision,omitempty"`
	// TrainingRun is the namespace/name of the training PipelineRun as the manifest records it.
	TrainingRun string `json:"trainingRun,omitempty"`
	// ModelSync is the namespace/name of the trainer ModelSync as the manifest records it.
	ModelSync string `json:"modelSync,omitempty"`
	// Files are the model's files, as registry keys (models/<id>/<file>).
	Files []string `json:"files,omitempty"`
	// Report is the HTML report: the manifest's lineage.report, else the key of a report.html file.
	Report string `json:"report,omitempty"`
	// Missing says why the manifest could not be read; the command then exits non-zero.
	Missing string `json:"missing,omitempty"`
}

// ModelSyncLink is a ModelSync of the chain.
type ModelSyncLink struct {
	// Role is trainer or deployer.
	Role string `json:"role"`
	// Name of the ModelSync (namespace/name when it is in another namespace).
	Name string `json:"name,omitempty"`
	// NeedsSyncURL is the lambda the ModelSync asks.
	NeedsSyncURL string `json:"needsSyncUrl,omitempty"`
	// Interval is how often it asks.
	Interval string `json:"interval,omitempty"`
	// Suspended is spec.suspend.
	Suspended bool `json:"suspended,omitempty"`
	// Ready is the Ready condition, if set.
	Ready *metav1.Condition `json:"ready,omitempty"`
	// LastNeedsSync is the lambda's last answer.
	LastNeedsSync *automlv1alpha1.NeedsSyncResult `json:"lastNeedsSync,omitempty"`
	// Missing says why the ModelSync is not shown.
	Missing string `json:"missing,omitempty"`
}
