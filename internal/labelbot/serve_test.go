package labelbot

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// writeModel trains a small model and writes its folder to dir.
func writeModel(t testing.TB, dir, id string, seed uint64) *Classifier {
	t.Helper()
	res, err := Train(generate(t, 3000, seed), TrainOptions{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := WriteModelDir(dir, res, ModelInfo{ID: id, Created: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	return res.Classifier
}

// configMapMount lays out a directory the way the kubelet mounts a ConfigMap: the key is a
// symlink into ..data, itself a symlink to a timestamped folder that is swapped atomically.
type configMapMount struct {
	t   testing.TB
	dir string
	n   int
}

func (m *configMapMount) set(value string) {
	m.t.Helper()
	m.n++
	ts := filepath.Join(m.dir, fmt.Sprintf("..2026_01_01_00_00_%02d", m.n))
	must(m.t, os.Mkdir(ts, 0o755))
	must(m.t, os.WriteFile(filepath.Join(ts, "automl-model"), []byte(value), 0o644))
	must(m.t, os.Symlink(filepath.Base(ts), filepath.Join(m.dir, "..data_tmp")))
	must(m.t, os.Rename(filepath.Join(m.dir, "..data_tmp"), filepath.Join(m.dir, "..data")))
	if _, err := os.Lstat(filepath.Join(m.dir, "automl-model")); os.IsNotExist(err) {
		must(m.t, os.Symlink("..data/automl-model", filepath.Join(m.dir, "automl-model")))
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func postPredict(client *http.Client, url, title, body string) (*PredictResponse, int, error) {
	b, _ := json.Marshal(PredictRequest{Title: title, Body: body})
	resp, err := client.Post(url+"/predict", "application/json", bytes.NewReader(b))
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	var pr PredictResponse
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		return nil, resp.StatusCode, fmt.Errorf("status %d: %s", resp.StatusCode, msg)
	}
	if err := json.NewDecoder(resp.Body).Decode(&pr); err != nil {
		return nil, resp.StatusCode, err
	}
	return &pr, resp.StatusCode, nil
}

// The served model follows the id file, under a steady load of concurrent requests, and not
// one request fails; each answer is the prediction of the model it names.
func TestServeHotReload(t *testing.T) {
	root := t.TempDir()
	models := map[string]*Classifier{
		"model-a": writeModel(t, filepath.Join(root, "dir", "model-a"), "model-a", 1),
		"model-b": writeModel(t, filepath.Join(root, "dir", "model-b"), "model-b", 2),
	}
	for id := range models {
		must(t, os.MkdirAll(filepath.Join(root, "bucket", "models"), 0o755))
		must(t, os.CopyFS(filepath.Join(root, "bucket", "models", id), os.DirFS(filepath.Join(root, "dir", id))))
	}
	bucket, err := OpenBucketSource(context.Background(), "file://"+filepath.ToSlash(filepath.Join(root, "bucket")))
	must(t, err)
	defer bucket.Close()

	tests := []struct {
		name string
		src  ModelSource
	}{
		{name: "model-dir", src: DirSource{Dir: filepath.Join(root, "dir")}},
		{name: "registry-bucket", src: bucket},
	}
	const title, body = "crash when saving", "the app hangs then panic with a traceback on save slow"
	for id, c := range models {
		if len(c.Predict(title, body)) == 0 {
			t.Fatalf("model %s predicts no label for the test request; the answer check would be empty", id)
		}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mount := &configMapMount{t: t, dir: t.TempDir()}
			mount.set("model-a\n")
			s, err := NewServer(ServerOptions{Source: tc.src, IDFile: filepath.Join(mount.dir, "automl-model"), Poll: 5 * time.Millisecond})
			must(t, err)
			must(t, s.Refresh(context.Background()))
			srv := httptest.NewServer(s.Handler())
			defer srv.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go s.Run(ctx)

			var (
				stop          atomic.Bool
				total, failed atomic.Int64
				wg            sync.WaitGroup
				mu            sync.Mutex
				seen          = map[string]int{}
				firstFailure  error
			)
			for range 8 {
				wg.Go(func() {
					for !stop.Load() {
						pr, _, err := postPredict(srv.Client(), srv.URL, title, body)
						total.Add(1)
						if err == nil {
							if want := models[pr.Model].Predict(title, body); fmt.Sprint(want) != fmt.Sprint(pr.Labels) {
								err = fmt.Errorf("model %s answered %v, want %v", pr.Model, pr.Labels, want)
							}
						}
						mu.Lock()
						if err != nil {
							failed.Add(1)
							firstFailure = cmpErr(firstFailure, err)
						} else {
							seen[pr.Model]++
						}
						mu.Unlock()
					}
				})
			}
			for _, id := range []string{"model-b", "model-a", "model-b"} {
				mount.set(id)
				deadline := time.Now().Add(10 * time.Second)
				for s.Current().Manifest.ID != id {
					if time.Now().After(deadline) {
						t.Fatalf("the server did not switch to %s", id)
					}
					time.Sleep(2 * time.Millisecond)
				}
				time.Sleep(50 * time.Millisecond)
			}
			stop.Store(true)
			wg.Wait()
			t.Logf("%d requests, %d failed, per model %v", total.Load(), failed.Load(), seen)
			if failed.Load() > 0 {
				t.Fatalf("%d of %d requests failed; first: %v", failed.Load(), total.Load(), firstFailure)
			}
			if seen["model-a"] == 0 || seen["model-b"] == 0 {
				t.Errorf("answers per model %v: want both models to have served", seen)
			}
			metrics := get(t, srv.URL+"/metrics")
			for _, want := range []string{`labelbot_model_loads_total{result="success"} 4`, `labelbot_model_info{id="model-b"} 1`} {
				if !strings.Contains(metrics, want) {
					t.Errorf("/metrics lacks %q", want)
				}
			}
		})
	}
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

func get(t testing.TB, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	must(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	must(t, err)
	return string(b)
}

// A model that cannot be loaded leaves the current one in service, says why, and is retried.
func TestServeBadModelKeepsCurrent(t *testing.T) {
	root := t.TempDir()
	writeModel(t, filepath.Join(root, "good"), "good", 1)
	must(t, os.MkdirAll(filepath.Join(root, "corrupt"), 0o755))
	must(t, os.CopyFS(filepath.Join(root, "corrupt"), os.DirFS(filepath.Join(root, "good"))))
	manifest, _ := os.ReadFile(filepath.Join(root, "good", "model.json"))
	must(t, os.WriteFile(filepath.Join(root, "corrupt", "model.json"), bytes.Replace(manifest, []byte(`"id": "good"`), []byte(`"id": "corrupt"`), 1), 0o644))
	must(t, os.WriteFile(filepath.Join(root, "corrupt", ClassifierFile), []byte(`{"format":"labelbot.classifier/v0"}`), 0o644))
	must(t, os.MkdirAll(filepath.Join(root, "other-id"), 0o755))
	must(t, os.CopyFS(filepath.Join(root, "other-id"), os.DirFS(filepath.Join(root, "good"))))

	mount := &configMapMount{t: t, dir: t.TempDir()}
	mount.set("good")
	s, err := NewServer(ServerOptions{Source: DirSource{Dir: root}, IDFile: filepath.Join(mount.dir, "automl-model")})
	must(t, err)
	must(t, s.Refresh(context.Background()))
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	tests := []struct {
		id      string
		wantErr string
	}{
		{id: "missing", wantErr: "failed to read model.json: open model.json: no such file or directory"},
		{id: "corrupt", wantErr: `invalid classifier.json: field format is "labelbot.classifier/v0", want "labelbot.classifier/v1"`},
		{id: "other-id", wantErr: `invalid model.json: field id is "good", want "other-id"`},
		{id: "../good", wantErr: `model id "../good" is not a clean relative name`},
		{id: "  ", wantErr: "is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			mount.set(tc.id)
			err := s.Refresh(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Refresh error = %v, want it to contain %q", err, tc.wantErr)
			}
			if pr, _, err := postPredict(srv.Client(), srv.URL, "crash", "panic"); err != nil || pr.Model != "good" {
				t.Fatalf("after a bad reload: %+v, %v; want answers from model good", pr, err)
			}
		})
	}
	if m := get(t, srv.URL+"/metrics"); !strings.Contains(m, `labelbot_model_loads_total{result="failure"} 5`) {
		t.Errorf("/metrics does not count the 5 failed loads:\n%s", m)
	}
}

func TestServeRequests(t *testing.T) {
	root := t.TempDir()
	writeModel(t, root, "m1", 1)
	loaded, err := NewServer(ServerOptions{Source: DirSource{Dir: root}})
	must(t, err)
	must(t, loaded.Refresh(context.Background()))
	empty, err := NewServer(ServerOptions{Source: DirSource{Dir: t.TempDir()}})
	must(t, err)

	tests := []struct {
		name     string
		server   *Server
		method   string
		path     string
		body     string
		wantCode int
		wantBody string
	}{
		{"predict", loaded, "POST", "/predict", `{"title":"docs typo","body":"the readme guide has a spelling mistake"}`, 200, `"model":"m1","labels":[{"label":"documentation"`},
		{"get-predict", loaded, "GET", "/predict", "", 405, "use POST"},
		{"invalid-json", loaded, "POST", "/predict", `{"title":`, 400, "invalid request body"},
		{"unknown-field", loaded, "POST", "/predict", `{"titel":"x"}`, 400, `unknown field \"titel\"`},
		{"empty-text", loaded, "POST", "/predict", `{"title":" ","body":""}`, 400, "fields title and body are both empty"},
		{"healthz", loaded, "GET", "/healthz", "", 200, `"model":"m1"`},
		{"no-model-predict", empty, "POST", "/predict", `{"title":"x"}`, 503, "no model loaded"},
		{"no-model-healthz", empty, "GET", "/healthz", "", 503, "no model loaded"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			tc.server.Handler().ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body)))
			if rec.Code != tc.wantCode || !strings.Contains(rec.Body.String(), tc.wantBody) {
				t.Errorf("got %d %s; want %d with %s", rec.Code, rec.Body.String(), tc.wantCode, tc.wantBody)
			}
		})
	}
}
