package registry

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
)

// IndexPrefix holds one small object per published model whose key sorts newest first:
// index/created/<MaxInt64 - created ns, 19 digits>-<hex of the id>. Listing its first page
// gives the newest model without reading every manifest. The entry is written after the
// manifest, so an entry always points at a complete model unless the model was deleted by
// hand; such dangling entries are skipped and removed by Reindex.
const IndexPrefix = "index/created/"

// PointerKey is the newest-model pointer: {"id","created"} of the newest model, rewritten
// by Publish after the index entry when the new model is newer. Reading it is the O(1) fast
// path of Newest; the index entries and the listing repair it (SyncPointer, Reindex).
const PointerKey = "index/newest.json"

// indexPage is how many index entries Newest reads per page while skipping dangling ones.
const indexPage = 8

type indexEntry struct {
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
}

// IndexKey is the index key of a model created at created.
func IndexKey(id string, created time.Time) string {
	ns := created.UnixNano()
	if ns < 0 {
		ns = 0
	}
	return fmt.Sprintf("%s%019d-%s", IndexPrefix, math.MaxInt64-ns, hex.EncodeToString([]byte(id)))
}

// parseIndexKey returns the id and created time encoded in an index key.
func parseIndexKey(key string) (string, time.Time, error) {
	rest, ok := strings.CutPrefix(key, IndexPrefix)
	inv, hexID, ok2 := strings.Cut(rest, "-")
	if !ok || !ok2 {
		return "", time.Time{}, fmt.Errorf("index key %q is malformed", key)
	}
	n, err := strconv.ParseInt(inv, 10, 64)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("index key %q has a malformed time: %w", key, err)
	}
	raw, err := hex.DecodeString(hexID)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("index key %q has a malformed id: %w", key, err)
	}
	id := string(raw)
	if err := ValidateID(id); err != nil {
		return "", time.Time{}, fmt.Errorf("index key %q: %w", key, err)
	}
	return id, time.Unix(0, math.MaxInt64-n).UTC(), nil
}

func (r *Registry) writeIndexEntry(ctx context.Context, m *Model) error {
	data, err := json.Marshal(indexEntry{ID: m.ID, Created: m.Created})
	if err != nil {
		return err
	}
	return r.writeAll(ctx, IndexKey(m.ID, m.Created), data, "application/json")
}

// updatePointer points PointerKey at m unless it already names a model at least as new.
// Two concurrent publishes may leave the older one in the pointer; SyncPointer repairs it.
func (r *Registry) updatePointer(ctx context.Context, m *Model) error {
	cur, err := r.readPointer(ctx)
	if err != nil {
		return err
	}
	if cur != nil && (cur.Created.After(m.Created) || (cur.Created.Equal(m.Created) && cur.ID < m.ID)) {
		return nil
	}
	return r.writePointer(ctx, m)
}

func (r *Registry) writePointer(ctx context.Context, m *Model) error {
	data, err := json.Marshal(indexEntry{ID: m.ID, Created: m.Created})
	if err != nil {
		return err
	}
	return r.writeAll(ctx, PointerKey, data, "application/json")
}

// readPointer returns the pointer, nil when there is none. A read that races with a write
// of the pointer can fail on some drivers (fileblob writes its attribute sidecar in place),
// so a failed read is retried a few times.
func (r *Registry) readPointer(ctx context.Context) (*indexEntry, error) {
	var data []byte
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		data, err = r.bucket.ReadAll(ctx, PointerKey)
		if err == nil || gcerrors.Code(err) == gcerrors.NotFound || ctx.Err() != nil {
			break
		}
		time.Sleep(time.Duration(attempt+1) * 5 * time.Millisecond)
	}
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read the newest-model pointer: %w", err)
	}
	var e indexEntry
	if err := json.Unmarshal(data, &e); err != nil || ValidateID(e.ID) != nil {
		return nil, nil // a corrupt pointer is repaired like a missing one
	}
	return &e, nil
}

// Newest returns the newest published model by created time, or nil when there is none.
// Fast path: the pointer and the manifest it names (two reads). When the pointer is missing
// or names no published model it falls back to the index entries, then to the listing.
func (r *Registry) Newest(ctx context.Context) (*Model, error) {
	p, err := r.readPointer(ctx)
	if err != nil {
		return nil, err
	}
	if p != nil {
		m, err := r.Get(ctx, p.ID)
		if err == nil {
			return m, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return nil, err
		}
	}
	m, err := r.NewestByIndex(ctx)
	if err != nil || m != nil {
		return m, err
	}
	m, err = r.NewestByListing(ctx)
	if err != nil || m != nil {
		return m, err
	}
	// Nothing found: make sure the bucket is there, so that a deleted or unreachable
	// bucket is an error rather than an empty registry.
	if err := r.checkAccessible(ctx); err != nil {
		return nil, err
	}
	return nil, nil
}

// checkAccessible fails when the bucket itself is missing. fileblob lists a missing
// directory as empty, so for it the directory is checked (its As gives the os.FileInfo).
func (r *Registry) checkAccessible(ctx context.Context) error {
	if r.local {
		var fi os.FileInfo
		if !r.bucket.As(&fi) || !fi.IsDir() {
			return fmt.Errorf("failed to read registry %s: the bucket is not accessible (no such directory)", r.url)
		}
		return nil
	}
	if ok, err := r.bucket.IsAccessible(ctx); err != nil || !ok {
		return fmt.Errorf("failed to read registry %s: the bucket is not accessible (%v)", r.url, err)
	}
	return nil
}

// SyncPointer points the pointer at the newest model of the index entries when it names
// another one (a publish interrupted after its entry, or two racing publishes). It returns
// whether it changed the pointer. The lambda server runs it periodically.
func (r *Registry) SyncPointer(ctx context.Context) (bool, error) {
	m, err := r.NewestByIndex(ctx)
	if err != nil || m == nil {
		return false, err
	}
	p, err := r.readPointer(ctx)
	if err != nil {
		return false, err
	}
	if p != nil && p.ID == m.ID && p.Created.Equal(m.Created) {
		return false, nil
	}
	if err := r.writePointer(ctx, m); err != nil {
		return false, fmt.Errorf("failed to write the newest-model pointer: %w", err)
	}
	return true, nil
}

// NewestByIndex returns the newest model the index knows of, or nil when the index holds no
// entry pointing at a published model. Dangling entries are skipped.
func (r *Registry) NewestByIndex(ctx context.Context) (*Model, error) {
	token := blob.FirstPageToken
	for {
		objs, next, err := r.bucket.ListPage(ctx, token, indexPage, &blob.ListOptions{Prefix: IndexPrefix})
		if err != nil {
			return nil, fmt.Errorf("failed to list the model index: %w", err)
		}
		for _, obj := range objs {
			id, _, err := parseIndexKey(obj.Key)
			if err != nil {
				continue // not ours; Reindex reports it
			}
			m, err := r.Get(ctx, id)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			return m, nil
		}
		if len(next) == 0 {
			return nil, nil
		}
		token = next
	}
}

// ReindexResult counts what Reindex changed.
type ReindexResult struct {
	Models  int // published models found by listing
	Added   int // index entries written
	Removed int // dangling or malformed index entries deleted
}

// Reindex rebuilds the index from the listing of manifests: it writes the entries that are
// missing (a publish interrupted after its manifest), deletes the entries that point at no
// model or at a different created time, and rewrites the pointer.
func (r *Registry) Reindex(ctx context.Context) (ReindexResult, error) {
	var res ReindexResult
	models, err := r.List(ctx)
	if err != nil {
		return res, err
	}
	res.Models = len(models)
	want := make(map[string]*Model, len(models))
	for _, m := range models {
		want[IndexKey(m.ID, m.Created)] = m
	}
	it := r.bucket.List(&blob.ListOptions{Prefix: IndexPrefix})
	for {
		obj, err := it.Next(ctx)
		if err != nil {
			if isEOF(err) {
				break
			}
			return res, fmt.Errorf("failed to list the model index: %w", err)
		}
		if _, ok := want[obj.Key]; ok {
			delete(want, obj.Key)
			continue
		}
		if err := r.bucket.Delete(ctx, obj.Key); err != nil {
			return res, fmt.Errorf("failed to delete index entry %s: %w", obj.Key, err)
		}
		res.Removed++
	}
	for _, m := range want {
		if err := r.writeIndexEntry(ctx, m); err != nil {
			return res, fmt.Errorf("failed to index model %s: %w", m.ID, err)
		}
		res.Added++
	}
	if len(models) == 0 {
		if err := r.bucket.Delete(ctx, PointerKey); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
			return res, fmt.Errorf("failed to delete the newest-model pointer: %w", err)
		}
		return res, nil
	}
	if err := r.writePointer(ctx, models[0]); err != nil {
		return res, fmt.Errorf("failed to write the newest-model pointer: %w", err)
	}
	return res, nil
}
