package prcmd

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelsync/modelsync/internal/gitops/githubtest"
)

// TestPushOverHTTPS pushes to a fork served over HTTPS by the real git http-backend behind the
// loopback GitHub, which requires the token: git gets it from the environment, never from a
// URL or an argument, and no output shows it.
func TestPushOverHTTPS(t *testing.T) {
	r := newRepos(t)
	root := t.TempDir()
	forkDir := filepath.Join(root, "bot", "code-intelligence.git")
	if err := os.MkdirAll(filepath.Dir(forkDir), 0o755); err != nil {
		t.Fatal(err)
	}
	git(t, root, "clone", "--quiet", "--bare", r.origin, forkDir)
	gh := githubtest.New(t, token, "kubeflow/code-intelligence", "master")
	if err := gh.ServeGit(root); err != nil {
		t.Fatal(err)
	}
	for _, kv := range gh.ProcessEnv(t) { // git runs as a child process: it reads these
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	t.Setenv("GIT_CONFIG_GLOBAL", "/dev/null")
	forkURL := "https://" + githubtest.Host + "/bot/code-intelligence.git"
	work := r.checkout(t, "projects/p/models/m1")
	git(t, work, "remote", "add", "fork", forkURL)
	secrets := []string{token, base64.StdEncoding.EncodeToString([]byte("x-access-token:" + token))}
	cases := []struct {
		name     string
		env      map[string]string
		fork     string
		wantCode int
		want     string
	}{
		{name: "no token", env: map[string]string{"GH_HOST": githubtest.Host}, fork: forkURL, wantCode: 1,
			want: "failed to read branch auto-update of the fork: git fetch: fatal: could not read Username for 'https://ghe.example.com': terminal prompts disabled (git has no valid credentials for the fork: set GH_TOKEN"},
		{name: "token, fork by URL", env: tokenEnv(), fork: forkURL, want: "pushed "},
		{name: "token, fork by remote name", env: tokenEnv(), fork: "fork", want: "up to date: "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := run(t, gh, c.env, "push", "--dir", work, "--fork", c.fork, "--branch", branch)
			if res.code != c.wantCode || !strings.Contains(res.stdout+res.stderr, c.want) {
				t.Fatalf("exit %d (want %d), want output containing %q\nstdout: %s\nstderr: %s", res.code, c.wantCode, c.want, res.stdout, res.stderr)
			}
			for _, s := range secrets {
				if strings.Contains(res.stdout+res.stderr, s) {
					t.Errorf("output shows a secret:\n%s%s", res.stdout, res.stderr)
				}
			}
		})
	}
	if tip := git(t, forkDir, "for-each-ref", "--format=%(objectname)", "refs/heads/"+branch); tip == "" {
		t.Error("the fork has no branch after the push")
	}
	if cfg := git(t, work, "config", "--list", "--local"); strings.Contains(cfg, "extraheader") {
		t.Errorf("the token was written to the clone's config:\n%s", cfg)
	}
}
