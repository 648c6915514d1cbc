package lambda

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelsync/modelsync/internal/registry"
)

// answerIs returns a condition for eventually: GET url answers 200 with needsSync and,
// when name is set, parameters.name == name.
func answerIs(t *testing.T, url string, needs bool, name string) func() (bool, string) {
	return func() (bool, string) {
		r := get(t, url)
		ok := r.code == http.StatusOK && r.ns.NeedsSync == needs && (name == "" || r.ns.Parameters[ParamName] == name)
		return ok, r.raw
	}
}

func TestFreshness(t *testing.T) {
	reg, regURL := openRegistry(t)
	publishModel(t, reg, "m1", time.Now().Add(-time.Hour))
	remote := newRemote(t, "")
	remote.commit(map[string]string{"deploy/configmap.yaml": configMap("m1")})
	s, url := testServer(t, testConfig(regURL, remoteRepo(remote.bare, 50*time.Millisecond)))
	waitReady(t, s)
	expectAnswer(t, get(t, url+"/needsSync"), false, map[string]string{ParamName: "m1"})
	expectAnswer(t, get(t, url+"/needsTrain"), false, nil)

	// A model being uploaded (artifacts, no model.json yet) is not the newest.
	if err := reg.Bucket().WriteAll(context.Background(), registry.ModelsPrefix+"m3/model.bin", []byte("w"), nil); err != nil {
		t.Fatal(err)
	}
	expectAnswer(t, get(t, url+"/needsSync"), false, map[string]string{ParamName: "m1"})

	// A newly published model is seen by the next answer (the registry is not cached).
	publishModel(t, reg, "m2", time.Now())
	expectAnswer(t, get(t, url+"/needsSync"), true, map[string]string{ParamName: "m2"})

	// Merging the deployment into git turns the answer false after a sync period.
	remote.commit(map[string]string{"deploy/configmap.yaml": configMap("m2")})
	eventually(t, "deployer to see the new commit", answerIs(t, url+"/needsSync", false, "m2"))
}

func TestBrokenRepoURL(t *testing.T) {
	reg, regURL := openRegistry(t)
	publishModel(t, reg, "m1", time.Now())
	bare := filepath.Join(t.TempDir(), "not-yet.git")
	s, url := testServer(t, testConfig(regURL, remoteRepo(bare, 50*time.Millisecond)))

	eventually(t, "a sync error in the answer", func() (bool, string) {
		r := get(t, url+"/needsSync")
		return r.code == http.StatusInternalServerError && len(r.ns.Errors) == 1 &&
			strings.Contains(r.ns.Errors[0], "repo app"), r.raw
	})
	expectError(t, get(t, url+"/needsSync"), "repo app")
	if code, body := status(t, url+"/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "repo app") {
		t.Errorf("/readyz = %d %q, want 503 naming the repo", code, body)
	}
	// The trainer does not depend on git and keeps answering.
	expectAnswer(t, get(t, url+"/needsTrain"), false, nil)

	// The remote appears: the server recovers on its own.
	remote := newRemote(t, bare)
	remote.commit(map[string]string{"deploy/configmap.yaml": configMap("m0")})
	eventually(t, "recovery from the broken URL", answerIs(t, url+"/needsSync", true, "m1"))
	waitReady(t, s)
	if code, _ := status(t, url+"/readyz"); code != http.StatusOK {
		t.Errorf("/readyz = %d after recovery", code)
	}
}

func TestUnreadableBucket(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bucket")
	regURL := "file://" + filepath.ToSlash(dir)
	remote := newRemote(t, "")
	remote.commit(map[string]string{"deploy/configmap.yaml": configMap("m0")})
	s, url := testServer(t, testConfig(regURL, remoteRepo(remote.bare, time.Hour)))

	// The bucket does not exist at start-up.
	expectError(t, get(t, url+"/needsTrain"), "registry")
	eventually(t, "the repo to be cloned", func() (bool, string) {
		r := get(t, url+"/needsSync")
		return !strings.Contains(r.raw, "not been fetched"), r.raw
	})
	expectError(t, get(t, url+"/needsSync"), "registry")
	if code, _ := status(t, url+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz = %d without a bucket, want 503", code)
	}

	// It appears with a model: both routes recover.
	reg, err := registry.Create(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = reg.Close() }()
	publishModel(t, reg, "m1", time.Now())
	waitReady(t, s)
	expectAnswer(t, get(t, url+"/needsSync"), true, map[string]string{ParamName: "m1"})
	expectAnswer(t, get(t, url+"/needsTrain"), false, nil)

	// It disappears after start-up: errors, not an empty registry (which would start a training).
	moved := dir + ".moved"
	if err := os.Rename(dir, moved); err != nil {
		t.Fatal(err)
	}
	expectError(t, get(t, url+"/needsTrain"), "not accessible")
	expectError(t, get(t, url+"/needsSync"), "not accessible")
	if err := os.Rename(moved, dir); err != nil {
		t.Fatal(err)
	}
	expectAnswer(t, get(t, url+"/needsSync"), true, map[string]string{ParamName: "m1"})
}

func TestDeletedCheckout(t *testing.T) {
	remote := newRemote(t, "")
	remote.commit(map[string]string{"deploy/configmap.yaml": configMap("m1")})
	workDir := t.TempDir()
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	c := NewCheckout(remoteRepo(remote.bare, time.Hour), workDir, log)
	ctx := context.Background()
	if _, _, err := c.Acquire(); err == nil || !strings.Contains(err.Error(), "not been fetched") {
		t.Fatalf("Acquire before the first sync: %v", err)
	}
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	model := func() string {
		t.Helper()
		snap, release, err := c.Acquire()
		if err != nil {
			t.Fatal(err)
		}
		defer release()
		data, err := os.ReadFile(filepath.Join(snap.Root, "deploy", "configmap.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	if !strings.Contains(model(), "automl-model: m1") {
		t.Fatalf("checkout = %s", model())
	}
	if err := os.RemoveAll(filepath.Join(workDir, "app")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Acquire(); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("Acquire of a deleted checkout: %v", err)
	}
	remote.commit(map[string]string{"deploy/configmap.yaml": configMap("m2")})
	if err := c.Sync(ctx); err != nil {
		t.Fatalf("Sync after deletion: %v", err)
	}
	if !strings.Contains(model(), "automl-model: m2") {
		t.Errorf("checkout after re-clone = %s", model())
	}

	// Through a running server: the checkout disappears and comes back within a period.
	reg, regURL := openRegistry(t)
	publishModel(t, reg, "m2", time.Now())
	s, url := testServer(t, testConfig(regURL, remoteRepo(remote.bare, 50*time.Millisecond)))
	waitReady(t, s)
	expectAnswer(t, get(t, url+"/needsSync"), false, map[string]string{ParamName: "m2"})
	if err := os.RemoveAll(filepath.Join(s.opts.WorkDir, "app")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the checkout to be cloned again", answerIs(t, url+"/needsSync", false, "m2"))
}

func TestGitSyncDir(t *testing.T) {
	reg, regURL := openRegistry(t)
	publishModel(t, reg, "m2", time.Now())
	// git-sync's layout: root/<link> is a symlink to the current worktree, swapped atomically.
	root := t.TempDir()
	worktree := func(name, model string) string {
		d := filepath.Join(root, name, "deploy")
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "configmap.yaml"), []byte(configMap(model)), 0o644); err != nil {
			t.Fatal(err)
		}
		return filepath.Join(root, name)
	}
	link := filepath.Join(root, "current")
	swap := func(target string) {
		tmp := link + ".tmp"
		if err := os.Symlink(target, tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, link); err != nil {
			t.Fatal(err)
		}
	}
	swap(worktree("rev1", "m1"))
	s, url := testServer(t, testConfig(regURL, RepoConfig{Name: "app", Dir: link}))
	waitReady(t, s)
	expectAnswer(t, get(t, url+"/needsSync"), true, map[string]string{ParamName: "m2"})
	swap(worktree("rev2", "m2"))
	expectAnswer(t, get(t, url+"/needsSync"), false, map[string]string{ParamName: "m2"})
	if err := os.Remove(link); err != nil {
		t.Fatal(err)
	}
	expectError(t, get(t, url+"/needsSync"), "failed to read checkout")
	swap(filepath.Join(root, "rev1"))
	expectAnswer(t, get(t, url+"/needsSync"), true, map[string]string{ParamName: "m2"})
}

func status(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestHTTP(t *testing.T) {
	reg, regURL := openRegistry(t)
	publishModel(t, reg, "m1", time.Now())
	remote := newRemote(t, "")
	remote.commit(map[string]string{"deploy/configmap.yaml": configMap("m0")})
	s, url := testServer(t, testConfig(regURL, remoteRepo(remote.bare, time.Hour)))
	waitReady(t, s)
	expectAnswer(t, get(t, url+"/needsSync"), true, map[string]string{ParamName: "m1"})

	resp, err := http.Post(url+"/needsSync", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /needsSync = %d, want 405", resp.StatusCode)
	}
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/nope": 404} {
		if code, _ := status(t, url+path); code != want {
			t.Errorf("GET %s = %d, want %d", path, code, want)
		}
	}
	_, metrics := status(t, url+"/metrics")
	for _, want := range []string{
		`modelsync_lambda_answers_total{result="true",route="/needsSync"} 1`,
		`modelsync_lambda_repo_syncs_total{repo="app",result="ok"}`,
		`modelsync_lambda_ready 1`,
		fmt.Sprintf(`modelsync_lambda_check_duration_seconds_count{route=%q} 1`, "/needsSync"),
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
