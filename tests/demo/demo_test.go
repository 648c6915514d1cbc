// Package demo runs `make demo`'s scenario (internal/demo) under `make test` and checks where
// it ends: two models in the registry, the second one named in the upstream repository, one
// proposal branch, every run's status, and a complete lineage.
package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelsync/modelsync/internal/demo"
	"github.com/modelsync/modelsync/internal/registry"
	"github.com/modelsync/modelsync/internal/testenv"
	"github.com/modelsync/modelsync/internal/testutil"
	"github.com/modelsync/modelsync/plugin"
)

func TestDemo(t *testing.T) {
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := buildTools(t, root)
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	var out testutil.SyncBuffer
	res, err := demo.Run(ctx, demo.Options{Root: root, Dir: filepath.Join(t.TempDir(), "demo"), BinDir: bin, Out: &out, DemoIssues: 1500})
	t.Logf("demo output:\n%s", out.String())
	if err != nil {
		t.Fatalf("demo: %v", err)
	}

	// Two distinct models, both in the registry, each deployed by its own merge.
	if len(res.Models) != 2 || res.Models[0] == res.Models[1] {
		t.Fatalf("models rolled out: %v, want two distinct", res.Models)
	}
	reg, err := registry.Open(ctx, res.Registry)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	models, err := reg.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range models {
		ids = append(ids, m.ID)
		if m.Lineage.PipelineRun == "" || m.Lineage.ModelSync != demo.Namespace+"/"+demo.Trainer {
			t.Errorf("model %s lineage %+v lacks its training run or ModelSync", m.ID, m.Lineage)
		}
		if m.Metrics.Micro == nil || m.Metrics.Micro.Precision <= 0 {
			t.Errorf("model %s has no metrics: %+v", m.ID, m.Metrics)
		}
	}
	if len(ids) != 2 || !contains(ids, res.Models[0]) || !contains(ids, res.Models[1]) {
		t.Errorf("registry holds %v, want exactly %v", ids, res.Models)
	}
	if len(models) == 2 && models[0].Lineage.DataSnapshot == models[1].Lineage.DataSnapshot {
		t.Errorf("both models were trained on the same data (%s); round 2 should use a new data set", models[0].Lineage.DataSnapshot)
	}

	// Upstream's base branch names the second model, in the ConfigMap and the Kptfile setter.
	cm := git(t, res.Upstream, "show", demo.Base+":"+demo.PackagePath+"/configmap.yaml")
	if !strings.Contains(cm, "automl-model: "+res.Models[1]+" # modelsync-set: automl-model") {
		t.Errorf("upstream ConfigMap does not name %s:\n%s", res.Models[1], cm)
	}
	if tip := git(t, res.Upstream, "rev-parse", demo.Base); tip != res.Merges[1] {
		t.Errorf("upstream %s is at %s, want the second merge %s", demo.Base, tip, res.Merges[1])
	}
	// The fork carries exactly one proposal branch (beside the base it was cloned with).
	branches := strings.Fields(git(t, res.Fork, "for-each-ref", "--format=%(refname:short)", "refs/heads"))
	var proposals []string
	for _, b := range branches {
		if b != demo.Base {
			proposals = append(proposals, b)
		}
	}
	if len(proposals) != 1 || proposals[0] != demo.Branch {
		t.Errorf("fork branches %v: want exactly one proposal branch %s", branches, demo.Branch)
	}

	// Runs: two training runs and a deploy run per model, all succeeded.
	trained, deployed := map[string]bool{}, map[string]bool{}
	for _, r := range res.Runs {
		if r.Succeeded != "True" {
			t.Errorf("run %s: Succeeded=%s (%s)", r.Name, r.Succeeded, r.Reason)
		}
		switch r.ModelSync {
		case demo.Trainer:
			trained[r.Results["model-id"]] = true
		case demo.Deployer:
			deployed[r.Params[demo.ModelKey]] = true
			if r.Results["push-status"] == "" {
				t.Errorf("deploy run %s has no push-status result: %v", r.Name, r.Results)
			}
		default:
			t.Errorf("run %s of unknown ModelSync %q", r.Name, r.ModelSync)
		}
	}
	for _, m := range res.Models {
		if !trained[m] || !deployed[m] {
			t.Errorf("model %s: trained by a run %v, deployed by a run %v", m, trained[m], deployed[m])
		}
	}
	if len(trained) != 2 {
		t.Errorf("training runs produced %v, want the two models", trained)
	}

	// The lineage of the deployed model reaches from the ConfigMap back to the ModelSyncs.
	checkLineage(t, res)
	if !strings.Contains(res.Status, demo.Trainer) || !strings.Contains(res.Status, demo.Deployer) {
		t.Errorf("status output lacks the ModelSyncs:\n%s", res.Status)
	}
}

// checkLineage asserts every link of `kubectl modelsync lineage -o json` for the deployed model:
// ConfigMap and merge commit ← deploy run and its check ← model ← training run and its check ←
// both ModelSyncs.
func checkLineage(t *testing.T, res *demo.Result) {
	t.Helper()
	var l plugin.Lineage
	if err := json.Unmarshal([]byte(res.LineageJSON), &l); err != nil {
		t.Fatalf("lineage -o json: %v\n%s", err, res.LineageJSON)
	}
	model := res.Models[1]
	check := func(ok bool, what string) {
		t.Helper()
		if !ok {
			t.Errorf("lineage: %s\n%s", what, res.LineageJSON)
		}
	}
	check(l.Model == model, "model is not the deployed one "+model)
	check(l.Deployed.Missing == "" && l.Deployed.Name == demo.ConfigMap && l.Deployed.Value == model && l.Deployed.SourceCommit == res.Merges[1],
		"ConfigMap link is not label-bot at the second model, applied from the second merge")
	dr := l.DeployRun
	check(dr.Missing == "" && dr.Result == "Succeeded" && dr.Params[demo.ModelKey] == model && dr.Results["push-status"] == "pushed" && dr.Results["commit"] != "",
		"deploy run link is incomplete")
	check(dr.Check != nil && dr.Check.ModelSync == demo.Deployer && dr.Check.Trigger == "interval" && dr.Check.Parameters["name"] == model,
		"deploy run's check is not the deployer's interval check that named the model")
	m := l.Manifest
	check(m.Missing == "" && m.ID == model && m.Micro != nil && m.Macro != nil && m.Report != "" && m.DataSnapshot != "", "model link lacks metrics, report or data snapshot")
	tr := l.TrainingRun
	check(tr.Missing == "" && tr.Result == "Succeeded" && tr.Results["model-id"] == model, "training run link is incomplete")
	check(tr.Check != nil && tr.Check.ModelSync == demo.Trainer && tr.Check.Trigger == "manual", "training run's check is not the forced trigger of the trainer")
	var roles []string
	for _, ms := range l.ModelSyncs {
		check(ms.Missing == "" && ms.NeedsSyncURL != "", "ModelSync link "+ms.Role+" is incomplete")
		roles = append(roles, ms.Role+"="+ms.Name)
	}
	check(strings.Join(roles, ",") == "trainer="+demo.Trainer+",deployer="+demo.Deployer, "ModelSyncs are "+strings.Join(roles, ","))
}

var (
	toolsOnce sync.Once
	toolsDir  string
	toolsErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if toolsDir != "" {
		_ = os.RemoveAll(toolsDir)
	}
	os.Exit(code)
}

// buildTools builds the binaries the demo needs into a temporary folder, once per test binary.
func buildTools(t *testing.T, root string) string {
	t.Helper()
	toolsOnce.Do(func() { toolsDir, toolsErr = build(root) })
	if toolsErr != nil {
		t.Fatal(toolsErr)
	}
	return toolsDir
}

func build(root string) (string, error) {
	dir, err := os.MkdirTemp("", "modelsync-demo-tools-")
	if err != nil {
		return "", err
	}
	var pkgs []string
	for _, tool := range demo.Tools {
		if tool == "set-automl-model" {
			pkgs = append(pkgs, "./fn/"+tool)
		} else {
			pkgs = append(pkgs, "./cmd/"+tool)
		}
	}
	cmd := exec.Command("go", append([]string{"build", "-o", dir + "/"}, pkgs...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return dir, fmt.Errorf("failed to build %v: %v\n%s", pkgs, err, b)
	}
	return dir, nil
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"--git-dir", dir}, args...)...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %v: %v", args, err)
	}
	return strings.TrimSpace(string(out))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
