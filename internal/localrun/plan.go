package localrun

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	pipelineRunsGVR = schema.GroupVersionResource{Group: "tekton.dev", Version: "v1", Resource: "pipelineruns"}
	pipelinesGVR    = schema.GroupVersionResource{Group: "tekton.dev", Version: "v1", Resource: "pipelines"}
	tasksGVR        = schema.GroupVersionResource{Group: "tekton.dev", Version: "v1", Resource: "tasks"}
	taskRunsGVR     = schema.GroupVersionResource{Group: "tekton.dev", Version: "v1", Resource: "taskruns"}
)

// Reasons of a failed run, as Tekton spells them.
const (
	ReasonSucceeded          = "Succeeded"
	ReasonRunning            = "Running"
	ReasonFailed             = "Failed"
	ReasonValidationFailed   = "PipelineValidationFailed"
	ReasonCouldntGetPipeline = "CouldntGetPipeline"
	ReasonCouldntGetTask     = "CouldntGetTask"
	ReasonParameterMissing   = "ParameterMissing"
	ReasonInvalidWorkspace   = "InvalidWorkspaceBindings"
	ReasonInvalidResultRef   = "InvalidTaskResultReference"
	ReasonTimeout            = "PipelineRunTimeout"
	ReasonCancelled          = "Cancelled"
)

// runFailure ends a run with a reason and a message.
type runFailure struct{ reason, message string }

func (f *runFailure) Error() string { return f.reason + ": " + f.message }

func fail(reason, format string, args ...any) *runFailure {
	return &runFailure{reason: reason, message: fmt.Sprintf(format, args...)}
}

func unsupported(reason, what string) *runFailure {
	return &runFailure{reason: reason, message: "localrun does not support " + what}
}

// plan is a run resolved and checked before any step executes.
type plan struct {
	run          *v1.PipelineRun
	pipelineName string
	spec         *v1.PipelineSpec
	params       map[string]string   // pipeline string params: the run's and the defaults
	arrays       map[string][]string // pipeline array params
	workspaces   map[string]string   // pipeline workspace → host folder; "" is unbound
	tasks        []*planTask
	byName       map[string]*planTask
}

// planTask is a pipeline task with its resolved Task spec.
type planTask struct {
	*v1.PipelineTask
	spec     *v1.TaskSpec
	taskName string // $(context.task.name)
	deps     []string
}

func fromUnstructured(u *unstructured.Unstructured, into any) error {
	data, err := json.Marshal(u.Object)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, into)
}

// resolve fetches the Pipeline and Tasks of run and checks that localrun can execute them.
func (r *Runner) resolve(ctx context.Context, run *v1.PipelineRun, runDir string) (*plan, *runFailure) {
	p := &plan{run: run, byName: map[string]*planTask{}}
	switch ref := run.Spec.PipelineRef; {
	case ref != nil && ref.Resolver != "":
		return nil, unsupported(ReasonCouldntGetPipeline, fmt.Sprintf("spec.pipelineRef.resolver (%q): only pipelineRef.name is supported", ref.Resolver))
	case ref != nil && ref.Name != "":
		u, err := r.dyn.Resource(pipelinesGVR).Namespace(run.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			return nil, fail(ReasonCouldntGetPipeline, "failed to get pipeline %q in namespace %q: %v", ref.Name, run.Namespace, err)
		}
		var pl v1.Pipeline
		if err := fromUnstructured(u, &pl); err != nil {
			return nil, fail(ReasonCouldntGetPipeline, "failed to read pipeline %q: %v", ref.Name, err)
		}
		p.pipelineName, p.spec = pl.Name, &pl.Spec
	case run.Spec.PipelineSpec != nil:
		p.pipelineName, p.spec = run.Name, run.Spec.PipelineSpec
	default:
		return nil, fail(ReasonValidationFailed, "pipelinerun has neither spec.pipelineRef.name nor spec.pipelineSpec")
	}
	where := "spec.pipelineSpec"
	if run.Spec.PipelineSpec == nil {
		where = "pipeline " + p.pipelineName
	}
	if len(p.spec.Finally) > 0 {
		return nil, unsupported(ReasonValidationFailed, where+": finally")
	}
	if f := p.resolveParams(where); f != nil {
		return nil, f
	}
	if f := p.resolveWorkspaces(runDir); f != nil {
		return nil, f
	}
	for i := range p.spec.Tasks {
		pt := &p.spec.Tasks[i]
		t, f := r.resolveTask(ctx, run.Namespace, where, pt)
		if f != nil {
			return nil, f
		}
		if p.byName[pt.Name] != nil {
			return nil, fail(ReasonValidationFailed, "%s: two tasks are named %q", where, pt.Name)
		}
		p.tasks = append(p.tasks, t)
		p.byName[pt.Name] = t
	}
	if f := p.check(where); f != nil {
		return nil, f
	}
	return p, nil
}

func (p *plan) resolveParams(where string) *runFailure {
	given := map[string]v1.ParamValue{}
	for _, prm := range p.run.Spec.Params {
		given[prm.Name] = prm.Value
	}
	p.params, p.arrays = map[string]string{}, map[string][]string{}
	var missing []string
	for _, spec := range p.spec.Params {
		typ := paramType(spec)
		if typ != v1.ParamTypeString && typ != v1.ParamTypeArray {
			return unsupported(ReasonValidationFailed, fmt.Sprintf("%s: param %q of type %s (only string and array params)", where, spec.Name, typ))
		}
		v, ok := given[spec.Name]
		if !ok {
			if spec.Default == nil {
				missing = append(missing, spec.Name)
				continue
			}
			v = *spec.Default
		}
		if v.Type != typ {
			return fail(ReasonValidationFailed, "param %q is declared of type %s but has a value of type %s", spec.Name, typ, v.Type)
		}
		if typ == v1.ParamTypeArray {
			p.arrays[spec.Name] = append([]string{}, v.ArrayVal...)
		} else {
			p.params[spec.Name] = v.StringVal
		}
	}
	if len(missing) > 0 {
		return fail(ReasonParameterMissing, "pipelinerun is missing params required by %s (no default): %s", where, strings.Join(missing, ", "))
	}
	return nil
}

// paramType is the declared type of a param, else the type of its default, else string.
func paramType(spec v1.ParamSpec) v1.ParamType {
	switch {
	case spec.Type != "":
		return spec.Type
	case spec.Default != nil && spec.Default.Type != "":
		return spec.Default.Type
	}
	return v1.ParamTypeString
}

// resolveWorkspaces gives each bound pipeline workspace a fresh folder of the run.
func (p *plan) resolveWorkspaces(runDir string) *runFailure {
	bound := map[string]v1.WorkspaceBinding{}
	for _, b := range p.run.Spec.Workspaces {
		switch {
		case b.EmptyDir != nil, b.VolumeClaimTemplate != nil, b.PersistentVolumeClaim != nil:
		case b.ConfigMap != nil, b.Secret != nil, b.Projected != nil, b.CSI != nil:
			return unsupported(ReasonInvalidWorkspace, fmt.Sprintf("spec.workspaces[%s]: configMap, secret, projected and csi workspaces (only emptyDir, volumeClaimTemplate and persistentVolumeClaim, each a folder of the run)", b.Name))
		default:
			return fail(ReasonInvalidWorkspace, "spec.workspaces[%s] has no volume source", b.Name)
		}
		bound[b.Name] = b
	}
	p.workspaces = map[string]string{}
	for _, w := range p.spec.Workspaces {
		b, ok := bound[w.Name]
		if !ok {
			if !w.Optional {
				return fail(ReasonInvalidWorkspace, "pipeline requires workspace %q, which the pipelinerun does not bind", w.Name)
			}
			p.workspaces[w.Name] = ""
			continue
		}
		dir := filepath.Join(runDir, "workspaces", w.Name)
		if b.SubPath != "" {
			dir = filepath.Join(dir, filepath.Clean("/"+b.SubPath))
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fail(ReasonFailed, "failed to create the folder of workspace %q: %v", w.Name, err)
		}
		p.workspaces[w.Name] = dir
	}
	return nil
}

func (r *Runner) resolveTask(ctx context.Context, ns, where string, pt *v1.PipelineTask) (*planTask, *runFailure) {
	at := fmt.Sprintf("%s: task %q", where, pt.Name)
	switch {
	case len(pt.When) > 0:
		return nil, unsupported(ReasonValidationFailed, at+": when")
	case pt.Retries > 0:
		return nil, unsupported(ReasonValidationFailed, at+": retries")
	case pt.Matrix != nil:
		return nil, unsupported(ReasonValidationFailed, at+": matrix")
	case pt.PipelineRef != nil || pt.PipelineSpec != nil:
		return nil, unsupported(ReasonValidationFailed, at+": pipelines in pipelines")
	case pt.OnError != "" && pt.OnError != v1.PipelineTaskStopAndFail:
		return nil, unsupported(ReasonValidationFailed, at+": onError "+string(pt.OnError))
	}
	t := &planTask{PipelineTask: pt, taskName: pt.Name}
	switch ref := pt.TaskRef; {
	case ref != nil && ref.Resolver != "":
		return nil, unsupported(ReasonCouldntGetTask, fmt.Sprintf("%s: taskRef.resolver (%q): only taskRef.name is supported", at, ref.Resolver))
	case ref != nil && ref.Kind != "" && ref.Kind != v1.NamespacedTaskKind:
		return nil, unsupported(ReasonCouldntGetTask, fmt.Sprintf("%s: taskRef.kind %s (only Task)", at, ref.Kind))
	case ref != nil && ref.APIVersion != "" && !strings.HasPrefix(ref.APIVersion, "tekton.dev/"):
		return nil, unsupported(ReasonCouldntGetTask, fmt.Sprintf("%s: custom tasks (taskRef.apiVersion %s)", at, ref.APIVersion))
	case ref != nil && ref.Name != "":
		u, err := r.dyn.Resource(tasksGVR).Namespace(ns).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			if apierrors.IsNotFound(err) {
				return nil, fail(ReasonCouldntGetTask, "%s: task %q not found in namespace %q", at, ref.Name, ns)
			}
			return nil, fail(ReasonCouldntGetTask, "%s: failed to get task %q: %v", at, ref.Name, err)
		}
		var task v1.Task
		if err := fromUnstructured(u, &task); err != nil {
			return nil, fail(ReasonCouldntGetTask, "%s: failed to read task %q: %v", at, ref.Name, err)
		}
		t.spec, t.taskName = &task.Spec, task.Name
	case pt.TaskSpec != nil:
		if pt.TaskSpec.APIVersion != "" || pt.TaskSpec.Kind != "" {
			return nil, unsupported(ReasonValidationFailed, at+": custom tasks (taskSpec.apiVersion/kind)")
		}
		t.spec = &pt.TaskSpec.TaskSpec
	default:
		return nil, fail(ReasonValidationFailed, "%s has neither taskRef.name nor taskSpec", at)
	}
	if f := checkTaskSpec(at, t.spec); f != nil {
		return nil, f
	}
	return t, nil
}

// checkTaskSpec rejects the Task features that localrun cannot honour.
func checkTaskSpec(at string, s *v1.TaskSpec) *runFailure {
	if len(s.Sidecars) > 0 {
		return unsupported(ReasonValidationFailed, at+": sidecars")
	}
	for _, p := range s.Params {
		if typ := paramType(p); typ != v1.ParamTypeString && typ != v1.ParamTypeArray {
			return unsupported(ReasonValidationFailed, fmt.Sprintf("%s: param %q of type %s (only string and array params)", at, p.Name, typ))
		}
	}
	for _, res := range s.Results {
		if res.Type != "" && res.Type != v1.ResultsTypeString {
			return unsupported(ReasonValidationFailed, fmt.Sprintf("%s: result %q of type %s (only string results)", at, res.Name, res.Type))
		}
	}
	for _, v := range s.Volumes {
		if v.EmptyDir == nil {
			return unsupported(ReasonValidationFailed, fmt.Sprintf("%s: volume %q (only emptyDir volumes, each a folder of the task)", at, v.Name))
		}
	}
	if s.StepTemplate != nil && len(s.StepTemplate.EnvFrom) > 0 {
		return unsupported(ReasonValidationFailed, at+": stepTemplate.envFrom")
	}
	if len(s.Steps) == 0 {
		return fail(ReasonValidationFailed, "%s has no steps", at)
	}
	for _, st := range s.Steps {
		sat := fmt.Sprintf("%s: step %q", at, st.Name)
		switch {
		case st.Ref != nil:
			return unsupported(ReasonValidationFailed, sat+": step actions (ref)")
		case len(st.When) > 0:
			return unsupported(ReasonValidationFailed, sat+": when")
		case st.OnError != "" && st.OnError != v1.StopAndFail:
			return unsupported(ReasonValidationFailed, sat+": onError "+string(st.OnError))
		case st.StdoutConfig != nil || st.StderrConfig != nil:
			return unsupported(ReasonValidationFailed, sat+": stdoutConfig/stderrConfig")
		case len(st.EnvFrom) > 0:
			return unsupported(ReasonValidationFailed, sat+": envFrom")
		case len(st.Params) > 0 || len(st.Results) > 0:
			return unsupported(ReasonValidationFailed, sat+": step params and results")
		case st.Script != "" && len(st.Command) > 0:
			return fail(ReasonValidationFailed, "%s has both script and command", sat)
		case st.Script == "" && len(st.Command) == 0:
			return unsupported(ReasonValidationFailed, sat+" without script or command (the image's entrypoint cannot run on the host)")
		}
		for _, e := range st.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef == nil && e.ValueFrom.ConfigMapKeyRef == nil {
				return unsupported(ReasonValidationFailed, fmt.Sprintf("%s: env %q valueFrom other than secretKeyRef and configMapKeyRef", sat, e.Name))
			}
		}
	}
	return nil
}
