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
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
	"github.com/modelsync/modelsync/internal/pipelinerun"
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
	if err := d.startControlPlane(); err != nil {
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
	if res.Runs, err = d.summarize(ctx); err != nil {
		return res, err
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

// summarize returns the runs as they are now, oldest first.
func (d *demo) summarize(ctx context.Context) ([]RunSummary, error) {
	if err := d.watch.poll(ctx); err != nil {
		return nil, err
	}
	var runs []RunSummary
	for i := range d.watch.list {
		u := &d.watch.list[i]
		st := pipelinerun.ReadStatus(u)
		runs = append(runs, RunSummary{
			Name: u.GetName(), ModelSync: u.GetLabels()[automlv1alpha1.LabelModelSync],
			Succeeded: string(st.Succeeded), Reason: st.Reason,
			Params:  pipelinerun.NamedValues(u.Object, "spec", "params"),
			Results: pipelinerun.NamedValues(u.Object, "status", "results"),
		})
	}
	return runs, nil
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
