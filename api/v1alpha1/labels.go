package v1alpha1

// Labels and annotations shared by the controller, the KRM functions and the kubectl plugin.
// They are part of the contract in DESIGN.md: change them only with a migration.
const (
	// LabelModelSync is set on every PipelineRun to the name of the ModelSync that created it.
	LabelModelSync = "automl.cloudai.kubeflow.org/modelsync"

	// AnnotationParameters holds, on a PipelineRun, the lambda's parameters as a JSON object.
	AnnotationParameters = "automl.cloudai.kubeflow.org/parameters"
	// AnnotationTrigger holds, on a PipelineRun, what started it: TriggerInterval or TriggerManual.
	AnnotationTrigger = "automl.cloudai.kubeflow.org/trigger"
	// AnnotationGeneration holds, on a PipelineRun, the ModelSync generation it was rendered from.
	AnnotationGeneration = "automl.cloudai.kubeflow.org/modelsync-generation"

	// AnnotationRequestedAt, on a ModelSync, asks the controller to check now. The value is an
	// RFC 3339 time; each distinct value is served once (see status.lastHandledTriggerAt).
	AnnotationRequestedAt = "automl.cloudai.kubeflow.org/requested-at"
	// AnnotationForce, set to "true" beside AnnotationRequestedAt, starts a run without asking the lambda.
	AnnotationForce = "automl.cloudai.kubeflow.org/force"
	// AnnotationRequestedParameters holds the parameters (a JSON object) of a forced run.
	AnnotationRequestedParameters = "automl.cloudai.kubeflow.org/requested-parameters"

	// AnnotationSourceCommit is set by a GitOps agent (the demo's plays one) on the objects it
	// applies: the git commit they were applied from. kubectl modelsync lineage shows it.
	AnnotationSourceCommit = "automl.cloudai.kubeflow.org/source-commit"
)

// Trigger says why a PipelineRun was created.
type Trigger string

const (
	// TriggerInterval marks a run started because the lambda, asked on schedule, answered needsSync.
	TriggerInterval Trigger = "interval"
	// TriggerManual marks a run started by a manual trigger (kubectl modelsync trigger).
	TriggerManual Trigger = "manual"
)
