package localrun

import (
	"fmt"
	"path/filepath"
	"strings"

	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
)

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
		if strings.HasPrefix(key, "params.") {
			return paramValue(key, p.params, p.arrays, "pipeline")
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
			var err error
			values := []string{prm.Value.StringVal}
			switch prm.Value.Type {
			case v1.ParamTypeString:
				_, err = expand(prm.Value.StringVal, static)
			case v1.ParamTypeArray:
				values = prm.Value.ArrayVal
				_, err = expandList(values, static, p.arrays)
			default:
				return unsupported(ReasonValidationFailed, fmt.Sprintf("%s: param %q of type %s (only string and array params)", at, prm.Name, prm.Value.Type))
			}
			if err != nil {
				return fail(ReasonValidationFailed, "%s: param %q: %v", at, prm.Name, err)
			}
			for _, v := range values {
				for _, key := range refs(v) {
					if task, _, ok := taskResultRef(key); ok {
						deps[task] = true
					}
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
	given := map[string]v1.ParamType{}
	for _, prm := range t.Params {
		given[prm.Name] = prm.Value.Type
	}
	params, arrays := map[string]string{}, map[string][]string{}
	for _, spec := range t.spec.Params {
		typ, ok := given[spec.Name]
		switch {
		case !ok && spec.Default == nil:
			return fail(ReasonParameterMissing, "%s: the task's param %q has no value and no default", at, spec.Name)
		case ok && typ != paramType(spec):
			return fail(ReasonValidationFailed, "%s: param %q is declared of type %s but given a %s", at, spec.Name, paramType(spec), typ)
		}
		if paramType(spec) == v1.ParamTypeArray {
			arrays[spec.Name] = nil
		} else {
			params[spec.Name] = ""
		}
	}
	ws := map[string]string{}
	for _, w := range t.spec.Workspaces {
		ws[w.Name] = ""
	}
	lookup := taskVars(t, "", "", params, arrays, ws, "")
	for _, st := range t.spec.Steps {
		_, err := expandList(append(append([]string(nil), st.Command...), st.Args...), lookup, arrays)
		for _, s := range stepStrings(t.spec.StepTemplate, &st) {
			if err != nil {
				break
			}
			_, err = expand(s, lookup)
		}
		if err != nil {
			return fail(ReasonValidationFailed, "%s: step %q: %v", at, st.Name, err)
		}
	}
	return nil
}

// stepStrings are the strings of a step (and of the step template) that take variables, but
// command and args, which are lists.
func stepStrings(tmpl *v1.StepTemplate, st *v1.Step) []string {
	out := []string{st.Script, st.WorkingDir, st.Image}
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
func taskVars(t *planTask, taskRun, namespace string, params map[string]string, arrays map[string][]string, ws map[string]string, resultsDir string) lookupFunc {
	return func(key string) (string, error) {
		switch key {
		case "context.taskRun.name":
			return taskRun, nil
		case "context.taskRun.namespace":
			return namespace, nil
		case "context.task.name":
			return t.taskName, nil
		}
		if strings.HasPrefix(key, "params.") {
			return paramValue(key, params, arrays, "task")
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
