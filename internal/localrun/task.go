package localrun

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// taskContext is one pipeline task being executed.
type taskContext struct {
	e       *execution
	t       *planTask
	taskRun string
	pod     string
	dir     string // tasks/<task>
	vars    lookupFunc
	arrays  map[string][]string      // the task's array params
	params  map[string]v1.ParamValue // the params the pipeline task gave, expanded
	paths   []hostPath
	pstate  *podState
}

// runTask executes the steps of one pipeline task and returns its results.
func (e *execution) runTask(ctx context.Context, t *planTask) (map[string]string, error) {
	tc := &taskContext{e: e, t: t, taskRun: e.run.Name + "-" + t.Name, dir: filepath.Join(e.dir, "tasks", t.Name)}
	tc.pod = tc.taskRun + "-pod"
	if err := tc.prepare(); err != nil {
		return nil, err
	}
	if t.Timeout != nil && t.Timeout.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, t.Timeout.Duration, fmt.Errorf("task %q exceeded its timeout of %s", t.Name, t.Timeout.Duration))
		defer cancel()
	}
	start := time.Now()
	e.r.progressf("task %s/%s started", e.id(), t.Name)
	e.addChild(ctx, tc.taskRun, t.Name)
	e.r.createTaskRun(ctx, tc, start)
	e.r.createPod(ctx, tc)
	var stepErr error
	for i := range t.spec.Steps {
		if stepErr == nil && ctx.Err() == nil {
			stepErr = tc.runStep(ctx, i)
			continue
		}
		tc.pstate.skip(i) // never ran: its log is empty and finished
	}
	if stepErr == nil && ctx.Err() != nil {
		stepErr = context.Cause(ctx)
	}
	results := map[string]string{}
	if stepErr == nil {
		for _, res := range t.spec.Results {
			if data, err := os.ReadFile(filepath.Join(tc.dir, "results", res.Name)); err == nil {
				results[res.Name] = string(data)
			}
		}
	}
	e.r.finishPod(ctx, tc, stepErr == nil)
	e.r.finishTaskRun(ctx, tc, start, results, stepErr)
	if stepErr != nil {
		e.r.progressf("task %s/%s failed after %s: %v", e.id(), t.Name, time.Since(start).Round(time.Millisecond), stepErr)
		var f *runFailure
		if errors.As(stepErr, &f) {
			return nil, stepErr
		}
		return nil, fail(ReasonFailed, "task %q failed: %v", t.Name, stepErr)
	}
	e.r.progressf("task %s/%s succeeded in %s", e.id(), t.Name, time.Since(start).Round(time.Millisecond))
	return results, nil
}

// prepare resolves the task's params and workspaces and creates its folders.
func (tc *taskContext) prepare() error {
	e, t := tc.e, tc.t
	lookup := e.plan.pipelineVars(e.resultsSnapshot())
	given := map[string]v1.ParamValue{}
	for _, prm := range t.Params {
		var err error
		v := v1.ParamValue{Type: prm.Value.Type}
		if v.Type == v1.ParamTypeArray {
			v.ArrayVal, err = expandList(prm.Value.ArrayVal, lookup, e.plan.arrays)
		} else {
			v.StringVal, err = expand(prm.Value.StringVal, lookup)
		}
		if err != nil {
			var f *runFailure
			if errors.As(err, &f) {
				return f
			}
			return fail(ReasonFailed, "task %q: param %q: %v", t.Name, prm.Name, err)
		}
		given[prm.Name] = v
	}
	params, arrays := map[string]string{}, map[string][]string{}
	for _, spec := range t.spec.Params {
		v, ok := given[spec.Name]
		if !ok && spec.Default != nil {
			v = *spec.Default
		}
		if paramType(spec) == v1.ParamTypeArray {
			arrays[spec.Name] = append([]string{}, v.ArrayVal...)
		} else {
			params[spec.Name] = v.StringVal
		}
	}
	tc.params = given
	for _, sub := range []string{"results", "home", "logs", "scripts", "work"} {
		if err := os.MkdirAll(filepath.Join(tc.dir, sub), 0o755); err != nil {
			return err
		}
	}
	tc.paths = []hostPath{{"/tekton", tc.dir}}
	bindings := map[string]v1.WorkspacePipelineTaskBinding{}
	for _, b := range t.Workspaces {
		bindings[b.Name] = b
	}
	ws := map[string]string{}
	for _, decl := range t.spec.Workspaces {
		host := ""
		if b, ok := bindings[decl.Name]; ok {
			pw := b.Workspace
			if pw == "" {
				pw = b.Name
			}
			dir, declared := e.plan.workspaces[pw]
			if !declared {
				return fail(ReasonInvalidWorkspace, "task %q binds its workspace %q to %q, which the pipeline does not declare", t.Name, decl.Name, pw)
			}
			host = dir
			if host != "" && b.SubPath != "" {
				host = filepath.Join(host, filepath.Clean("/"+b.SubPath))
				if err := os.MkdirAll(host, 0o755); err != nil {
					return err
				}
			}
		}
		if host == "" && !decl.Optional {
			return fail(ReasonInvalidWorkspace, "task %q requires workspace %q, which is not bound", t.Name, decl.Name)
		}
		ws[decl.Name] = host
		if host != "" {
			mount := decl.MountPath
			if mount == "" {
				mount = "/workspace/" + decl.Name
			}
			tc.paths = append(tc.paths, hostPath{mount, host})
		}
	}
	// emptyDir volumes are folders of the task; a mount path stands for its folder.
	volumes := map[string]string{}
	for _, v := range t.spec.Volumes {
		volumes[v.Name] = filepath.Join(tc.dir, "volumes", v.Name)
		if err := os.MkdirAll(volumes[v.Name], 0o755); err != nil {
			return err
		}
	}
	var mounts []corev1.VolumeMount
	if t.spec.StepTemplate != nil {
		mounts = append(mounts, t.spec.StepTemplate.VolumeMounts...)
	}
	for _, st := range t.spec.Steps {
		mounts = append(mounts, st.VolumeMounts...)
	}
	for _, m := range mounts {
		host, ok := volumes[m.Name]
		if !ok {
			return fail(ReasonValidationFailed, "task %q mounts volume %q, which the task does not declare", t.Name, m.Name)
		}
		tc.paths = append(tc.paths, hostPath{strings.TrimSuffix(m.MountPath, "/"), filepath.Join(host, m.SubPath)})
	}
	tc.arrays = arrays
	tc.vars = taskVars(t, tc.taskRun, e.run.Namespace, params, arrays, ws, filepath.Join(tc.dir, "results"))
	return nil
}

// subst expands variables and maps container paths to host folders.
func (tc *taskContext) subst(s string) (string, error) {
	v, err := expand(s, tc.vars)
	if err != nil {
		return "", err
	}
	return mapPaths(v, tc.paths), nil
}

// runStep runs step i as a host process, its output going to its log file.
func (tc *taskContext) runStep(ctx context.Context, i int) error {
	st := &tc.t.spec.Steps[i]
	container := "step-" + st.Name
	fail := func(format string, args ...any) error {
		err := fmt.Errorf("step %q: "+format, append([]any{st.Name}, args...)...)
		tc.pstate.finish(i, -1, err.Error(), nil)
		return err
	}
	env := newEnv(tc.e.r.opts.Env)
	env.set("HOME", filepath.Join(tc.dir, "home"))
	workingDir := st.WorkingDir
	var vars []corev1.EnvVar
	if tmpl := tc.t.spec.StepTemplate; tmpl != nil {
		vars = append(vars, tmpl.Env...)
		if workingDir == "" {
			workingDir = tmpl.WorkingDir
		}
	}
	vars = append(vars, st.Env...)
	for _, ev := range vars {
		v, ok, err := tc.envValue(ctx, ev)
		if err != nil {
			return fail("env %s: %v", ev.Name, err)
		}
		if ok {
			env.set(ev.Name, v)
		} else {
			env.unset(ev.Name)
		}
	}
	dir, err := tc.subst(workingDir)
	if err != nil {
		return fail("workingDir: %v", err)
	}
	if dir == "" {
		dir = filepath.Join(tc.dir, "work")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail("%v", err)
	}
	args, err := expandList(append(append([]string(nil), st.Command...), st.Args...), tc.vars, tc.arrays)
	if err != nil {
		return fail("%v", err)
	}
	for i, a := range args {
		args[i] = mapPaths(a, tc.paths)
	}
	if st.Script != "" {
		script, err := tc.subst(st.Script)
		if err != nil {
			return fail("script: %v", err)
		}
		if !strings.HasPrefix(script, "#!") {
			script = "#!/bin/sh\nset -e\n" + script
		}
		file := filepath.Join(tc.dir, "scripts", container)
		if err := os.WriteFile(file, []byte(script), 0o755); err != nil {
			return fail("%v", err)
		}
		args = append([]string{file}, args...)
	}
	path, err := lookPath(args[0], env.get("PATH"))
	if err != nil {
		return fail("%v", err)
	}
	logPath := filepath.Join(tc.dir, "logs", container+".log")
	log, err := os.Create(logPath)
	if err != nil {
		return fail("%v", err)
	}
	defer log.Close()
	stepCtx := ctx
	if st.Timeout != nil && st.Timeout.Duration > 0 {
		var cancel context.CancelFunc
		stepCtx, cancel = context.WithTimeout(ctx, st.Timeout.Duration)
		defer cancel()
	}
	cmd := exec.CommandContext(stepCtx, path, args[1:]...)
	cmd.Args[0] = args[0]
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = env.list(), dir, log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	started := time.Now()
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(log, "localrun: %v\n", err)
		return fail("failed to start: %v", err)
	}
	tc.pstate.start(i, started)
	err = cmd.Wait()
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // what the step left running in the background
	code := cmd.ProcessState.ExitCode()
	switch {
	case ctx.Err() != nil:
		tc.pstate.finish(i, 137, "Killed", &started)
		return context.Cause(ctx)
	case stepCtx.Err() != nil:
		tc.pstate.finish(i, 137, "Timeout", &started)
		return fmt.Errorf("%q exited because the step exceeded the specified timeout limit (%s)", container, st.Timeout.Duration)
	case err != nil && code < 0:
		tc.pstate.finish(i, 137, "Error", &started)
		return fmt.Errorf("%q failed: %v", container, err)
	case code != 0:
		tc.pstate.finish(i, code, "Error", &started)
		tc.e.r.progressf("step %s/%s/%s failed with exit code %d (log: %s)", tc.e.id(), tc.t.Name, st.Name, code, logPath)
		return fmt.Errorf("%q exited with code %d", container, code)
	}
	tc.pstate.finish(i, 0, "Completed", &started)
	return nil
}

// envValue returns the value of an env entry; false means the variable is unset.
func (tc *taskContext) envValue(ctx context.Context, ev corev1.EnvVar) (string, bool, error) {
	if ev.ValueFrom == nil {
		v, err := tc.subst(ev.Value)
		return v, err == nil, err
	}
	ns := tc.e.run.Namespace
	kube := tc.e.r.kube
	// Tekton substitutes variables in the names and keys of the referenced objects too (e.g.
	// name: $(params.github-secret)).
	ev = *ev.DeepCopy()
	for _, field := range []*string{refField(ev.ValueFrom, "name"), refField(ev.ValueFrom, "key")} {
		v, err := tc.subst(*field)
		if err != nil {
			return "", false, err
		}
		*field = v
	}
	if ref := ev.ValueFrom.SecretKeyRef; ref != nil {
		s, err := kube.CoreV1().Secrets(ns).Get(ctx, ref.Name, metav1.GetOptions{})
		if err == nil {
			if v, ok := s.Data[ref.Key]; ok {
				return string(v), true, nil
			}
			err = fmt.Errorf("secret %q has no key %q", ref.Name, ref.Key)
		} else if apierrors.IsNotFound(err) {
			err = fmt.Errorf("secret %q not found", ref.Name)
		}
		if ref.Optional != nil && *ref.Optional {
			return "", false, nil
		}
		return "", false, err
	}
	ref := ev.ValueFrom.ConfigMapKeyRef
	cm, err := kube.CoreV1().ConfigMaps(ns).Get(ctx, ref.Name, metav1.GetOptions{})
	if err == nil {
		if v, ok := cm.Data[ref.Key]; ok {
			return v, true, nil
		}
		err = fmt.Errorf("configmap %q has no key %q", ref.Name, ref.Key)
	} else if apierrors.IsNotFound(err) {
		err = fmt.Errorf("configmap %q not found", ref.Name)
	}
	if ref.Optional != nil && *ref.Optional {
		return "", false, nil
	}
	return "", false, err
}

// refField points at the name or the key of the Secret or ConfigMap an env value comes from.
func refField(from *corev1.EnvVarSource, field string) *string {
	if ref := from.SecretKeyRef; ref != nil {
		if field == "name" {
			return &ref.Name
		}
		return &ref.Key
	}
	if field == "name" {
		return &from.ConfigMapKeyRef.Name
	}
	return &from.ConfigMapKeyRef.Key
}

// lookPath finds file on path (the step's PATH, not the runner's).
func lookPath(file, path string) (string, error) {
	if strings.Contains(file, "/") {
		return file, nil
	}
	for _, dir := range filepath.SplitList(path) {
		p := filepath.Join(dir, file)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%q: executable file not found in the step's PATH", file)
}

// environ is an ordered environment.
type environ struct {
	keys []string
	vals map[string]string
}

func newEnv(base []string) *environ {
	e := &environ{vals: map[string]string{}}
	for _, kv := range base {
		k, v, _ := strings.Cut(kv, "=")
		e.set(k, v)
	}
	return e
}

func (e *environ) set(k, v string) {
	if !slices.Contains(e.keys, k) {
		e.keys = append(e.keys, k)
	}
	e.vals[k] = v
}

func (e *environ) unset(k string) { delete(e.vals, k) }

func (e *environ) get(k string) string { return e.vals[k] }

func (e *environ) list() []string {
	out := make([]string, 0, len(e.vals))
	for _, k := range e.keys {
		if v, ok := e.vals[k]; ok {
			out = append(out, k+"="+v)
		}
	}
	return out
}
