package registry

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func openTemp(t testing.TB) (*Registry, string) {
	t.Helper()
	dir := t.TempDir()
	r, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r, dir
}

func content(s string) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(s)), nil }
}

func publish(t testing.TB, r *Registry, id string, created time.Time, files ...string) {
	t.Helper()
	var arts []Artifact
	for _, f := range files {
		arts = append(arts, Artifact{Name: f, Open: content("data of " + f)})
	}
	m := &Model{ID: id, Created: created}
	if err := r.Publish(context.Background(), m, arts, PublishOptions{}); err != nil {
		t.Fatal(err)
	}
}

func newestID(t *testing.T, get func(context.Context) (*Model, error)) string {
	t.Helper()
	m, err := get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if m == nil {
		return ""
	}
	return m.ID
}

func TestNewest(t *testing.T) {
	type model struct {
		id      string
		created time.Time
	}
	tests := []struct {
		name   string
		models []model
		// halfPublished are folders with artifacts and no manifest.
		halfPublished []string
		// dangling are index entries whose model folder was removed.
		dangling []model
		want     string
	}{
		{name: "empty"},
		{name: "one", models: []model{{"m1", t0}}, want: "m1"},
		{name: "by created, not by publish order or name",
			models: []model{{"b", t0.Add(2 * time.Hour)}, {"c", t0}, {"a", t0.Add(time.Hour)}}, want: "b"},
		{name: "tie broken by id", models: []model{{"y", t0}, {"x", t0}}, want: "x"},
		{name: "ids with slashes",
			models: []model{{"projects/1/models/A", t0}, {"projects/1/models/B", t0.Add(time.Minute)}}, want: "projects/1/models/B"},
		{name: "half-published model is never newest",
			models: []model{{"old", t0}}, halfPublished: []string{"newer"}, want: "old"},
		{name: "only half-published", halfPublished: []string{"x"}},
		{name: "dangling index entry skipped",
			models: []model{{"old", t0}}, dangling: []model{{"gone", t0.Add(time.Hour)}}, want: "old"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, dir := openTemp(t)
			ctx := context.Background()
			for _, m := range tt.models {
				publish(t, r, m.id, m.created, "model.bin")
			}
			for _, id := range tt.halfPublished {
				if err := r.Bucket().WriteAll(ctx, ModelsPrefix+id+"/model.bin", []byte("x"), nil); err != nil {
					t.Fatal(err)
				}
			}
			for _, m := range tt.dangling {
				publish(t, r, m.id, m.created, "model.bin")
				if err := os.RemoveAll(filepath.Join(dir, "models", m.id)); err != nil {
					t.Fatal(err)
				}
			}
			if got := newestID(t, r.Newest); got != tt.want {
				t.Errorf("Newest = %q, want %q", got, tt.want)
			}
			if got := newestID(t, r.NewestByListing); got != tt.want {
				t.Errorf("NewestByListing = %q, want %q", got, tt.want)
			}
			models, err := r.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(models) != len(tt.models) {
				t.Errorf("List returned %d models, want %d", len(models), len(tt.models))
			}
		})
	}
}

func TestPublishManifest(t *testing.T) {
	r, _ := openTemp(t)
	ctx := context.Background()
	m := &Model{ID: "m1", DisplayName: "first", Created: t0,
		Lineage: Lineage{PipelineRun: "ns/train-1", CodeRevision: "abc"}}
	arts := []Artifact{{Name: "sub/weights.bin", Open: content("w")}, {Name: "labels.txt", Open: content("l")}}
	if err := r.Publish(ctx, m, arts, PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := r.Get(ctx, "m1")
	if err != nil {
		t.Fatal(err)
	}
	if got.DisplayName != "first" || !got.Created.Equal(t0) || got.Lineage.CodeRevision != "abc" || got.Published.IsZero() {
		t.Errorf("Get = %+v", got)
	}
	if strings.Join(got.Files, ",") != "labels.txt,sub/weights.bin" {
		t.Errorf("Files = %v", got.Files)
	}
	data, err := r.Bucket().ReadAll(ctx, ModelsPrefix+"m1/sub/weights.bin")
	if err != nil || string(data) != "w" {
		t.Errorf("artifact = %q, %v", data, err)
	}
	if _, err := r.Get(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(nope) error = %v, want ErrNotFound", err)
	}
	// Publishing again needs Replace.
	if err := r.Publish(ctx, &Model{ID: "m1", Created: t0}, nil, PublishOptions{}); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second publish error = %v", err)
	}
	if err := r.Publish(ctx, &Model{ID: "m1", Created: t0.Add(time.Hour)}, nil, PublishOptions{Replace: true}); err != nil {
		t.Errorf("replace: %v", err)
	}
}

func TestPublishErrors(t *testing.T) {
	failing := func() (io.ReadCloser, error) { return nil, errors.New("disk on fire") }
	tests := []struct {
		name    string
		model   Model
		arts    []Artifact
		wantErr string
	}{
		{"empty id", Model{Created: t0}, nil, "model id is empty"},
		{"bad id", Model{ID: "a/../b", Created: t0}, nil, "not a clean relative name"},
		{"no created", Model{ID: "m"}, nil, "created is not set"},
		{"artifact escapes", Model{ID: "m", Created: t0}, []Artifact{{Name: "../x", Open: content("")}}, "not a clean relative path"},
		{"artifact named model.json", Model{ID: "m", Created: t0}, []Artifact{{Name: "a/model.json", Open: content("")}}, "reserved for the manifest"},
		{"duplicate artifact", Model{ID: "m", Created: t0}, []Artifact{{Name: "a", Open: content("")}, {Name: "a", Open: content("")}}, "listed twice"},
		{"artifact upload fails", Model{ID: "m", Created: t0}, []Artifact{{Name: "ok", Open: content("")}, {Name: "bad", Open: failing}}, "disk on fire"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := openTemp(t)
			err := r.Publish(context.Background(), &tt.model, tt.arts, PublishOptions{})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
			}
			// Nothing visible: no manifest, no newest.
			if got := newestID(t, r.Newest); got != "" {
				t.Errorf("Newest after a failed publish = %q", got)
			}
		})
	}
}

func TestReindex(t *testing.T) {
	r, dir := openTemp(t)
	ctx := context.Background()
	publish(t, r, "a", t0)
	publish(t, r, "b", t0.Add(time.Hour))
	publish(t, r, "gone", t0.Add(3*time.Hour))
	if err := os.RemoveAll(filepath.Join(dir, "models", "gone")); err != nil {
		t.Fatal(err)
	}
	// A publish interrupted after its manifest: c is newest but not indexed.
	publish(t, r, "c", t0.Add(2*time.Hour))
	if err := r.Bucket().Delete(ctx, IndexKey("c", t0.Add(2*time.Hour))); err != nil {
		t.Fatal(err)
	}
	if err := r.writePointer(ctx, &Model{ID: "b", Created: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if got := newestID(t, r.Newest); got != "b" {
		t.Fatalf("Newest before reindex = %q, want the stale answer b", got)
	}
	res, err := r.Reindex(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res != (ReindexResult{Models: 3, Added: 1, Removed: 1}) {
		t.Errorf("Reindex = %+v", res)
	}
	if got := newestID(t, r.Newest); got != "c" {
		t.Errorf("Newest after reindex = %q, want c", got)
	}
	if res, _ := r.Reindex(ctx); res.Added+res.Removed != 0 {
		t.Errorf("second Reindex changed %+v", res)
	}
}

func TestNewestFallsBackToListing(t *testing.T) {
	r, dir := openTemp(t)
	publish(t, r, "a", t0)
	publish(t, r, "b", t0.Add(time.Hour))
	if err := os.RemoveAll(filepath.Join(dir, "index")); err != nil {
		t.Fatal(err)
	}
	if got := newestID(t, r.NewestByIndex); got != "" {
		t.Fatalf("NewestByIndex without an index = %q", got)
	}
	if got := newestID(t, r.Newest); got != "b" {
		t.Errorf("Newest = %q, want b from the listing", got)
	}
}

func TestPointer(t *testing.T) {
	r, _ := openTemp(t)
	ctx := context.Background()
	publish(t, r, "new", t0.Add(time.Hour))
	publish(t, r, "old", t0) // published later, created earlier: the pointer stays
	if got := newestID(t, r.Newest); got != "new" {
		t.Fatalf("Newest = %q, want new", got)
	}
	// Two racing publishes left the older model in the pointer.
	if err := r.writePointer(ctx, &Model{ID: "old", Created: t0}); err != nil {
		t.Fatal(err)
	}
	if got := newestID(t, r.Newest); got != "old" {
		t.Fatalf("Newest with a stale pointer = %q; the fast path should trust it", got)
	}
	changed, err := r.SyncPointer(ctx)
	if err != nil || !changed {
		t.Fatalf("SyncPointer = %v, %v; want a change", changed, err)
	}
	if got := newestID(t, r.Newest); got != "new" {
		t.Errorf("Newest after SyncPointer = %q, want new", got)
	}
	if changed, err := r.SyncPointer(ctx); err != nil || changed {
		t.Errorf("second SyncPointer = %v, %v; want no change", changed, err)
	}
	// A corrupt pointer is ignored.
	if err := r.Bucket().WriteAll(ctx, PointerKey, []byte("{"), nil); err != nil {
		t.Fatal(err)
	}
	if got := newestID(t, r.Newest); got != "new" {
		t.Errorf("Newest with a corrupt pointer = %q, want new", got)
	}
}

func TestTraining(t *testing.T) {
	r, _ := openTemp(t)
	ctx := context.Background()
	key := "ns/trainer"
	if tr, err := r.GetTraining(ctx, key); err != nil || tr != nil {
		t.Fatalf("GetTraining on empty = %v, %v", tr, err)
	}
	tr := Training{Key: key, RunID: "run-1", Started: t0, Deadline: t0.Add(time.Hour)}
	if err := r.StartTraining(ctx, tr); err != nil {
		t.Fatal(err)
	}
	got, err := r.GetTraining(ctx, key)
	if err != nil || got == nil || got.RunID != "run-1" {
		t.Fatalf("GetTraining = %+v, %v", got, err)
	}
	tests := []struct {
		name   string
		now    time.Time
		newest *Model
		want   bool
	}{
		{"running", t0.Add(time.Minute), nil, true},
		{"past deadline", t0.Add(time.Hour), nil, false},
		{"older model", t0.Add(time.Minute), &Model{Published: t0.Add(-time.Hour)}, true},
		{"published since", t0.Add(time.Minute), &Model{Published: t0.Add(time.Second)}, false},
	}
	for _, tt := range tests {
		if a := got.Active(tt.now, tt.newest); a != tt.want {
			t.Errorf("%s: Active = %v, want %v", tt.name, a, tt.want)
		}
	}
	if err := r.FinishTraining(ctx, key, "run-2"); err == nil {
		t.Error("FinishTraining of another run succeeded")
	}
	if err := r.FinishTraining(ctx, key, "run-1"); err != nil {
		t.Fatal(err)
	}
	if tr, _ := r.GetTraining(ctx, key); tr != nil {
		t.Errorf("marker still there: %+v", tr)
	}
	if err := r.StartTraining(ctx, Training{Key: key, RunID: "x", Started: t0}); err == nil {
		t.Error("StartTraining without a deadline succeeded")
	}
}

func TestOpenDrivers(t *testing.T) {
	ctx := context.Background()
	// An unknown scheme fails at Open, naming the missing driver.
	if _, err := Open(ctx, "foo://bucket"); err == nil || !strings.Contains(err.Error(), "no driver registered") {
		t.Fatalf("Open(foo://) error = %v, want the missing driver", err)
	}
	// s3:// is linked in: opening does not need the network.
	r, err := Open(ctx, "s3://modelsync-models?region=us-east-1")
	if err != nil {
		t.Fatalf("Open(s3://): %v", err)
	}
	_ = r.Close()
	// A missing local directory is an error; Create makes it.
	dir := filepath.Join(t.TempDir(), "new")
	if _, err := Open(ctx, dir); err == nil {
		t.Error("Open of a missing directory succeeded")
	}
	r, err = Create(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	_ = r.Close()
}
