package actuation

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/modelsync/modelsync/internal/gitops/githubtest"
	"github.com/modelsync/modelsync/internal/localrun"
	"github.com/modelsync/modelsync/internal/pipelinerun"
)

const (
	ghToken = "ghp_pipelinetoken0123456789"
	lbPath  = "kpt-packages/label-bot"
)

// TestUpdateModelPRSteps runs the update-model-pr Task's step scripts, taken from the YAML, in
// order on this machine, as Tekton would run them in one pod: real git repositories (an
// upstream and a fork, bare), the real kpt with set-automl-model, the built modelsync-pr
// binary, and the loopback GitHub API reached through a proxy as over the network.
func TestUpdateModelPRSteps(t *testing.T) {
	bins := binDir(t)
	task := readTask(t, filepath.Join(packagesDir(t), "pipelines", "update-model-pr-task.yaml"))
	r := newUpstream(t)
	gh := githubtest.New(t, ghToken, "kubeflow/code-intelligence", "master")
	gh.HeadExists = func(owner, branch string) bool {
		return owner == "bot" && run(t, r.fork, "for-each-ref", "refs/heads/"+branch) != ""
	}
	base := run(t, r.origin, "rev-parse", "master")
	oldModel := "issue-labels-20260101"
	steps := []struct {
		name, model, wantStatus, wantPR string
		wantWrites                      int
		hydrate                         string
	}{
		{"first model", "issue-labels-20261128", "pushed", "created", 1, "false"},
		{"same model again", "issue-labels-20261128", "up-to-date", "unchanged", 0, "false"},
		{"newer model", "issue-labels-20261205", "pushed", "updated", 1, "false"},
		// kpt fn render runs the package's own pipeline (set-automl-model, from the Kptfile
		// setter the eval step changed): the proposal stays the same.
		{"newer model again, hydrated", "issue-labels-20261205", "up-to-date", "unchanged", 0, "true"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			tipBefore := run(t, r.fork, "for-each-ref", "--format=%(objectname)", "refs/heads/auto-update")
			writesBefore := gh.Writes()
			params := map[string]string{
				"automl-model": s.model, "fork": r.fork, "repo-url": r.origin, "repo-revision": "master",
				"package-path": lbPath, "marker": "automl-model", "github-repo": "kubeflow/code-intelligence",
				"head-owner": "bot", "github-host": githubtest.Host, "run": "label-bot-prod/label-bot-deployer-7",
				"hydrate": s.hydrate,
			}
			results := task.run(t, params, bins, gh.ProcessEnv(t), map[string]string{"token": ghToken})
			if results["push-status"] != s.wantStatus {
				t.Errorf("push-status = %q, want %q", results["push-status"], s.wantStatus)
			}
			tip := run(t, r.fork, "rev-parse", "refs/heads/auto-update")
			if results["commit"] != tip {
				t.Errorf("commit result %q is not the fork's branch %s", results["commit"], tip)
			}
			if moved := tip != tipBefore; moved != (s.wantStatus == "pushed") {
				t.Errorf("fork branch moved = %v for push-status %s", moved, s.wantStatus)
			}
			if parent := run(t, r.fork, "rev-parse", tip+"^"); parent != base {
				t.Errorf("the branch is not one commit on the base: parent %s, base %s", parent, base)
			}
			// The proposal changes the model line of the ConfigMap and, to keep `kpt fn render`
			// in step, the marked setter of the Kptfile — nothing else.
			diff := run(t, r.fork, "diff", "--unified=0", base, tip)
			wantDiff := []string{
				"-        model: " + oldModel + " # modelsync-set: automl-model",
				"+        model: " + s.model + " # modelsync-set: automl-model",
				"-  automl-model: " + oldModel + " # modelsync-set: automl-model",
				"+  automl-model: " + s.model + " # modelsync-set: automl-model",
			}
			if got := changedLines(diff); strings.Join(got, "\n") != strings.Join(wantDiff, "\n") {
				t.Errorf("branch diff lines:\n%s\nwant:\n%s\nfull diff:\n%s", strings.Join(got, "\n"), strings.Join(wantDiff, "\n"), diff)
			}
			if files := run(t, r.fork, "diff", "--name-only", base, tip); files != lbPath+"/Kptfile\n"+lbPath+"/configmap.yaml" {
				t.Errorf("files changed: %q", files)
			}
			pulls := gh.Pulls()
			if len(pulls) != 1 {
				t.Fatalf("pull requests: %+v, want exactly one", pulls)
			}
			if !strings.Contains(pulls[0].Title, s.model) || pulls[0].Head != "bot:auto-update" || pulls[0].Base != "master" {
				t.Errorf("pull request %+v does not propose %s", pulls[0], s.model)
			}
			if results["pr-url"] != "https://"+githubtest.Host+"/kubeflow/code-intelligence/pull/1" {
				t.Errorf("pr-url = %q", results["pr-url"])
			}
			if got := gh.Writes() - writesBefore; got != s.wantWrites {
				t.Errorf("GitHub writes = %d, want %d", got, s.wantWrites)
			}
			if !strings.Contains(results["log"], s.wantPR+" pull request #1") {
				t.Errorf("log lacks %q:\n%s", s.wantPR+" pull request #1", results["log"])
			}
			if strings.Contains(results["log"], ghToken) {
				t.Errorf("the log shows the token")
			}
		})
	}
}

// upstream is the app's repository (holding the label-bot package) and a fork of it.
type upstream struct{ origin, fork string }

func newUpstream(t *testing.T) upstream {
	t.Helper()
	dir := t.TempDir()
	seed := filepath.Join(dir, "seed")
	run(t, dir, "init", "--quiet", "--initial-branch=master", seed)
	if err := os.MkdirAll(filepath.Join(seed, "kpt-packages"), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-R", filepath.Join(packagesDir(t), "label-bot"), filepath.Join(seed, lbPath)).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	run(t, seed, "add", ".")
	run(t, seed, "commit", "--quiet", "-m", "label bot")
	u := upstream{origin: filepath.Join(dir, "origin.git"), fork: filepath.Join(dir, "fork.git")}
	run(t, dir, "clone", "--quiet", "--bare", seed, u.origin)
	run(t, dir, "clone", "--quiet", "--bare", u.origin, u.fork)
	return u
}

func run(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t",
		"GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %s: %v", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out))
}

func changedLines(diff string) []string {
	var out []string
	for _, l := range strings.Split(diff, "\n") {
		if (strings.HasPrefix(l, "+") || strings.HasPrefix(l, "-")) && !strings.HasPrefix(l, "+++") && !strings.HasPrefix(l, "---") {
			out = append(out, l)
		}
	}
	return out
}

// tektonTask is a Task read from its YAML.
type tektonTask struct {
	obj map[string]any
}

func readTask(t testing.TB, path string) tektonTask {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := yaml.Unmarshal(data, &obj); err != nil {
		t.Fatal(err)
	}
	return tektonTask{obj: obj}
}

// tektonVar matches the variables Tekton substitutes (TestStepScripts checks that no script
// pastes one in).
var tektonVar = regexp.MustCompile(`\$\((params|workspaces|results|context)\.([^)]*)\)`)

// run executes the Task as Tekton would for one TaskRun, through the local runner
// (internal/localrun): the Task and a PipelineRun of one pipeline task are created in a
// namespace of the test's, the source workspace is an emptyDir, ssh-directory is left unbound,
// the Secret github-token holds secret (when not nil), and the steps find bins on the PATH
// plus extraEnv. It returns the Task's results, the steps' logs under "log" and the source
// workspace's folder under "workspace".
func (tk tektonTask) run(t *testing.T, params map[string]string, bins string, extraEnv []string, secret map[string]string) map[string]string {
	t.Helper()
	ctx := context.Background()
	ns := env.Namespace(t)
	for k := range params {
		if !declaredParam(t, tk.obj, k) {
			t.Fatalf("the test passes param %q, which the Task does not declare", k)
		}
	}
	task := &unstructured.Unstructured{Object: runtime.DeepCopyJSON(tk.obj)}
	task.SetNamespace(ns)
	objs := []client.Object{task}
	if secret != nil {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "github-token", Namespace: ns}, StringData: secret}
		objs = append(objs, s)
	}
	var taskParams, runParams, results []any
	for name, value := range params {
		taskParams = append(taskParams, map[string]any{"name": name, "value": "$(params." + name + ")"})
		runParams = append(runParams, map[string]any{"name": name, "value": value})
	}
	for _, r := range list(t, tk.obj, "spec", "results") {
		results = append(results, map[string]any{"name": r["name"], "value": "$(tasks.task.results." + r["name"].(string) + ")"})
	}
	var pipelineParams []any
	for name := range params {
		pipelineParams = append(pipelineParams, map[string]any{"name": name, "type": "string"})
	}
	run := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "tekton.dev/v1", "kind": "PipelineRun",
		"metadata": map[string]any{"name": "steps", "namespace": ns},
		"spec": map[string]any{
			"params": runParams,
			"pipelineSpec": map[string]any{
				"params":     pipelineParams,
				"workspaces": []any{map[string]any{"name": "source"}},
				"results":    results,
				"tasks": []any{map[string]any{
					"name": "task", "taskRef": map[string]any{"name": task.GetName()}, "params": taskParams,
					"workspaces": []any{map[string]any{"name": "source", "workspace": "source"}},
				}},
			},
			"workspaces": []any{map[string]any{"name": "source", "emptyDir": map[string]any{}}},
		},
	}}
	for _, obj := range append(objs, run) {
		if err := env.Client.Create(ctx, obj); err != nil {
			t.Fatalf("create %s: %v", obj.GetName(), err)
		}
	}

	dir := t.TempDir()
	r, err := localrun.New(localrun.Options{
		Config: env.Config, Dir: dir, Namespace: ns,
		Env: append([]string{"PATH=" + bins + ":/usr/bin:/bin", "GIT_CONFIG_GLOBAL=/dev/null"}, extraEnv...),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Run(ctx, ns, "steps"); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(run), run); err != nil {
		t.Fatal(err)
	}
	runDir := filepath.Join(dir, ns, "steps")
	var log strings.Builder
	for _, step := range list(t, tk.obj, "spec", "steps") {
		name := step["name"].(string)
		data, _ := os.ReadFile(filepath.Join(runDir, "tasks", "task", "logs", "step-"+name+".log"))
		log.WriteString("--- " + name + "\n" + string(data))
	}
	t.Logf("steps:\n%s", log.String())
	if st := pipelinerun.ReadStatus(run); st.Succeeded != metav1.ConditionTrue {
		t.Fatalf("the run did not succeed: %s %s: %s\n%s", st.Succeeded, st.Reason, st.Message, log.String())
	}
	out := pipelinerun.NamedValues(run.Object, "status", "results")
	if out == nil {
		out = map[string]string{}
	}
	for _, r := range list(t, tk.obj, "spec", "results") {
		if _, ok := out[r["name"].(string)]; !ok {
			t.Fatalf("result %s was not reported; run status: %v", r["name"], run.Object["status"])
		}
	}
	out["log"] = log.String()
	out["workspace"] = filepath.Join(runDir, "workspaces", "source")
	return out
}

func declaredParam(t testing.TB, obj map[string]any, name string) bool {
	for _, p := range list(t, obj, "spec", "params") {
		if p["name"] == name {
			return true
		}
	}
	return false
}
