package demo

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
	"github.com/modelsync/modelsync/internal/controller"
	"github.com/modelsync/modelsync/internal/localrun"
	"github.com/modelsync/modelsync/internal/testenv"
	"github.com/modelsync/modelsync/internal/testutil"
)

// TestFailingStepShowsOnModelSync wires the real controller to the local runner: a ModelSync
// whose pipeline has a step that exits 3 gets a failed run, the ModelSync records it as its
// last failed run, and `kubectl modelsync` shows the failure and the step's log.
func TestFailingStepShowsOnModelSync(t *testing.T) {
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	caDir := t.TempDir()
	caFile, err := localrun.NewKubeletCA(caDir)
	if err != nil {
		t.Fatal(err)
	}
	env, err := testenv.StartWith(testenv.Options{APIServerArgs: map[string]string{"kubelet-certificate-authority": caFile}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	ns := env.Namespace(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	lambda := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(automlv1alpha1.NewNeedsSync(true, nil))
	}))
	defer lambda.Close()

	opts := controller.DefaultOptions()
	opts.MetricsAddr, opts.HealthAddr, opts.LeaderElection = "0", "0", false
	opts.RetryBase = time.Second
	mgr, _, err := controller.New(env.Config, opts)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = mgr.Start(ctx) }()
	runner, err := localrun.New(localrun.Options{Config: env.Config, Dir: t.TempDir(), Namespace: ns, KubeletCADir: caDir})
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = runner.Start(ctx) }()

	spec := map[string]any{
		"pipelineSpec": map[string]any{"tasks": []any{map[string]any{
			"name": "build",
			"taskSpec": map[string]any{"steps": []any{
				map[string]any{"name": "fail", "image": "busybox", "script": "#!/bin/sh\necho about to fail\nexit 3\n"},
				map[string]any{"name": "never", "image": "busybox", "script": "#!/bin/sh\necho should not run\n"},
			}},
		}}},
	}
	raw, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	ms := &automlv1alpha1.ModelSync{
		ObjectMeta: metav1.ObjectMeta{Name: "failing", Namespace: ns},
		Spec: automlv1alpha1.ModelSyncSpec{
			NeedsSyncURL:        lambda.URL + "/needsSync",
			PipelineRunTemplate: automlv1alpha1.PipelineRunTemplate{Spec: runtime.RawExtension{Raw: raw}},
		},
	}
	if err := env.Client.Create(ctx, ms); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 2*time.Minute, func() (bool, string) {
		got := &automlv1alpha1.ModelSync{}
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(ms), got); err != nil {
			return false, err.Error()
		}
		f := got.Status.LastFailedRun
		return f != nil && f.Name == "failing-1" && f.Reason == "Failed", "lastFailedRun: " + toJSON(f)
	})

	bin := buildTools(t, root)
	plugin := func(args ...string) string {
		cmd := exec.Command(filepath.Join(bin, "kubectl-modelsync"), append(args, "-n", ns, "--kubeconfig", env.Kubeconfig)...)
		cmd.Env = os.Environ()
		out, _ := cmd.CombinedOutput()
		return string(out)
	}
	if out := plugin("status", "failing"); !strings.Contains(out, "failing-1") || !strings.Contains(out, "Failed") {
		t.Errorf("kubectl modelsync status does not show the failed run:\n%s", out)
	}
	logs := plugin("logs", "failing-1")
	if !strings.Contains(logs, "[build : fail] about to fail") {
		t.Errorf("kubectl modelsync logs lacks the failing step's output:\n%s", logs)
	}
	if strings.Contains(logs, "should not run") {
		t.Errorf("the step after the failing one ran:\n%s", logs)
	}
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
