// Package localrun executes tekton.dev/v1 PipelineRuns on this machine, without Tekton and
// without containers, for the demo: each step is a host process. The runs, their status, one
// TaskRun and one Pod per task live on the API server exactly where Tekton would put them, so
// the controller, kubectl and `kubectl modelsync` see what they would see on a cluster. It is
// never part of a cluster install.
//
// # What runs
//
//   - The pipeline: spec.pipelineRef.name (a Pipeline of the run's namespace) or
//     spec.pipelineSpec. Tasks: taskRef.name (a Task of the namespace) or an inline taskSpec.
//     Tasks start once the tasks named in runAfter, and those whose results their params use,
//     have succeeded; independent tasks run at the same time.
//   - Params (string and array): the run's params over the Pipeline's defaults (a param without
//     either fails the run; params the Pipeline does not declare are ignored), then the
//     pipeline task's params over the Task's defaults. An array is used whole as an element
//     "$(params.x[*])" of command, args or an array param value, or one element at a time,
//     $(params.x[0]), anywhere.
//   - Variables: $(params.x), $(params["x"]), $(context.pipelineRun.name|namespace|uid),
//     $(context.pipeline.name), $(context.taskRun.name|namespace), $(context.task.name),
//     $(tasks.T.results.R), $(workspaces.W.path|bound), $(results.R.path) — in step scripts,
//     commands, args, env values and workingDir, in pipeline task params and in pipeline
//     results. A reference to something not declared fails the run before any step runs.
//     Other $(...) text (shell command substitution) is left alone, as Tekton leaves it.
//   - Workspaces: emptyDir, volumeClaimTemplate and persistentVolumeClaim bindings are each a
//     fresh folder of the run (<Dir>/<ns>/<run>/workspaces/<name>); subPath is honoured; an
//     optional workspace left unbound has path "" and bound "false".
//   - Steps run in order as host processes, the image ignored (the tools come from Options.Env's
//     PATH). A script is written to a file and executed: its #! line chooses the interpreter,
//     and a script without one runs under /bin/sh with set -e, as in Tekton. Otherwise
//     command+args run. stepTemplate env and workingDir apply under each step's. Env values
//     may come from a Secret or ConfigMap key (optional ones may be missing). HOME is the
//     task's home folder unless a step sets it. A step's timeout is honoured.
//   - Container paths: /tekton/... is the task's folder (<run>/tasks/<task>/: results/, home/,
//     ...), a workspace's mount path (default /workspace/<name>) is its folder, and the mount
//     path of an emptyDir volume of the Task is a folder of the task (volumes/<name>). These
//     paths are rewritten where they appear as whole paths in scripts, command, args, env
//     values and workingDir; a path assembled at run time by the script is not, and is used on the
//     host as it is. Steps run as the runner's user, with its access to the machine.
//   - A non-zero exit fails the task and the run ("Failed", message naming the task and
//     `"step-x" exited with code N`); later steps and not yet started tasks do not run.
//   - Results are read from the results folder after the task; pipeline results fill
//     status.results.
//   - spec.timeouts.pipeline (default 1h, 0 for none) ends the run with PipelineRunTimeout;
//     spec.status Cancelled, CancelledRunFinally or StoppedRunFinally (checked every
//     PollInterval) ends it with Cancelled. A pipeline task's timeout fails the task. Running
//     steps are killed with their process group.
//   - Status goes through the status subresource: startTime, the Succeeded condition
//     (Unknown/Running, then True/Succeeded or False with a reason), completionTime, results and
//     childReferences. Each task gets a TaskRun <run>-<task> and a Pod <run>-<task>-pod, both
//     labelled like Tekton's (tekton.dev/pipelineRun, tekton.dev/pipelineTask, ...) and owned
//     by the run, with their status kept up to date.
//
// # Logs
//
// With Options.KubeletCADir the runner plays the kubelet for the log endpoint: it serves
// GET /containerLogs/{namespace}/{pod}/{container} (follow=true streams until the step
// ends) over HTTPS on 127.0.0.1, with a certificate issued by the CA of NewKubeletCA, and
// registers a Node (Options.NodeName, default "localrun") whose InternalIP is 127.0.0.1 and
// whose kubelet port is that server's. Step pods are bound to that Node, so the API server's
// pods/log — kubectl logs, kubectl modelsync logs — reads the step logs. The API server must
// trust the CA: start it with --kubelet-certificate-authority=<NewKubeletCA's path>. Other
// log options (tailLines, sinceTime, timestamps, ...) are ignored. Every step pod also
// carries the annotation AnnotationLogDir naming the folder of its <container>.log files.
//
// # Usage
//
//	caFile, err := localrun.NewKubeletCA(stateDir)
//	env, err := testenv.StartWith(testenv.Options{
//		APIServerArgs: map[string]string{"kubelet-certificate-authority": caFile},
//	})
//	r, err := localrun.New(localrun.Options{Config: env.Config, Dir: runsDir, KubeletCADir: stateDir, Progress: os.Stderr})
//	go r.Start(ctx) // until ctx is done
//
// # Not supported
//
// These fail the run with a message naming them: resolvers and bundles, custom tasks and
// cluster tasks, finally, when, matrix, retries, pipelines in pipelines, onError, sidecars,
// step actions, step when, stdoutConfig/stderrConfig, envFrom, env valueFrom other than
// secretKeyRef/configMapKeyRef, object params, array and object results, configMap/secret/
// projected/csi workspaces, volumes other than emptyDir, a step with neither script nor
// command, $(workspaces.W.claim|volume), $(steps...) and $(context.taskRun.uid).
//
// Ignored: images, securityContext, computeResources, podTemplate, serviceAccountName,
// taskRunSpecs, taskRunTemplate, timeouts.tasks and timeouts.finally,
// workspaces' readOnly, result size limits.
//
// A run that a previous runner process left Running is marked Failed by Start: runs are not
// resumed.
package localrun
