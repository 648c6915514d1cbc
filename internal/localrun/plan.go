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
	params       map[string]string // pipeline params: the run's and the defaults
	workspaces   map[string]string // pipeline workspace → host folder; "" is unbound
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
	p.params = map[string]string{}
	var missing []string
	for _, spec := range p.spec.Params {
		if spec.Type != "" && spec.Type != v1.ParamTypeString {
			return unsupported(ReasonValidationFailed, fmt.Sprintf("%s: param %q of type %s (only string params)", where, spec.Name, spec.Type))
		}
		v, ok := given[spec.Name]
		switch {
		case ok && v.Type != v1.ParamTypeString:
			return unsupported(ReasonValidationFailed, fmt.Sprintf("spec.params: param %q of type %s (only string params)", spec.Name, v.Type))
		case ok:
			p.params[spec.Name] = v.StringVal
		case spec.Default != nil:
			p.params[spec.Name] = spec.Default.StringVal
		default:
			missing = append(missing, spec.Name)
		}
	}
	if len(missing) > 0 {
		return fail(ReasonParameterMissing, "pipelinerun is missing params required by %s (no default): %s", where, strings.Join(missing, ", "))
	}
	return nil
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
		if p.Type != "" && p.Type != v1.ParamTypeString {
			return unsupported(ReasonValidationFailed, fmt.Sprintf("%s: param %q of type %s (only string params)", at, p.Name, p.Type))
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

// pipelineVars are the variables of the pipeline level (task params, pipeline results).
// values holds the known results so far; static checks pass nil and only check names.
func (p *plan) pipelineVars(results map[string]map[string]string) lookupFunc {
	return func(key string) (string, error) {
		switch key {
		case "context.pipelineRun.name":
			return p.run.Name, nil
		case "context.pipelineRun.namespace":
			return p.run.Namespace, nil
		case "context.pipelineRun.uid":
			return string(p.run.UID), nil
		case "context.pipeline.name":
			return p.pipelineName, nil
		}
		if name, ok := strings.CutPrefix(key, "params."); ok {
			if v, ok := p.params[name]; ok {
				return v, nil
			}
			return "", fmt.Errorf("$(%s): the pipeline declares no param %q", key, name)
		}
		if w, ok := strings.CutSuffix(strings.TrimPrefix(key, "workspaces."), ".bound"); ok && strings.HasPrefix(key, "workspaces.") {
			if dir, ok := p.workspaces[w]; ok {
				return fmt.Sprint(dir != ""), nil
			}
			return "", fmt.Errorf("$(%s): the pipeline declares no workspace %q", key, w)
		}
		if task, res, ok := taskResultRef(key); ok {
			t := p.byName[task]
			if t == nil {
				return "", fmt.Errorf("$(%s): the pipeline has no task %q", key, task)
			}
			if !declaresResult(t.spec, res) {
				return "", fmt.Errorf("$(%s): task %q declares no result %q", key, task, res)
			}
			if results == nil {
				return "", nil
			}
			v, ok := results[task][res]
			if !ok {
				return "", &runFailure{reason: ReasonInvalidResultRef, message: fmt.Sprintf("$(%s): task %q did not write result %q", key, task, res)}
			}
			return v, nil
		}
		return "", fmt.Errorf("unknown or unsupported variable $(%s)", key)
	}
}

func declaresResult(s *v1.TaskSpec, name string) bool {
	for _, r := range s.Results {
		if r.Name == name {
			return true
		}
	}
	return false
}

// check validates the references of the pipeline and of each task and orders the tasks.
func (p *plan) check(where string) *runFailure {
	static := p.pipelineVars(nil)
	for _, t := range p.tasks {
		at := fmt.Sprintf("%s: task %q", where, t.Name)
		deps := map[string]bool{}
		for _, a := range t.RunAfter {
			if p.byName[a] == nil {
				return fail(ReasonValidationFailed, "%s: runAfter names no task of the pipeline: %q", at, a)
			}
			deps[a] = true
		}
		for _, prm := range t.Params {
			if prm.Value.Type != v1.ParamTypeString {
				return unsupported(ReasonValidationFailed, fmt.Sprintf("%s: param %q of type %s (only string params)", at, prm.Name, prm.Value.Type))
			}
			if _, err := expand(prm.Value.StringVal, static); err != nil {
				return fail(ReasonValidationFailed, "%s: param %q: %v", at, prm.Name, err)
			}
			for _, key := range refs(prm.Value.StringVal) {
				if task, _, ok := taskResultRef(key); ok {
					deps[task] = true
				}
			}
		}
		for d := range deps {
			t.deps = append(t.deps, d)
		}
		if f := p.checkTask(at, t); f != nil {
			return f
		}
	}
	for _, res := range p.spec.Results {
		if res.Value.Type != "" && res.Value.Type != v1.ParamTypeString {
			return unsupported(ReasonValidationFailed, fmt.Sprintf("%s: result %q of type %s (only string results)", where, res.Name, res.Value.Type))
		}
		if _, err := expand(res.Value.StringVal, static); err != nil {
			return fail(ReasonValidationFailed, "%s: result %q: %v", where, res.Name, err)
		}
	}
	// A cycle leaves tasks that can never start.
	done := map[string]bool{}
	for progress := true; progress; {
		progress = false
		for _, t := range p.tasks {
			if !done[t.Name] && allDone(t.deps, done) {
				done[t.Name], progress = true, true
			}
		}
	}
	if len(done) != len(p.tasks) {
		return fail(ReasonValidationFailed, "%s: the tasks' runAfter and result references form a cycle", where)
	}
	return nil
}

func allDone(deps []string, done map[string]bool) bool {
	for _, d := range deps {
		if !done[d] {
			return false
		}
	}
	return true
}

// checkTask checks the task's params and the references in its steps.
func (p *plan) checkTask(at string, t *planTask) *runFailure {
	given := map[string]bool{}
	for _, prm := range t.Params {
		given[prm.Name] = true
	}
	params := map[string]string{}
	for _, spec := range t.spec.Params {
		if !given[spec.Name] && spec.Default == nil {
			return fail(ReasonParameterMissing, "%s: the task's param %q has no value and no default", at, spec.Name)
		}
		params[spec.Name] = ""
	}
	ws := map[string]string{}
	for _, w := range t.spec.Workspaces {
		ws[w.Name] = ""
	}
	lookup := taskVars(t, "", "", params, ws, "")
	for _, st := range t.spec.Steps {
		for _, s := range stepStrings(t.spec.StepTemplate, &st) {
			if _, err := expand(s, lookup); err != nil {
				return fail(ReasonValidationFailed, "%s: step %q: %v", at, st.Name, err)
			}
		}
	}
	return nil
}

// stepStrings are the strings of a step (and of the step template) that take variables.
func stepStrings(tmpl *v1.StepTemplate, st *v1.Step) []string {
	out := []string{st.Script, st.WorkingDir}
	out = append(out, st.Command...)
	out = append(out, st.Args...)
	for _, e := range st.Env {
		out = append(out, e.Value)
	}
	if tmpl != nil {
		out = append(out, tmpl.WorkingDir)
		for _, e := range tmpl.Env {
			out = append(out, e.Value)
		}
	}
	return out
}

// taskVars are the variables of a task's steps. ws maps each declared workspace to its host
// folder ("" when unbound).
func taskVars(t *planTask, taskRun, namespace string, params, ws map[string]string, resultsDir string) lookupFunc {
	return func(key string) (string, error) {
		switch key {
		case "context.taskRun.name":
			return taskRun, nil
		case "context.taskRun.namespace":
			return namespace, nil
		case "context.task.name":
			return t.taskName, nil
		}
		if name, ok := strings.CutPrefix(key, "params."); ok {
			if v, ok := params[name]; ok {
				return v, nil
			}
			return "", fmt.Errorf("$(%s): the task declares no param %q", key, name)
		}
		if rest, ok := strings.CutPrefix(key, "workspaces."); ok {
			name, field, _ := strings.Cut(rest, ".")
			dir, ok := ws[name]
			if !ok {
				return "", fmt.Errorf("$(%s): the task declares no workspace %q", key, name)
			}
			switch field {
			case "path":
				return dir, nil
			case "bound":
				return fmt.Sprint(dir != ""), nil
			}
			return "", fmt.Errorf("localrun does not support $(%s) (only .path and .bound)", key)
		}
		if rest, ok := strings.CutPrefix(key, "results."); ok {
			name, ok := strings.CutSuffix(rest, ".path")
			if ok && declaresResult(t.spec, name) {
				return filepath.Join(resultsDir, name), nil
			}
			return "", fmt.Errorf("$(%s): the task declares no result %q", key, strings.TrimSuffix(rest, ".path"))
		}
		return "", fmt.Errorf("unknown or unsupported variable $(%s)", key)
	}
}
