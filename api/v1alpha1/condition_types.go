package v1alpha1

// Condition types of a ModelSync. All are kstatus-compatible: Ready is the summary
// and Stalled means no progress is possible until the spec changes.
const (
	// ConditionReady is True when the last lambda check succeeded and the template renders.
	ConditionReady = "Ready"
	// ConditionRunning is True while a PipelineRun of the ModelSync is active.
	ConditionRunning = "Running"
	// ConditionStalled is True when the spec cannot produce a run (for example a template
	// that does not render) and retrying will not help until the spec changes.
	ConditionStalled = "Stalled"
)

// Condition reasons. They are what the user sees in `kubectl modelsync status`.
const (
	// ReasonSucceeded: the last check succeeded (Ready=True).
	ReasonSucceeded = "Succeeded"
	// ReasonNeedsSyncFailed: the lambda could not be reached or gave an invalid or failed answer.
	ReasonNeedsSyncFailed = "NeedsSyncFailed"
	// ReasonRenderFailed: the PipelineRun template or the lambda parameters could not be rendered.
	ReasonRenderFailed = "RenderFailed"
	// ReasonSuspended: spec.suspend is true; no checks and no new runs.
	ReasonSuspended = "Suspended"
	// ReasonRunActive: a PipelineRun is running (Running=True).
	ReasonRunActive = "RunActive"
	// ReasonNoActiveRun: no PipelineRun is running (Running=False).
	ReasonNoActiveRun = "NoActiveRun"
	// ReasonProgressing: the controller is working on the object and has no result yet.
	ReasonProgressing = "Progressing"
)
