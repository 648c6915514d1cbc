// Package actuation tests the shipped kpt packages and Tekton pipelines: rendered with the real
// kpt, applied to the real API server with the Tekton CRDs, and the update-model-pr steps run
// on this machine against real git repositories and the loopback GitHub API.
package actuation

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/modelsync/modelsync/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

// packagesDir is kpt-packages at the repository root.
func packagesDir(t testing.TB) string {
	t.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "kpt-packages")
}

// ensureNamespace creates a namespace the packages name, once per test binary.
func ensureNamespace(t testing.TB, name string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := env.Client.Create(context.Background(), ns); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("failed to create namespace %s: %v", name, err)
	}
}

// binDir builds the binaries the packages and pipelines run into a directory for the PATH:
// modelsync-pr from this module, set-automl-model from $SET_AUTOML_MODEL or ./fn/set-automl-model.
// It skips the test, saying why, when set-automl-model is not available.
func binDir(t testing.TB) string {
	t.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	build := func(out, pkg string) {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, out), pkg)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("failed to build %s: %v\n%s", pkg, err, b)
		}
	}
	build("modelsync-pr", "./cmd/modelsync-pr")
	switch bin := os.Getenv("SET_AUTOML_MODEL"); {
	case bin != "":
		if err := os.Symlink(bin, filepath.Join(dir, "set-automl-model")); err != nil {
			t.Fatal(err)
		}
	case exists(filepath.Join(root, "fn", "set-automl-model", "main.go")):
		build("set-automl-model", "./fn/set-automl-model")
	default:
		t.Skip("set-automl-model is not in this tree (issue 4) and $SET_AUTOML_MODEL is unset")
	}
	return dir
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
