package lambda

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/modelsync/modelsync/api/v1alpha1"
	"github.com/modelsync/modelsync/fn/set-automl-model/setmodel"
	"github.com/modelsync/modelsync/internal/registry"
	"github.com/modelsync/modelsync/internal/testutil"
)

// runGit runs git in dir for a test, with a fixed identity.
func runGit(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=test", "GIT_AUTHOR_EMAIL=test@example.com",
		"GIT_COMMITTER_NAME=test", "GIT_COMMITTER_EMAIL=test@example.com", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// gitRemote is a bare repository with a working clone the test commits through.
type gitRemote struct {
	t    testing.TB
	bare string
	work string
}

// newRemote creates a bare repo at bare (made under a temp dir when empty) with branch main.
func newRemote(t testing.TB, bare string) *gitRemote {
	t.Helper()
	if bare == "" {
		bare = filepath.Join(t.TempDir(), "remote.git")
	}
	runGit(t, "", "init", "--quiet", "--bare", "--initial-branch=main", bare)
	work := t.TempDir()
	runGit(t, "", "clone", "--quiet", bare, work)
	runGit(t, work, "checkout", "--quiet", "-B", "main")
	return &gitRemote{t: t, bare: bare, work: work}
}

// commit writes files (an empty content deletes the file) and pushes a commit to main.
func (g *gitRemote) commit(files map[string]string) {
	g.t.Helper()
	for name, content := range files {
		p := filepath.Join(g.work, filepath.FromSlash(name))
		if content == "" {
			if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
				g.t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			g.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			g.t.Fatal(err)
		}
	}
	runGit(g.t, g.work, "add", "-A")
	runGit(g.t, g.work, "commit", "--quiet", "--allow-empty", "-m", "test commit")
	runGit(g.t, g.work, "push", "--quiet", "origin", "main")
}

// configMap is the label-bot ConfigMap naming model.
func configMap(model string) string {
	return `apiVersion: v1
kind: ConfigMap
metadata:
  name: label-bot-config # the app reads it
data:
  automl-model: ` + model + `
  other: value
`
}

// testConfig serves a trainer at /needsTrain and a deployer at /needsSync reading package
// "deploy" of repo "app" (remote URL or git-sync dir).
func testConfig(registryURL string, repo RepoConfig) *Config {
	cfg := &Config{
		Registry:             registryURL,
		RegistryRepairPeriod: &metav1.Duration{Duration: time.Hour},
		Repos:                []RepoConfig{repo},
		Routes: []RouteConfig{
			{Path: "/needsTrain", Kind: KindTrainer, Trainer: &TrainerConfig{}},
			{Path: "/needsSync", Kind: KindDeployer, Deployer: &DeployerConfig{Repo: repo.Name, Path: "deploy",
				Selector: setmodel.Selector{Name: "label-bot-config"}}},
		},
	}
	cfg.Default()
	return cfg
}

func remoteRepo(url string, period time.Duration) RepoConfig {
	return RepoConfig{Name: "app", URL: url, Branch: "main", SyncPeriod: &metav1.Duration{Duration: period}}
}

// testServer runs a server for cfg until the test ends and returns its URL.
func testServer(t testing.TB, cfg *Config) (*Server, string) {
	t.Helper()
	s, err := NewServer(cfg, Options{WorkDir: t.TempDir(), RetryPeriod: 10 * time.Millisecond,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		hs.Close()
		cancel()
		<-done
		_ = s.Close()
	})
	return s, hs.URL
}

// waitReady waits until the server is ready.
func waitReady(t testing.TB, s *Server) {
	t.Helper()
	eventually(t, "server ready", func() (bool, string) { return s.Ready(), "not ready" })
}

// eventually polls cond until it holds, failing the test after 20 seconds.
func eventually(t testing.TB, what string, cond func() (bool, string)) {
	t.Helper()
	testutil.Eventually(t, 20*time.Second, func() (bool, string) {
		ok, last := cond()
		return ok, what + "; last: " + last
	})
}

// reply is a decoded lambda answer.
type reply struct {
	code int
	ns   v1alpha1.NeedsSync
	raw  string
}

func get(t testing.TB, url string) reply {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := reply{code: resp.StatusCode, raw: string(body)}
	if err := json.Unmarshal(body, &r.ns); err != nil {
		t.Fatalf("GET %s: body is not JSON: %v\n%s", url, err, body)
	}
	return r
}

// openRegistry opens (creating) a file registry in a temp dir and returns it and its URL.
func openRegistry(t testing.TB) (*registry.Registry, string) {
	t.Helper()
	dir := t.TempDir()
	url := "file://" + filepath.ToSlash(dir)
	r, err := registry.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r, url
}

func publishModel(t testing.TB, r *registry.Registry, id string, created time.Time) {
	t.Helper()
	art := registry.Artifact{Name: "model.bin", Open: func() (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader(id)), nil
	}}
	if err := r.Publish(context.Background(), &registry.Model{ID: id, Created: created}, []registry.Artifact{art}, registry.PublishOptions{}); err != nil {
		t.Fatal(err)
	}
}
