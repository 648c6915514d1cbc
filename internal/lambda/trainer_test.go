package lambda

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/modelsync/modelsync/internal/registry"
)

// TestTrainerLifecycle walks one trainer through a training: start, in progress, the model
// is published, the next retrain; and a training that never publishes times out.
func TestTrainerLifecycle(t *testing.T) {
	reg, _ := openRegistry(t)
	clock := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	tr := &Trainer{Registry: func(context.Context) (*registry.Registry, error) { return reg, nil }, Key: "ns/trainer",
		RetrainInterval: 24 * time.Hour, TrainingTimeout: 2 * time.Hour, Now: func() time.Time { return clock }}
	reg.SetClock(func() time.Time { return clock })
	ctx := context.Background()
	step := func(name string, want bool) Result {
		t.Helper()
		res, err := tr.Check(ctx)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if res.NeedsSync != want {
			t.Fatalf("%s: needsSync = %v (%s), want %v", name, res.NeedsSync, res.Reason, want)
		}
		return res
	}

	first := step("empty registry", true)
	if first.Parameters[ParamRunID] != "train-20261128-120000" || first.Parameters[ParamDataCutoff] != "2026-11-28T12:00:00Z" {
		t.Errorf("parameters = %v", first.Parameters)
	}
	clock = clock.Add(time.Hour)
	step("training in progress", false)

	// The training publishes its model, after the marker's start: the training is over and
	// the model is fresh.
	publishModel(t, reg, "m1", clock.Add(-30*time.Minute))
	if m, err := reg.GetTraining(ctx, "ns/trainer"); err != nil || !m.Active(clock, nil) || m.Active(clock, &registry.Model{Published: clock}) {
		t.Fatalf("marker = %+v, %v; want active but superseded by the publish", m, err)
	}
	if res := step("fresh model", false); !strings.Contains(res.Reason, "younger than the retrain interval") {
		t.Errorf("reason %q: want the model's age, not the finished training", res.Reason)
	}
	clock = clock.Add(25 * time.Hour)
	second := step("stale model", true)
	if second.Parameters[ParamRunID] == first.Parameters[ParamRunID] {
		t.Errorf("run id reused: %v", second.Parameters)
	}
	clock = clock.Add(time.Hour)
	if res := step("second training in progress", false); !strings.Contains(res.Reason, second.Parameters[ParamRunID]) {
		t.Errorf("reason %q does not name the run", res.Reason)
	}
	// That training never publishes: after the timeout a new one may start.
	clock = clock.Add(2 * time.Hour)
	step("training timed out", true)
}

// TestPointerRepairLoop: a stale newest-model pointer is repaired by the server's loop.
func TestPointerRepairLoop(t *testing.T) {
	reg, regURL := openRegistry(t)
	publishModel(t, reg, "m1", time.Now().Add(-time.Hour))
	publishModel(t, reg, "m2", time.Now())
	// A publish of m2 that stopped after its index entry: the pointer still names m1.
	if err := reg.Bucket().WriteAll(context.Background(), registry.PointerKey,
		[]byte(`{"id":"m1","created":"`+time.Now().Add(-time.Hour).UTC().Format(time.RFC3339Nano)+`"}`), nil); err != nil {
		t.Fatal(err)
	}
	remote := newRemote(t, "")
	remote.commit(map[string]string{"deploy/configmap.yaml": configMap("m1")})
	cfg := testConfig(regURL, remoteRepo(remote.bare, time.Hour))
	cfg.RegistryRepairPeriod = &metav1.Duration{Duration: 20 * time.Millisecond}
	s, url := testServer(t, cfg)
	waitReady(t, s)
	eventually(t, "the pointer repair", answerIs(t, url+"/needsSync", true, "m2"))
	if _, metrics := status(t, url+"/metrics"); !strings.Contains(metrics, "modelsync_lambda_registry_pointer_repairs_total") {
		t.Errorf("no pointer repair counted")
	}
	if code, _ := status(t, url+"/readyz"); code != http.StatusOK {
		t.Errorf("/readyz = %d", code)
	}
}
