package prcmd

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/modelsync/modelsync/internal/gitops/githubtest"
)

const (
	token     = "ghp_testtoken0123456789abcdef"
	configMap = "label-bot/configmap.yaml"
	baseModel = "projects/p/models/old"
)

const configMapYAML = `apiVersion: v1
kind: ConfigMap
metadata:
  name: label-bot-config
data:
  # the model the bot serves; set by modelsync
  automl-model: projects/p/models/old
  threshold: "0.5"
`

// repos is an upstream repository and a fork of it, both bare, made by the test.
type repos struct {
	dir, origin, fork string
}

func git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t",
		"GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null", "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func newRepos(t testing.TB) *repos {
	t.Helper()
	dir := t.TempDir()
	r := &repos{dir: dir, origin: filepath.Join(dir, "origin.git"), fork: filepath.Join(dir, "fork.git")}
	seed := filepath.Join(dir, "seed")
	git(t, dir, "init", "--quiet", "--initial-branch=master", seed)
	writeFile(t, filepath.Join(seed, configMap), configMapYAML)
	writeFile(t, filepath.Join(seed, "README.md"), "label bot\n")
	git(t, seed, "add", ".")
	git(t, seed, "commit", "--quiet", "-m", "initial")
	git(t, dir, "clone", "--quiet", "--bare", seed, r.origin)
	git(t, dir, "clone", "--quiet", "--bare", r.origin, r.fork)
	return r
}

// checkout clones the upstream at master into a fresh work tree (as the pipeline's clone
// step does) and sets the model as set-automl-model would.
func (r *repos) checkout(t testing.TB, model string) string {
	t.Helper()
	work, err := os.MkdirTemp(r.dir, "work-")
	if err != nil {
		t.Fatal(err)
	}
	git(t, r.dir, "clone", "--quiet", r.origin, work)
	path := filepath.Join(work, configMap)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edited := regexp.MustCompile(`(?m)^(\s*automl-model:).*$`).ReplaceAll(data, []byte("${1} "+model))
	writeFile(t, path, string(edited))
	return work
}

func (r *repos) forkTip(t testing.TB, branch string) string {
	t.Helper()
	out := git(t, r.fork, "for-each-ref", "--format=%(objectname)", "refs/heads/"+branch)
	return out
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

type result struct {
	code           int
	stdout, stderr string
}

// run executes modelsync-pr in-process against the loopback GitHub with the given environment.
func run(t testing.TB, gh *githubtest.Server, vars map[string]string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env := Env{
		Stdout: &stdout, Stderr: &stderr,
		Getenv: func(k string) string { return vars[k] },
		Now:    time.Now,
	}
	if gh != nil {
		env.Transport = gh.Transport()
	}
	code := Execute(context.Background(), args, env)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func tokenEnv() map[string]string {
	return map[string]string{"GH_TOKEN": token, "GH_HOST": githubtest.Host}
}
