package actuation

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/modelsync/modelsync/internal/testenv"
)

// TestInstallWithKptLive follows the README's install commands against a real API server:
// kpt pkg get (from a git repository holding this tree), kpt fn render, kpt live init,
// kpt live install-resource-group, kpt live apply. The control plane is a fresh one whose
// ModelSync CRD is deleted first, so that the package installs it as on a new cluster. The
// apply does not wait for reconciliation (--reconcile-timeout): no kubelet runs here to make
// the controller's Deployment available.
func TestInstallWithKptLive(t *testing.T) {
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cluster, err := testenv.StartWith(testenv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cluster.Stop() })
	ctx := context.Background()
	const crd = "customresourcedefinition.apiextensions.k8s.io/modelsyncs.automl.cloudai.kubeflow.org"
	kubectl := func(args ...string) (string, error) {
		out, err := exec.Command("kubectl", append([]string{"--kubeconfig", cluster.Kubeconfig}, args...)...).CombinedOutput()
		return string(out), err
	}
	if out, err := kubectl("delete", crd, "--wait"); err != nil {
		t.Fatalf("failed to delete the CRD envtest installed: %v\n%s", err, out)
	}

	// A git repository holding this tree's packages, as the published repository would.
	work := t.TempDir()
	seed := filepath.Join(work, "seed")
	if err := os.MkdirAll(filepath.Join(seed, "kpt-packages"), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-R", filepath.Join(root, "kpt-packages", "modelsync"), filepath.Join(seed, "kpt-packages")).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	run(t, seed, "init", "--quiet", "--initial-branch=main")
	run(t, seed, "add", ".")
	run(t, seed, "commit", "--quiet", "-m", "packages")
	repo := filepath.Join(work, "modelsync.git")
	run(t, work, "clone", "--quiet", "--bare", seed, repo)

	kptRun := func(args ...string) (string, error) {
		cmd := exec.Command("kpt", args...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "HOME="+work, "KUBECONFIG="+cluster.Kubeconfig)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	kpt := func(args ...string) string {
		t.Helper()
		out, err := kptRun(args...)
		if err != nil {
			t.Fatalf("kpt %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	kpt("pkg", "get", "file://"+repo+"/kpt-packages/modelsync@main", "modelsync")
	kpt("fn", "render", "modelsync")
	kpt("live", "init", "modelsync")
	kpt("live", "install-resource-group")
	// Everything applies; everything but the Deployment reconciles (no kubelet makes it
	// available), so kpt exits non-zero for that one timeout only.
	apply := func() string {
		t.Helper()
		out, err := kptRun("live", "apply", "modelsync", "--reconcile-timeout=15s")
		if err == nil || !strings.Contains(out, "apply result: 8 attempted, 8 successful, 0 skipped, 0 failed") ||
			!strings.Contains(out, "reconcile result: 8 attempted, 7 successful, 0 skipped, 0 failed, 1 timed out") ||
			!strings.Contains(out, "deployment.apps/modelsync-controller reconcile timeout") {
			t.Fatalf("kpt live apply: %v\n%s", err, out)
		}
		return out
	}
	out := apply()

	// What the package declares is on the API server: the CRD (served), the controller.
	if got, err := kubectl("get", crd, "-o", "name"); err != nil {
		t.Fatalf("the ModelSync CRD is not installed: %v\n%s\n%s", err, got, out)
	}
	deploy := &appsv1.Deployment{}
	if err := cluster.Client.Get(ctx, client.ObjectKey{Namespace: "modelsync-system", Name: "modelsync-controller"}, deploy); err != nil {
		t.Fatalf("the controller Deployment is not installed: %v\n%s", err, out)
	}
	// A second apply is a no-op for the inventory: same objects, nothing pruned.
	if again := apply(); strings.Contains(again, "prune successful") {
		t.Errorf("the second apply pruned something:\n%s", again)
	}
	status := kpt("live", "status", "modelsync", "--poll-until=known", "--timeout=30s")
	for _, want := range []string{"modelsyncs.automl.cloudai.kubeflow.org", "modelsync-controller"} {
		if !strings.Contains(strings.ToLower(status), strings.ToLower(want)) {
			t.Errorf("kpt live status does not list %s:\n%s", want, status)
		}
	}
}
