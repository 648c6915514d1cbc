package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gocloud.dev/blob"
	// The drivers a registry URL may name: file:// (the default), gs:// and s3://.
	_ "gocloud.dev/blob/fileblob"
	_ "gocloud.dev/blob/gcsblob"
	_ "gocloud.dev/blob/s3blob"
	"gocloud.dev/gcerrors"
)

// ModelsPrefix is the folder that holds one sub-folder per model.
const ModelsPrefix = "models/"

// ErrNotFound is returned (wrapped) when a model or marker does not exist.
var ErrNotFound = errors.New("not found")

// Registry is a model registry on a bucket. It is safe for concurrent use.
type Registry struct {
	bucket *blob.Bucket
	url    string
	local  bool // a file:// bucket
	now    func() time.Time
}

// Open opens the registry at a bucket URL: file:///path, gs://bucket, s3://bucket
// (with the query parameters of gocloud.dev/blob), or a plain local path (see LocalURL).
// A URL with a prefix (e.g. gs://bucket?prefix=team/) keeps the registry under it.
// A local directory must exist.
func Open(ctx context.Context, location string) (*Registry, error) {
	return open(ctx, location, false)
}

// Create is Open, except that a local path that does not exist yet is created.
func Create(ctx context.Context, location string) (*Registry, error) {
	return open(ctx, location, true)
}

func open(ctx context.Context, location string, create bool) (*Registry, error) {
	url, err := LocalURL(location, create)
	if err != nil {
		return nil, fmt.Errorf("failed to open registry: %w", err)
	}
	b, err := blob.OpenBucket(ctx, withoutSidecars(url))
	if err != nil {
		return nil, fmt.Errorf("failed to open registry %s: %w", location, err)
	}
	reg := New(b, location)
	reg.local = strings.HasPrefix(url, "file://")
	return reg, nil
}

// withoutSidecars adds metadata=skip to a file:// URL that does not choose: fileblob keeps
// attributes in a sidecar file that it rewrites in place, so a read racing with a write
// of the same key (the newest-model pointer) can fail; the registry needs no attributes.
func withoutSidecars(url string) string {
	if !strings.HasPrefix(url, "file://") || strings.Contains(url, "metadata=") {
		return url
	}
	if strings.Contains(url, "?") {
		return url + "&metadata=skip"
	}
	return url + "?metadata=skip"
}

// New wraps an open bucket. The registry closes it in Close.
func New(b *blob.Bucket, url string) *Registry {
	return &Registry{bucket: b, url: url, now: time.Now}
}

// URL is the URL the registry was opened with.
func (r *Registry) URL() string { return r.url }

// Bucket gives access to the underlying bucket (for tools and tests).
func (r *Registry) Bucket() *blob.Bucket { return r.bucket }

// Close closes the bucket.
func (r *Registry) Close() error { return r.bucket.Close() }

// ManifestKey is the key of the manifest of model id.
func ManifestKey(id string) string { return ModelsPrefix + id + "/" + ManifestName }

// Artifact is one file of a model to publish.
type Artifact struct {
	// Name is the path relative to the model folder, with forward slashes.
	Name string
	// Open returns the content; it is called once and the reader is closed after the upload.
	Open func() (io.ReadCloser, error)
}

// PublishOptions change how Publish treats an existing model.
type PublishOptions struct {
	// Replace allows publishing over a model that already has a manifest.
	Replace bool
}

// Publish uploads a model: every artifact first, then models/<id>/model.json, then its
// index entry, then the newest-model pointer. A failure before the manifest is written leaves no visible model; the
// listing (see Reindex) repairs a missing index entry. m.Files is set from the artifacts
// and m.Published to the current time.
func (r *Registry) Publish(ctx context.Context, m *Model, artifacts []Artifact, opts PublishOptions) error {
	if err := ValidateID(m.ID); err != nil {
		return fmt.Errorf("failed to publish model: %w", err)
	}
	if m.Created.IsZero() {
		return fmt.Errorf("failed to publish model %s: created is not set", m.ID)
	}
	names := make([]string, 0, len(artifacts))
	seen := map[string]bool{}
	for _, a := range artifacts {
		if err := validateArtifactName(a.Name); err != nil {
			return fmt.Errorf("failed to publish model %s: %w", m.ID, err)
		}
		if seen[a.Name] {
			return fmt.Errorf("failed to publish model %s: artifact %q is listed twice", m.ID, a.Name)
		}
		seen[a.Name] = true
		names = append(names, a.Name)
	}
	if !opts.Replace {
		exists, err := r.bucket.Exists(ctx, ManifestKey(m.ID))
		if err != nil {
			return fmt.Errorf("failed to check model %s: %w", m.ID, err)
		}
		if exists {
			return fmt.Errorf("failed to publish model %s: it already exists (replace it explicitly)", m.ID)
		}
	}
	for _, a := range artifacts {
		if err := r.upload(ctx, ModelsPrefix+m.ID+"/"+a.Name, a.Open); err != nil {
			return fmt.Errorf("failed to upload artifact %s of model %s: %w", a.Name, m.ID, err)
		}
	}
	sort.Strings(names)
	m.Files = names
	m.Published = r.now().UTC()
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("failed to encode manifest of model %s: %w", m.ID, err)
	}
	// Without Replace the manifest is written only if absent, so of two racing publishes
	// of one id exactly one wins.
	err = r.bucket.WriteAll(ctx, ManifestKey(m.ID), append(data, '\n'),
		&blob.WriterOptions{ContentType: "application/json", IfNotExist: !opts.Replace})
	if gcerrors.Code(err) == gcerrors.FailedPrecondition {
		return fmt.Errorf("failed to publish model %s: it already exists (replace it explicitly)", m.ID)
	}
	if err != nil {
		return fmt.Errorf("failed to write manifest of model %s: %w", m.ID, err)
	}
	if err := r.writeIndexEntry(ctx, m); err != nil {
		return fmt.Errorf("failed to index model %s (it is published; run reindex): %w", m.ID, err)
	}
	if err := r.updatePointer(ctx, m); err != nil {
		return fmt.Errorf("failed to update the newest-model pointer for %s (it is published; run reindex): %w", m.ID, err)
	}
	return nil
}

func validateArtifactName(name string) error {
	switch {
	case name == "":
		return errors.New("an artifact name is empty")
	case strings.HasPrefix(name, "/"), path.Clean(name) != name, name == ".", strings.HasPrefix(name, "../"):
		return fmt.Errorf("artifact name %q is not a clean relative path", name)
	case path.Base(name) == ManifestName:
		return fmt.Errorf("artifact %q: the name %s is reserved for the manifest", name, ManifestName)
	}
	return nil
}

func (r *Registry) upload(ctx context.Context, key string, open func() (io.ReadCloser, error)) error {
	rc, err := open()
	if err != nil {
		return err
	}
	defer func() { _ = rc.Close() }()
	w, err := r.bucket.NewWriter(ctx, key, nil)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, rc); err != nil {
		_ = w.Close()
		return err
	}
	return w.Close()
}

func (r *Registry) writeAll(ctx context.Context, key string, data []byte, contentType string) error {
	return r.bucket.WriteAll(ctx, key, data, &blob.WriterOptions{ContentType: contentType})
}

// Get reads the manifest of model id. A model without a manifest is ErrNotFound.
func (r *Registry) Get(ctx context.Context, id string) (*Model, error) {
	if err := ValidateID(id); err != nil {
		return nil, fmt.Errorf("failed to get model: %w", err)
	}
	data, err := r.bucket.ReadAll(ctx, ManifestKey(id))
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil, fmt.Errorf("failed to get model %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read manifest of model %s: %w", id, err)
	}
	m, err := decodeManifest(data)
	if err != nil {
		return nil, fmt.Errorf("failed to decode manifest of model %s: %w", id, err)
	}
	if m.ID != id {
		return nil, fmt.Errorf("failed to get model %s: its manifest names id %q", id, m.ID)
	}
	return m, nil
}

func decodeManifest(data []byte) (*Model, error) {
	var m Model
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if err := ValidateID(m.ID); err != nil {
		return nil, err
	}
	if m.Created.IsZero() {
		return nil, errors.New("created is not set")
	}
	return &m, nil
}

// List reads every published model (those with a manifest), newest first, by listing the
// bucket. Folders without a manifest (half-published models) are skipped. A manifest that
// cannot be read or decoded is an error naming its key.
func (r *Registry) List(ctx context.Context) ([]*Model, error) {
	var models []*Model
	it := r.bucket.List(&blob.ListOptions{Prefix: ModelsPrefix})
	for {
		obj, err := it.Next(ctx)
		if isEOF(err) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("failed to list models: %w", err)
		}
		id, ok := idFromManifestKey(obj.Key)
		if !ok {
			continue
		}
		m, err := r.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		models = append(models, m)
	}
	sortNewestFirst(models)
	return models, nil
}

func idFromManifestKey(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, ModelsPrefix)
	if !ok {
		return "", false
	}
	id, ok := strings.CutSuffix(rest, "/"+ManifestName)
	if !ok || ValidateID(id) != nil {
		return "", false
	}
	return id, true
}

// sortNewestFirst orders by created time, newest first; ties by id, ascending, which is
// the order of the index keys.
func sortNewestFirst(models []*Model) {
	sort.SliceStable(models, func(i, j int) bool {
		a, b := models[i], models[j]
		if !a.Created.Equal(b.Created) {
			return a.Created.After(b.Created)
		}
		return a.ID < b.ID
	})
}

// NewestByListing finds the newest model by listing every manifest: the slow path, used
// when the index is empty and as the baseline the index is measured against.
func (r *Registry) NewestByListing(ctx context.Context) (*Model, error) {
	models, err := r.List(ctx)
	if err != nil {
		return nil, err
	}
	if len(models) == 0 {
		return nil, nil
	}
	return models[0], nil
}

func isEOF(err error) bool { return errors.Is(err, io.EOF) }

// LocalURL turns a registry location into a bucket URL: a URL with a scheme is returned
// unchanged; a plain path becomes file://<absolute path>, with ?create_dir=true if create.
func LocalURL(location string, create bool) (string, error) {
	if strings.Contains(location, "://") {
		return location, nil
	}
	if location == "" {
		return "", errors.New("registry location is empty")
	}
	abs, err := filepath.Abs(location)
	if err != nil {
		return "", fmt.Errorf("failed to resolve registry path %s: %w", location, err)
	}
	u := "file://" + filepath.ToSlash(abs)
	if create {
		u += "?create_dir=true"
	}
	return u, nil
}

// SetClock replaces the clock that stamps Model.Published (for tests and tools that replay).
func (r *Registry) SetClock(now func() time.Time) { r.now = now }
