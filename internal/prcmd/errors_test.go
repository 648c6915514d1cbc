package prcmd

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelsync/modelsync/internal/gitops/githubtest"
)

// TestErrors checks that failures exit non-zero with a message that says what went wrong and
// never shows a secret.
func TestErrors(t *testing.T) {
	const wrongToken = "ghp_wrongtoken9876543210"
	cases := []struct {
		name     string
		env      map[string]string
		fail     func(*githubtest.Server)
		args     func(work, fork string) []string
		wantCode int
		want     []string
		secrets  []string
	}{
		{
			name: "401 bad credentials", env: map[string]string{"GH_TOKEN": wrongToken, "GH_HOST": githubtest.Host},
			wantCode: 1, want: []string{"failed to list the pull requests of kubeflow/code-intelligence", "HTTP 401",
				"rejected the credentials", "GH_TOKEN", "Bad credentials"},
			secrets: []string{wrongToken},
		},
		{
			name: "422 validation failed",
			fail: func(s *githubtest.Server) {
				s.Fail(http.MethodPost, "/pulls", githubtest.Failure{Status: 422,
					Body: githubtest.ValidationFailed("No commits between master and bot:auto-update")})
			},
			wantCode: 1, want: []string{"failed to open a pull request from bot:auto-update to kubeflow/code-intelligence:master",
				"HTTP 422", "refused the request as invalid", "Validation Failed", "No commits between master and bot:auto-update"},
		},
		{
			name: "5xx server error",
			fail: func(s *githubtest.Server) {
				s.Fail(http.MethodGet, "/pulls", githubtest.Failure{Status: 502, Body: githubtest.ServerError})
			},
			wantCode: 1, want: []string{"HTTP 502", "server error", "retried", "Server Error"},
		},
		{
			name: "404 unknown repository", args: func(work, _ string) []string {
				return []string{"pull-request", "--dir", work, "--repo", "kubeflow/nope", "--branch", branch}
			},
			wantCode: 1, want: []string{"HTTP 404", "does not exist or the credentials cannot see it"},
		},
		{
			name: "no credentials", env: map[string]string{"GH_HOST": githubtest.Host},
			wantCode: 1, want: []string{"no GitHub credentials", "GH_TOKEN"},
		},
		{
			name: "GitHub App key is not a key", env: map[string]string{"GH_HOST": githubtest.Host, "GH_APP_ID": "42",
				"GH_APP_PRIVATE_KEY": "-----BEGIN RSA PRIVATE KEY-----\nc2VjcmV0a2V5bWF0ZXJpYWw=\n-----END RSA PRIVATE KEY-----\n"},
			wantCode: 1, want: []string{"failed to parse the GitHub App private key", "invalid PKCS#1"},
			secrets: []string{"c2VjcmV0a2V5bWF0ZXJpYWw"},
		},
		{
			name: "missing branch", args: func(work, _ string) []string {
				return []string{"pull-request", "--dir", work, "--repo", "kubeflow/code-intelligence"}
			},
			wantCode: 2, want: []string{"--branch is required"},
		},
		{
			name: "repository is not owner/name", args: func(work, _ string) []string {
				return []string{"pull-request", "--dir", work, "--repo", "kubeflow", "--branch", branch}
			},
			wantCode: 2, want: []string{"--repo", `"kubeflow" must be owner/name`},
		},
		{
			name: "repository URL names no repository", args: func(work, fork string) []string {
				return []string{"pull-request", "--dir", work, "--repo-url", fork, "--branch", branch}
			},
			wantCode: 2, want: []string{"--repo-url", "names no GitHub repository", "--repo owner/name"},
		},
		{
			name: "invalid branch name", args: func(work, fork string) []string {
				return []string{"push", "--dir", work, "--fork", fork, "--branch", "bad..name"}
			},
			wantCode: 1, want: []string{`branch (--branch) "bad..name" is not a valid branch name`},
		},
		{
			name: "fork does not exist", args: func(work, fork string) []string {
				return []string{"push", "--dir", work, "--fork", fork + "-missing", "--branch", branch}
			},
			wantCode: 1, want: []string{"failed to read branch auto-update of the fork", "git fetch"},
		},
		{
			name: "unknown flag", args: func(work, _ string) []string { return []string{"push", "--dir", work, "--frok", "x"} },
			wantCode: 2, want: []string{"unknown flag: --frok"},
		},
		{
			name: "template does not parse", args: func(work, fork string) []string {
				return append(pushArgs(work, fork), "--message-template", "{{.NoSuchField}")
			},
			wantCode: 1, want: []string{"failed to parse template --message-template"},
		},
	}
	r := newRepos(t)
	work := r.checkout(t, "projects/p/models/m1")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			gh := githubtest.New(t, token, "kubeflow/code-intelligence", "master")
			if c.fail != nil {
				c.fail(gh)
			}
			env := c.env
			if env == nil {
				env = tokenEnv()
			}
			args := prArgs(work)
			if c.args != nil {
				args = c.args(work, r.fork)
			}
			res := run(t, gh, env, args...)
			if res.code != c.wantCode {
				t.Errorf("exit code = %d, want %d\nstderr: %s", res.code, c.wantCode, res.stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(res.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, res.stderr)
				}
			}
			for _, s := range append(c.secrets, token) {
				if strings.Contains(res.stdout+res.stderr, s) {
					t.Errorf("output shows a secret:\n%s%s", res.stdout, res.stderr)
				}
			}
			if len(gh.Pulls()) != 0 {
				t.Errorf("a failed run opened a pull request: %+v", gh.Pulls())
			}
		})
	}
}

// TestGitHubApp authenticates as a GitHub App: JWT → installation (looked up) → token.
func TestGitHubApp(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "app.pem")
	writeFile(t, keyFile, string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})))
	r := newRepos(t)
	gh := githubtest.New(t, "unused", "kubeflow/code-intelligence", "master")
	gh.App(4242, &key.PublicKey, 77)
	work := r.checkout(t, "projects/p/models/m1")
	env := map[string]string{"GH_HOST": githubtest.Host, "GH_APP_ID": "4242", "GH_APP_PRIVATE_KEY_FILE": keyFile}
	res := run(t, gh, env, prArgs(work)...)
	if res.code != 0 || !strings.HasPrefix(res.stdout, "created pull request #1") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", res.code, res.stdout, res.stderr)
	}
	var got []string
	for _, req := range gh.Requests() {
		got = append(got, req.Method+" "+req.Path+" "+req.Auth)
	}
	want := []string{
		"GET /api/v3/repos/kubeflow/code-intelligence/installation bearer",
		"POST /api/v3/app/installations/77/access_tokens bearer",
		"GET /api/v3/repos/kubeflow/code-intelligence/pulls token",
		"GET /api/v3/repos/kubeflow/code-intelligence token",
		"POST /api/v3/repos/kubeflow/code-intelligence/pulls token",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if strings.Contains(res.stdout+res.stderr, "ghs_") {
		t.Errorf("output shows the installation token:\n%s", res.stdout+res.stderr)
	}
}
