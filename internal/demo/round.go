package demo

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
	"github.com/modelsync/modelsync/internal/registry"
)

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
