package lambda

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/modelsync/modelsync/api/v1alpha1"
	"github.com/modelsync/modelsync/internal/registry"
)

// TestMatrix runs every (registry state) x (git state) combination through both routes of
// a real server: a file registry, a bare git repo cloned by the server with the git CLI.
func TestMatrix(t *testing.T) {
	now := time.Now().UTC()
	registryStates := []struct {
		name  string
		setup func(t *testing.T, r *registry.Registry)
		// newest is the newest model id ("" for none); train is the trainer's answer.
		newest string
		train  bool
	}{
		{name: "no-model", train: true, setup: func(*testing.T, *registry.Registry) {}},
		{name: "fresh", newest: "m-fresh", setup: func(t *testing.T, r *registry.Registry) {
			publishModel(t, r, "m-old", now.Add(-72*time.Hour))
			publishModel(t, r, "m-fresh", now.Add(-time.Hour))
		}},
		{name: "stale", newest: "m-stale", train: true, setup: func(t *testing.T, r *registry.Registry) {
			publishModel(t, r, "m-stale", now.Add(-48*time.Hour))
		}},
		{name: "training", newest: "m-stale", setup: func(t *testing.T, r *registry.Registry) {
			publishModel(t, r, "m-stale", now.Add(-48*time.Hour))
			err := r.StartTraining(context.Background(), registry.Training{Key: "/needsTrain", RunID: "train-x",
				Started: time.Now().UTC(), Deadline: now.Add(time.Hour)}) // after the publish

			if err != nil {
				t.Fatal(err)
			}
		}},
	}
	gitStates := []struct {
		name  string
		files func(newest string) map[string]string
		// match: git names the newest model; wantErr: the deployer must fail with this text.
		match   bool
		wantErr string
	}{
		{name: "matches", match: true, files: func(newest string) map[string]string {
			if newest == "" {
				newest = "m-none"
			}
			return map[string]string{"deploy/configmap.yaml": configMap(newest)}
		}},
		{name: "differs", files: func(string) map[string]string {
			return map[string]string{"deploy/configmap.yaml": configMap("m-deployed-long-ago")}
		}},
		{name: "missing", wantErr: "matches nothing", files: func(string) map[string]string {
			return map[string]string{"deploy/service.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n"}
		}},
		{name: "unparsable", wantErr: "deploy/configmap.yaml", files: func(string) map[string]string {
			return map[string]string{"deploy/configmap.yaml": "apiVersion: v1\nkind: ConfigMap\ndata: [unclosed\n"}
		}},
	}
	for _, rs := range registryStates {
		for _, gs := range gitStates {
			t.Run(rs.name+"/"+gs.name, func(t *testing.T) {
				reg, regURL := openRegistry(t)
				rs.setup(t, reg)
				remote := newRemote(t, "")
				remote.commit(gs.files(rs.newest))
				s, url := testServer(t, testConfig(regURL, remoteRepo(remote.bare, time.Hour)))
				waitReady(t, s)

				dep := get(t, url+"/needsSync")
				switch {
				case gs.wantErr != "":
					expectError(t, dep, gs.wantErr)
				case rs.newest == "":
					expectAnswer(t, dep, false, nil)
				default:
					expectAnswer(t, dep, !gs.match, map[string]string{ParamName: rs.newest})
				}

				train := get(t, url+"/needsTrain")
				if train.code != http.StatusOK || train.ns.NeedsSync != rs.train {
					t.Fatalf("/needsTrain = %d %s, want needsSync %v", train.code, train.raw, rs.train)
				}
				if rs.train {
					if train.ns.Parameters[ParamRunID] == "" || train.ns.Parameters[ParamDataCutoff] == "" {
						t.Errorf("/needsTrain parameters = %v, want runId and dataCutoff", train.ns.Parameters)
					}
					// The true answer started a training: the next answer must not start another.
					if again := get(t, url+"/needsTrain"); again.ns.NeedsSync || !strings.Contains(again.raw, "in progress") {
						t.Errorf("second /needsTrain = %s, want false while training is in progress", again.raw)
					}
				}
			})
		}
	}
}

func expectAnswer(t *testing.T, r reply, needs bool, params map[string]string) {
	t.Helper()
	if r.code != http.StatusOK {
		t.Fatalf("status %d, body %s", r.code, r.raw)
	}
	if _, err := v1alpha1.ParseNeedsSync([]byte(r.raw)); err != nil {
		t.Fatalf("answer does not follow the protocol: %v\n%s", err, r.raw)
	}
	if r.ns.NeedsSync != needs {
		t.Errorf("needsSync = %v, want %v (%s)", r.ns.NeedsSync, needs, r.raw)
	}
	if len(r.ns.Parameters) != len(params) {
		t.Errorf("parameters = %v, want %v", r.ns.Parameters, params)
	}
	for k, v := range params {
		if r.ns.Parameters[k] != v {
			t.Errorf("parameters[%s] = %q, want %q", k, r.ns.Parameters[k], v)
		}
	}
}

func expectError(t *testing.T, r reply, want string) {
	t.Helper()
	if r.code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500; body %s", r.code, r.raw)
	}
	if r.ns.Kind != v1alpha1.NeedsSyncKind || r.ns.APIVersion != v1alpha1.NeedsSyncAPIVersion || r.ns.NeedsSync {
		t.Errorf("error answer does not follow the protocol: %s", r.raw)
	}
	if len(r.ns.Errors) != 1 || !strings.Contains(r.ns.Errors[0], want) {
		t.Errorf("errors = %q, want one containing %q", r.ns.Errors, want)
	}
	if _, err := v1alpha1.ParseNeedsSync([]byte(r.raw)); err == nil {
		t.Errorf("ParseNeedsSync accepted an error answer")
	}
}
