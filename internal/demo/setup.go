package demo

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/modelsync/modelsync/internal/localrun"
	"github.com/modelsync/modelsync/internal/testenv"
)

// startControlPlane starts etcd and kube-apiserver from bin/ with their state in the demo
// folder, trusting the CA of the runner's log endpoint (see localrun.NewKubeletCA).
func (d *demo) startControlPlane() error {
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

// waitReady polls url until it answers 200, for at most a minute.
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
