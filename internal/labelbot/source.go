package labelbot

import (
	"context"
	"errors"
	"fmt"
	"path"
	"path/filepath"

	"gocloud.dev/blob"
	// The file:// bucket driver; gs:// and s3:// need their drivers linked in as well.
	_ "gocloud.dev/blob/fileblob"

	"github.com/modelsync/modelsync/internal/registry"
)

// ModelSource loads a model by id.
type ModelSource interface {
	// Load reads the model id; id "" means the source's only model, where it has one.
	Load(ctx context.Context, id string) (*LoadedModel, error)
	String() string
}

// DirSource reads model folders from a local directory: Dir/<id>, or Dir itself for id "".
type DirSource struct{ Dir string }

// Load implements ModelSource.
func (s DirSource) Load(_ context.Context, id string) (*LoadedModel, error) {
	if id == "" {
		return LoadModelDir(s.Dir, "")
	}
	if err := registry.ValidateID(id); err != nil {
		return nil, fmt.Errorf("failed to load model: %w", err)
	}
	return LoadModelDir(filepath.Join(s.Dir, filepath.FromSlash(id)), id)
}

func (s DirSource) String() string { return s.Dir }

// BucketSource reads models straight from the registry bucket layout, models/<id>/. It only
// reads; publishing and listing are the registry's business.
type BucketSource struct {
	URL    string
	bucket *blob.Bucket
}

// OpenBucketSource opens the registry bucket at url (file:// is linked in).
func OpenBucketSource(ctx context.Context, url string) (*BucketSource, error) {
	b, err := blob.OpenBucket(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("failed to open registry %s: %w", url, err)
	}
	return &BucketSource{URL: url, bucket: b}, nil
}

// Load implements ModelSource.
func (s *BucketSource) Load(ctx context.Context, id string) (*LoadedModel, error) {
	if err := registry.ValidateID(id); err != nil {
		return nil, fmt.Errorf("failed to load model from registry %s: %w", s.URL, err)
	}
	lm, err := loadModel(func(name string) ([]byte, error) {
		return s.bucket.ReadAll(ctx, path.Join("models", id, name))
	}, id)
	if err != nil {
		return nil, fmt.Errorf("failed to load model %s from registry %s: %w", id, s.URL, err)
	}
	return lm, nil
}

// Close releases the bucket.
func (s *BucketSource) Close() error {
	if s.bucket == nil {
		return errors.New("bucket source is not open")
	}
	return s.bucket.Close()
}

func (s *BucketSource) String() string { return s.URL }
