// Package demo runs the whole modelsync loop on one machine, with no cluster: a local control
// plane (the tests' etcd and kube-apiserver), the lambda server and the controller as child
// processes, the local PipelineRun runner (internal/localrun) in process, a file:// model
// registry, and an upstream git repository holding the label-bot package with a fork of it.
//
// Two rounds run by themselves: the trainer ModelSync asks its lambda, which wants a first
// model; train-labelbot trains and publishes it; the deployer's lambda sees that git names an
// older model; update-model-pr pushes the fixed branch to the fork and prints the pull request
// it would open; the demo merges the branch as a reviewer would and applies the package as a
// GitOps agent would; the deployer's lambda reports in sync. The second round forces a retrain
// with `kubectl modelsync trigger --force` and rolls the new model out through the same branch.
package demo

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
	"github.com/modelsync/modelsync/internal/localrun"
	"github.com/modelsync/modelsync/internal/pipelinerun"
	"github.com/modelsync/modelsync/internal/registry"
	"github.com/modelsync/modelsync/internal/testenv"
)

// Names of the demo's objects (those of kpt-packages/samples and kpt-packages/label-bot).
const (
	Namespace = "label-bot-prod"
	Trainer   = "label-bot-trainer"
	Deployer  = "label-bot-deployer"
	ConfigMap = "label-bot"
	ModelKey  = "automl-model"
)

// Tools are the binaries the demo and the pipeline steps run; BinDir must hold them (kpt and
// git come from the PATH).
var Tools = []string{"kubectl-modelsync", "modelsync-controller", "modelsync-lambdas", "modelsync-pr", "modelsync-registry", "labelbot", "set-automl-model"}

// marker marks a folder as the demo's, so that a second run may wipe it.
const marker = ".modelsync-demo"

// Options configure a demo run.
type Options struct {
	// Root is the repository root (its kpt-packages are installed).
	Root string
	// Dir is the demo's state folder. It is wiped at the start (only if it is empty or an
	// earlier demo's) and left behind for inspection.
	Dir string
	// BinDir holds Tools; it is put first on the PATH of every process the demo starts.
	BinDir string
	// Out receives the progress.
	Out io.Writer
	// Interval is the ModelSyncs' spec.interval (at least 10s).
	Interval time.Duration
	// DemoIssues is the size of the generated data set each training run uses.
	DemoIssues int
	// RoundTimeout bounds each round.
	RoundTimeout time.Duration
	// Keep leaves everything running after the two rounds until ctx is done.
	Keep bool
}

// Result is what the demo did, for tests and the final summary.
type Result struct {
	Kubeconfig string
	Registry   string
	Upstream   string
	Fork       string
	// Models are the models rolled out, in order.
	Models []string
	// Merges are the upstream commits that deployed them.
	Merges []string
	// Runs are the PipelineRuns at the end, oldest first.
	Runs []RunSummary
	// Status and Lineage are the outputs of `kubectl modelsync status` and `lineage`;
	// LineageJSON is that of `lineage -o json`.
	Status, Lineage, LineageJSON string
}

// RunSummary is a PipelineRun as the demo saw it last.
type RunSummary struct {
	Name, ModelSync string
	// Succeeded is the status of the Succeeded condition; Reason its reason.
	Succeeded, Reason string
	Params, Results   map[string]string
}

type demo struct {
	opts     Options
	out      io.Writer
	began    time.Time
	dir      string
	env      []string
	upstream string
	fork     string
	registry string
	lambda   string

	cp     *testenv.Env
	client client.Client
	procs  []*proc
	runner chan error
	watch  *watcher
	// trainer is the trainer ModelSync as the demo applies it.
	trainer *unstructured.Unstructured
}

// Run runs the demo and returns when both rounds are done (or, with Keep, when ctx is done).
// Everything it started is stopped before it returns.
func Run(ctx context.Context, opts Options) (res *Result, err error) {
	if opts.Interval == 0 {
		opts.Interval = 10 * time.Second
	}
	if opts.DemoIssues == 0 {
		opts.DemoIssues = 3000
	}
	if opts.RoundTimeout == 0 {
		opts.RoundTimeout = 5 * time.Minute
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	// The control plane's library logs through controller-runtime; the demo prints its own progress.
	ctrllog.SetLogger(logr.Discard())
	d := &demo{opts: opts, out: opts.Out, began: time.Now()}
	ctx, cancel := context.WithCancel(ctx)
	defer func() {
		cancel()
		d.shutdown(err)
	}()
	if err := d.prepare(); err != nil {
		return nil, err
	}
	if err := d.startControlPlane(ctx); err != nil {
		return nil, err
	}
	if err := d.setUp(ctx); err != nil {
		return nil, err
	}
	res = &Result{Kubeconfig: d.cp.Kubeconfig, Registry: d.registry, Upstream: d.upstream, Fork: d.fork}
	for round := 1; round <= 2; round++ {
		model, merge, err := d.round(ctx, round)
		if err != nil {
			return res, fmt.Errorf("round %d: %w", round, err)
		}
		res.Models = append(res.Models, model)
		res.Merges = append(res.Merges, merge)
	}
	if err := d.watch.poll(ctx); err != nil {
		return res, err
	}
	for i := range d.watch.list {
		u := &d.watch.list[i]
		st := pipelinerun.ReadStatus(u)
		r := RunSummary{Name: u.GetName(), ModelSync: u.GetLabels()[automlv1alpha1.LabelModelSync], Succeeded: string(st.Succeeded), Reason: st.Reason,
			Params: pipelinerun.NamedValues(u.Object, "spec", "params"), Results: pipelinerun.NamedValues(u.Object, "status", "results")}
		res.Runs = append(res.Runs, r)
	}
	d.say("done: %d models trained and rolled out; here is what modelsync shows:", len(res.Models))
	res.Status, err = d.plugin(ctx, "status", "-n", Namespace)
	if err != nil {
		return res, err
	}
	fmt.Fprintf(d.out, "\n$ kubectl modelsync status -n %s\n%s", Namespace, res.Status)
	res.Lineage, err = d.plugin(ctx, "lineage", "-n", Namespace)
	if err != nil {
		return res, err
	}
	fmt.Fprintf(d.out, "\n$ kubectl modelsync lineage -n %s\n%s\n", Namespace, res.Lineage)
	if res.LineageJSON, err = d.plugin(ctx, "lineage", "-n", Namespace, "-o", "json"); err != nil {
		return res, err
	}
	if opts.Keep {
		d.say("everything keeps running (--keep); press Ctrl-C to stop. Meanwhile:")
		d.hints()
		<-ctx.Done()
	}
	return res, nil
}

// prepare wipes and creates the state folder and builds the processes' environment.
func (d *demo) prepare() error {
	dir, err := filepath.Abs(d.opts.Dir)
	if err != nil {
		return err
	}
	d.dir = dir
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		if _, err := os.Stat(filepath.Join(dir, marker)); err != nil {
			return fmt.Errorf("%s is not empty and not a demo folder (no %s): refusing to wipe it", dir, marker)
		}
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
	}
	for _, sub := range []string{"logs", "registry", "git", "runs", "kubelet"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, marker), []byte("state of `make demo`; safe to delete\n"), 0o644); err != nil {
		return err
	}
	bin, err := filepath.Abs(d.opts.BinDir)
	if err != nil {
		return err
	}
	var missing []string
	for _, t := range Tools {
		if _, err := os.Stat(filepath.Join(bin, t)); err != nil {
			missing = append(missing, t)
		}
	}
	for _, t := range []string{"git", "kpt"} {
		if _, err := exec.LookPath(t); err != nil {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing tools %v (in %s or on the PATH): run `make demo`, which builds them", missing, bin)
	}
	gitconfig := filepath.Join(dir, "gitconfig")
	if err := os.WriteFile(gitconfig, []byte("[user]\n\tname = modelsync demo\n\temail = demo@modelsync.invalid\n[init]\n\tdefaultBranch = master\n"), 0o644); err != nil {
		return err
	}
	d.upstream = filepath.Join(dir, "git", "upstream.git")
	d.fork = filepath.Join(dir, "git", "fork.git")
	d.registry = "file://" + filepath.Join(dir, "registry")
	d.env = append(withoutVars(os.Environ(), "PATH", "KUBECONFIG", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_NOSYSTEM", "MODELSYNC_REGISTRY"),
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"KUBECONFIG="+filepath.Join(dir, "controlplane", "kubeconfig"),
		"GIT_CONFIG_GLOBAL="+gitconfig, "GIT_CONFIG_NOSYSTEM=1",
	)
	return nil
}

func (d *demo) startControlPlane(ctx context.Context) error {
	d.say("starting a local control plane (etcd + kube-apiserver from bin/, state in %s)", filepath.Join(d.dir, "controlplane"))
	logf, err := os.Create(filepath.Join(d.dir, "logs", "controlplane.log"))
	if err != nil {
		return err
	}
	caFile, err := localrun.NewKubeletCA(filepath.Join(d.dir, "kubelet"))
	if err != nil {
		return err
	}
	d.cp, err = testenv.StartWith(testenv.Options{
		Dir:           filepath.Join(d.dir, "controlplane"),
		APIServerArgs: map[string]string{"kubelet-certificate-authority": caFile},
		Out:           logf,
	})
	if err != nil {
		return err
	}
	d.client = d.cp.Client
	d.say("control plane up: export KUBECONFIG=%s", d.cp.Kubeconfig)
	return nil
}

// setUp creates the git repositories and the registry, installs the pipelines, and starts the
// lambda server, the controller, the runner and the ModelSyncs.
func (d *demo) setUp(ctx context.Context) error {
	d.say("creating the app's git repository (upstream %s, with the label-bot package) and a fork (%s)", d.upstream, d.fork)
	if err := d.setUpGit(ctx); err != nil {
		return err
	}
	d.say("model registry: %s (empty)", d.registry)

	if err := d.apply(ctx, &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": Namespace},
	}}); err != nil {
		return err
	}
	pipelines, err := readPackage(filepath.Join(d.opts.Root, "kpt-packages", "pipelines"))
	if err != nil {
		return err
	}
	if err := d.apply(ctx, pipelines...); err != nil {
		return err
	}
	d.say("installed kpt-packages/pipelines (%d Tekton Pipelines and Tasks) in namespace %s", len(pipelines), Namespace)

	port, err := freePort()
	if err != nil {
		return err
	}
	d.lambda = fmt.Sprintf("http://127.0.0.1:%d", port)
	lambdas, err := d.start("lambdas", "modelsync-lambdas", "--listen", fmt.Sprintf("127.0.0.1:%d", port),
		"--work-dir", filepath.Join(d.dir, "lambdas"), "--registry", d.registry,
		"--repo-url", d.upstream, "--branch", Base, "--sync-period", "2s",
		"--package-path", PackagePath, "--configmap-name", ConfigMap, "--retrain-interval", "1h")
	if err != nil {
		return err
	}
	if err := d.waitReady(ctx, lambdas, d.lambda+"/readyz"); err != nil {
		return err
	}
	d.say("lambda server up at %s (/needsTrain: a model older than 1h or none; /needsSync: git vs the newest model)", d.lambda)

	if _, err := d.start("controller", "modelsync-controller", "--metrics-bind-address=0", "--health-probe-bind-address=0", "--leader-elect=false"); err != nil {
		return err
	}
	d.say("controller started (log: %s)", filepath.Join(d.dir, "logs", "controller.log"))

	runner, err := localrun.New(localrun.Options{
		Config:       d.cp.Config,
		Dir:          filepath.Join(d.dir, "runs"),
		Env:          d.env,
		Progress:     &prefixWriter{d: d, prefix: "runner  "},
		KubeletCADir: filepath.Join(d.dir, "kubelet"),
	})
	if err != nil {
		return err
	}
	d.runner = make(chan error, 1)
	go func() { d.runner <- runner.Start(ctx) }()
	d.say("local PipelineRun runner started (steps run as processes here; workspaces and logs under %s)", filepath.Join(d.dir, "runs"))

	samples, err := readPackage(filepath.Join(d.opts.Root, "kpt-packages", "samples"))
	if err != nil {
		return err
	}
	var syncs []*unstructured.Unstructured
	for _, u := range samples {
		switch {
		case u.GetKind() == "ModelSync" && u.GetName() == Trainer:
			if err := d.localTrainer(u); err != nil {
				return err
			}
			syncs = append(syncs, u)
		case u.GetKind() == "ModelSync" && u.GetName() == Deployer:
			if err := d.localDeployer(u); err != nil {
				return err
			}
			syncs = append(syncs, u)
		case u.GetKind() != "ModelSync":
			if err := d.apply(ctx, u); err != nil {
				return err
			}
		}
	}
	if len(syncs) != 2 {
		return fmt.Errorf("kpt-packages/samples lacks the ModelSyncs %s and %s", Trainer, Deployer)
	}
	d.watch = newWatcher(d)
	if err := d.apply(ctx, syncs...); err != nil {
		return err
	}
	d.say("applied the ModelSyncs %s and %s from kpt-packages/samples, pointed at the local lambdas, registry and repositories, checking every %s", Trainer, Deployer, d.opts.Interval)
	return nil
}

// localTrainer points the sample trainer at this machine: the local lambda, the label bot's
// own trainer (train-labelbot) on a generated data set, the file:// registry.
func (d *demo) localTrainer(u *unstructured.Unstructured) error {
	if err := d.localSync(u, "/needsTrain"); err != nil {
		return err
	}
	spec := u.Object["spec"].(map[string]any)["pipelineRunTemplate"].(map[string]any)["spec"].(map[string]any)
	spec["pipelineRef"] = map[string]any{"name": "train-labelbot"}
	spec["params"] = []any{
		map[string]any{"name": "registry", "value": d.registry},
		map[string]any{"name": "modelsync", "value": Namespace + "/" + Trainer},
		map[string]any{"name": "model-id", "value": ""},
		map[string]any{"name": "demo-issues", "value": fmt.Sprint(d.opts.DemoIssues)},
		map[string]any{"name": "demo-seed", "value": "1"},
	}
	d.trainer = u
	return nil
}

// localDeployer points the sample deployer at the local upstream and fork, and prints the pull
// request instead of opening it.
func (d *demo) localDeployer(u *unstructured.Unstructured) error {
	if err := d.localSync(u, "/needsSync"); err != nil {
		return err
	}
	for name, value := range map[string]string{
		"fork": d.fork, "repo-url": d.upstream, "repo-revision": Base, "base-branch": Base,
		"github-repo": GitHubRepo, "head-owner": HeadOwner, "pr-dry-run": "true",
	} {
		if err := setParam(u, name, value); err != nil {
			return err
		}
	}
	return nil
}

func (d *demo) localSync(u *unstructured.Unstructured, path string) error {
	if err := unstructured.SetNestedField(u.Object, d.lambda+path, "spec", "needsSyncUrl"); err != nil {
		return err
	}
	return unstructured.SetNestedField(u.Object, d.opts.Interval.String(), "spec", "interval")
}

// setParam sets (or adds) a param of a ModelSync's pipelineRunTemplate.
func setParam(u *unstructured.Unstructured, name, value string) error {
	params, _, err := unstructured.NestedSlice(u.Object, "spec", "pipelineRunTemplate", "spec", "params")
	if err != nil {
		return err
	}
	for _, p := range params {
		if m, ok := p.(map[string]any); ok && m["name"] == name {
			m["value"] = value
			return unstructured.SetNestedSlice(u.Object, params, "spec", "pipelineRunTemplate", "spec", "params")
		}
	}
	params = append(params, map[string]any{"name": name, "value": value})
	return unstructured.SetNestedSlice(u.Object, params, "spec", "pipelineRunTemplate", "spec", "params")
}

// round waits for one model to be trained and rolled out, and returns it with the merge commit.
func (d *demo) round(ctx context.Context, n int) (model, merge string, err error) {
	ctx, cancel := context.WithTimeout(ctx, d.opts.RoundTimeout)
	defer cancel()
	var before map[string]bool
	if n == 1 {
		d.say("round 1: the trainer's lambda finds no model, so the controller starts a training run")
	} else {
		if before, err = d.watch.runNames(ctx, Trainer); err != nil {
			return "", "", err
		}
		seed := fmt.Sprint(n)
		d.say("round %d: new issues arrived: the trainer's generated data set now uses seed %s (spec change: pipelineRunTemplate param demo-seed)", n, seed)
		if err := setParam(d.trainer, "demo-seed", seed); err != nil {
			return "", "", err
		}
		if err := d.apply(ctx, d.trainer); err != nil {
			return "", "", err
		}
		d.say("the lambda will not ask for a model this young, so an operator forces a retrain:")
		d.say("$ kubectl modelsync trigger %s --force -n %s", Trainer, Namespace)
		out, err := d.plugin(ctx, "trigger", Trainer, "--force", "-n", Namespace)
		if err != nil {
			return "", "", err
		}
		fmt.Fprint(d.out, indent(out))
	}
	train, err := d.watch.waitRun(ctx, Trainer, before, func(*unstructured.Unstructured) bool { return true })
	if err != nil {
		return "", "", err
	}
	model = result(train, "model-id")
	if model == "" {
		return "", "", fmt.Errorf("training run %s has no model-id result", train.GetName())
	}
	d.say("model %s is in the registry: %s", model, d.describeModel(ctx, model))
	d.say("the deployer's lambda will now find that git names another model")
	deploy, err := d.watch.waitRun(ctx, Deployer, nil, func(u *unstructured.Unstructured) bool { return param(u, ModelKey) == model })
	if err != nil {
		return "", "", err
	}
	d.say("%s pushed branch %s to the fork (commit %s, %s); its pull request (dry run):", deploy.GetName(), Branch, short(result(deploy, "commit")), result(deploy, "push-status"))
	if logs, err := d.plugin(ctx, "logs", deploy.GetName(), "-n", Namespace); err == nil {
		fmt.Fprint(d.out, indent(prLines(logs)))
	} else {
		d.say("(could not read its logs: %v)", err)
	}
	merge, err = d.merge(ctx)
	if err != nil {
		return "", "", err
	}
	mergedAt := time.Now()
	d.say("the reviewer merged %s into %s of upstream: %s", Branch, Base, short(merge))
	if err := d.gitopsApply(ctx, merge, model); err != nil {
		return "", "", err
	}
	if err := d.watch.waitInSync(ctx, Deployer, mergedAt); err != nil {
		return "", "", err
	}
	d.say("round %d done: %s is deployed and the deployer's lambda reports in sync", n, model)
	return model, merge, nil
}

// gitopsApply plays the GitOps agent: it renders the label-bot package at commit and applies
// it, annotating each object with the commit.
func (d *demo) gitopsApply(ctx context.Context, commit, model string) error {
	work, err := d.checkoutAt(ctx, commit)
	if err != nil {
		return err
	}
	pkg := filepath.Join(work, PackagePath)
	if _, err := d.run(ctx, work, "kpt", "fn", "render", PackagePath, "--allow-exec", "--truncate-output=false"); err != nil {
		return err
	}
	objs, err := readPackage(pkg)
	if err != nil {
		return err
	}
	for _, u := range objs {
		ann := u.GetAnnotations()
		if ann == nil {
			ann = map[string]string{}
		}
		ann[automlv1alpha1.AnnotationSourceCommit] = commit
		u.SetAnnotations(ann)
	}
	if err := d.apply(ctx, objs...); err != nil {
		return err
	}
	cm := &corev1.ConfigMap{}
	if err := d.client.Get(ctx, client.ObjectKey{Namespace: Namespace, Name: ConfigMap}, cm); err != nil {
		return err
	}
	if got := cm.Data[ModelKey]; got != model {
		return fmt.Errorf("after applying commit %s the ConfigMap names %q, not %q", short(commit), got, model)
	}
	d.say("GitOps: rendered and applied kpt-packages/label-bot at %s: ConfigMap %s/%s %s=%s", short(commit), Namespace, ConfigMap, ModelKey, model)
	return nil
}

// describeModel summarizes a published model's metrics and report for the progress.
func (d *demo) describeModel(ctx context.Context, id string) string {
	reg, err := registry.Open(ctx, d.registry)
	if err != nil {
		return err.Error()
	}
	defer reg.Close()
	m, err := reg.Get(ctx, id)
	if err != nil {
		return err.Error()
	}
	var parts []string
	if a := m.Metrics.Micro; a != nil {
		parts = append(parts, fmt.Sprintf("micro precision %.2f recall %.2f", a.Precision, a.Recall))
	}
	if a := m.Metrics.Macro; a != nil {
		parts = append(parts, fmt.Sprintf("macro precision %.2f recall %.2f", a.Precision, a.Recall))
	}
	for _, f := range m.Files {
		if strings.HasSuffix(f, ".html") {
			parts = append(parts, "report "+filepath.Join(d.dir, "registry", "models", id, f))
		}
	}
	return strings.Join(parts, " · ")
}

// plugin runs the kubectl-modelsync binary against the local control plane.
func (d *demo) plugin(ctx context.Context, args ...string) (string, error) {
	return d.run(ctx, d.dir, append([]string{"kubectl-modelsync"}, args...)...)
}

func (d *demo) waitReady(ctx context.Context, p *proc, url string) error {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if err := p.exited(); err != nil {
			return err
		}
		if resp, err := http.Get(url); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s is not ready after a minute; see %s", p.name, p.log)
}

// alive fails when a child process or the runner has stopped.
func (d *demo) alive() error {
	for _, p := range d.procs {
		if err := p.exited(); err != nil {
			return err
		}
	}
	if d.runner != nil {
		select {
		case err := <-d.runner:
			d.runner <- err
			return fmt.Errorf("the local runner stopped: %v", err)
		default:
		}
	}
	return nil
}

// shutdown stops everything the demo started.
func (d *demo) shutdown(failure error) {
	if failure != nil && d.dir != "" {
		d.say("failed: %v", failure)
		d.say("logs are in %s", filepath.Join(d.dir, "logs"))
	}
	for i := len(d.procs) - 1; i >= 0; i-- {
		d.procs[i].stop()
	}
	if d.runner != nil {
		select {
		case <-d.runner:
		case <-time.After(15 * time.Second):
		}
	}
	if d.cp != nil {
		if err := d.cp.Stop(); err != nil {
			d.say("stopping the control plane: %v", err)
		}
	}
	if d.dir != "" {
		d.say("stopped everything; state left in %s", d.dir)
	}
}

func (d *demo) hints() {
	for _, l := range []string{
		"export KUBECONFIG=" + d.cp.Kubeconfig,
		"export PATH=" + filepath.Dir(d.lookPath("kubectl-modelsync")) + ":$PATH",
		"kubectl modelsync status -n " + Namespace,
		"kubectl modelsync logs " + Deployer + " -n " + Namespace,
		"kubectl modelsync trigger " + Trainer + " --force -n " + Namespace,
		"kubectl modelsync lineage -n " + Namespace,
		"modelsync-registry list --registry " + d.registry,
	} {
		fmt.Fprintln(d.out, "    "+l)
	}
}

// say prints one progress line, stamped with the time since the start.
func (d *demo) say(format string, args ...any) {
	el := time.Since(d.began).Round(time.Second)
	fmt.Fprintf(d.out, "[%3ds] %s\n", int(el.Seconds()), fmt.Sprintf(format, args...))
}

// prefixWriter turns each line written to it into a progress line.
type prefixWriter struct {
	d      *demo
	prefix string
	buf    []byte
}

func (w *prefixWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := strings.IndexByte(string(w.buf), '\n')
		if i < 0 {
			return len(p), nil
		}
		w.d.say("%s%s", w.prefix, w.buf[:i])
		w.buf = w.buf[i+1:]
	}
}

func withoutVars(env []string, names ...string) []string {
	var out []string
	for _, kv := range env {
		keep := true
		for _, n := range names {
			if strings.HasPrefix(kv, n+"=") {
				keep = false
			}
		}
		if keep {
			out = append(out, kv)
		}
	}
	return out
}

// prLines keeps the pull-request step's lines of a deploy run's logs.
func prLines(logs string) string {
	var out []string
	for _, l := range strings.Split(logs, "\n") {
		if rest, ok := strings.CutPrefix(l, "[update-model-pr : pull-request] "); ok {
			out = append(out, rest)
		}
	}
	if len(out) == 0 {
		return "(no output from the pull-request step)\n"
	}
	return strings.Join(out, "\n") + "\n"
}

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	return "    " + strings.ReplaceAll(s, "\n", "\n    ") + "\n"
}

func short(commit string) string {
	if len(commit) > 7 {
		return commit[:7]
	}
	return commit
}
