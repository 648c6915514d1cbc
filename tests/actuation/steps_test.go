package actuation

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/modelsync/modelsync/internal/gitops/githubtest"
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

// tektonVar matches the variables Tekton substitutes.
var tektonVar = regexp.MustCompile(`\$\((params|workspaces|results|context)\.([^)]*)\)`)

// run executes the Task's steps in order the way Tekton does for one TaskRun: the source
// workspace bound to a fresh directory, ssh-directory unbound, Secret keys resolved from
// secret, results read back from their files. It returns the results, the combined log
// under "log" and the source workspace's directory under "workspace".
func (tk tektonTask) run(t *testing.T, params map[string]string, bins string, extraEnv []string, secret map[string]string) map[string]string {
	t.Helper()
	values := map[string]string{}
	for _, p := range list(t, tk.obj, "spec", "params") {
		if d, ok := p["default"].(string); ok {
			values[p["name"].(string)] = d
		}
	}
	for k, v := range params {
		if _, ok := values[k]; !ok && !declaredParam(t, tk.obj, k) {
			t.Fatalf("the test passes param %q, which the Task does not declare", k)
		}
		values[k] = v
	}
	workspace, resultsDir, home := t.TempDir(), t.TempDir(), t.TempDir()
	resolve := func(expr string) string {
		return tektonVar.ReplaceAllStringFunc(expr, func(m string) string {
			sub := tektonVar.FindStringSubmatch(m)
			switch kind, name := sub[1], sub[2]; {
			case kind == "params":
				v, ok := values[name]
				if !ok {
					t.Fatalf("param %q has no value", name)
				}
				return v
			case kind == "workspaces" && name == "source.path":
				return workspace
			case kind == "workspaces" && name == "source.bound":
				return "true"
			case kind == "workspaces" && strings.HasSuffix(name, ".bound"):
				return "false"
			case kind == "workspaces" && strings.HasSuffix(name, ".path"):
				return "" // an unbound optional workspace
			case kind == "results" && strings.HasSuffix(name, ".path"):
				return filepath.Join(resultsDir, strings.TrimSuffix(name, ".path"))
			}
			t.Fatalf("unhandled Tekton variable %s", m)
			return ""
		})
	}
	stepEnv := func(step map[string]any) []string {
		var out []string
		for _, e := range append(list(t, tk.obj, "spec", "stepTemplate", "env"), list(t, step, "env")...) {
			name := e["name"].(string)
			if v, ok := e["value"].(string); ok {
				out = append(out, name+"="+resolve(v))
				continue
			}
			key, _, _ := unstructured.NestedString(e, "valueFrom", "secretKeyRef", "key")
			if v, ok := secret[key]; ok {
				out = append(out, name+"="+v)
			}
		}
		return out
	}
	var log strings.Builder
	for _, step := range list(t, tk.obj, "spec", "steps") {
		script := step["script"].(string)
		if m := tektonVar.FindString(script); m != "" {
			t.Fatalf("step %s pastes %s into its script; pass it through env", step["name"], m)
		}
		file := filepath.Join(t.TempDir(), "script")
		if err := os.WriteFile(file, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(file)
		cmd.Env = append([]string{"PATH=" + bins + ":/usr/bin:/bin", "GIT_CONFIG_GLOBAL=/dev/null"}, extraEnv...)
		cmd.Env = append(cmd.Env, stepEnv(step)...)
		cmd.Env = append(cmd.Env, "HOME="+home) // /tekton/home in a pod
		out, err := cmd.CombinedOutput()
		log.WriteString("--- " + step["name"].(string) + "\n" + string(out))
		if err != nil {
			t.Fatalf("step %s failed: %v\n%s", step["name"], err, log.String())
		}
	}
	res := map[string]string{"log": log.String(), "workspace": workspace}
	for _, r := range list(t, tk.obj, "spec", "results") {
		name := r["name"].(string)
		data, err := os.ReadFile(filepath.Join(resultsDir, name))
		if err != nil {
			t.Fatalf("result %s was not written: %v", name, err)
		}
		res[name] = string(data)
	}
	t.Logf("steps:\n%s", log.String())
	return res
}

func declaredParam(t testing.TB, obj map[string]any, name string) bool {
	for _, p := range list(t, obj, "spec", "params") {
		if p["name"] == name {
			return true
		}
	}
	return false
}
