package lambda

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/modelsync/modelsync/internal/gitops"
)

// Checkout is a local git checkout that deployers read.
type Checkout interface {
	// Name identifies the checkout in logs, metrics and errors.
	Name() string
	// Acquire returns a consistent checkout and a release function that must be called
	// when done reading. It fails when the checkout is missing or the last sync failed.
	Acquire() (Snapshot, func(), error)
	// Sync brings the checkout up to date (a no-op for a checkout maintained by git-sync).
	Sync(ctx context.Context) error
	// Period is how often Sync is due; zero for a checkout maintained by someone else.
	Period() time.Duration
}

// Snapshot is a checkout as of one revision.
type Snapshot struct {
	// Root is the directory of the worktree.
	Root string
	// Revision identifies the content: the same revision means the same files. It is the
	// commit for a fetched remote and the resolved worktree path for git-sync, which checks
	// out every commit into a new worktree named after it and never edits one in place.
	Revision string
}

// NewCheckout returns the checkout a repo config describes; remote clones live in workDir.
func NewCheckout(rc RepoConfig, workDir string, log *slog.Logger) Checkout {
	if rc.Dir != "" {
		return &syncedDir{name: rc.Name, dir: rc.Dir}
	}
	return &remote{name: rc.Name, url: rc.URL, branch: rc.Branch, period: rc.SyncPeriod.Duration,
		dir: filepath.Join(workDir, rc.Name), log: log.With("repo", rc.Name)}
}

// syncedDir is a checkout kept fresh by a git-sync sidecar: the path is usually a symlink
// that git-sync swaps atomically to a new worktree, so it is resolved once per read.
type syncedDir struct {
	name string
	dir  string
}

func (s *syncedDir) Name() string          { return s.name }
func (s *syncedDir) Period() time.Duration { return 0 }

func (s *syncedDir) Sync(context.Context) error {
	_, _, err := s.Acquire()
	return err
}

func (s *syncedDir) Acquire() (Snapshot, func(), error) {
	root, err := filepath.EvalSymlinks(s.dir)
	if err != nil {
		return Snapshot{}, nil, fmt.Errorf("failed to read checkout %s of repo %s: %w", s.dir, s.name, err)
	}
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		return Snapshot{}, nil, fmt.Errorf("failed to read checkout %s of repo %s: not a directory", s.dir, s.name)
	}
	return Snapshot{Root: root, Revision: root}, func() {}, nil
}

// remote is a shallow clone of one branch that the server fetches itself with the git CLI.
// Readers hold the read lock; the checkout of a fetched commit takes the write lock, so a
// reader never sees a half-updated tree. A failed sync makes reads fail until one succeeds.
type remote struct {
	name, url, branch, dir string
	period                 time.Duration
	log                    *slog.Logger

	mu      sync.RWMutex
	lastErr error
	synced  bool
	head    string
}

func (r *remote) Name() string          { return r.name }
func (r *remote) Period() time.Duration { return r.period }

func (r *remote) Acquire() (Snapshot, func(), error) {
	r.mu.RLock()
	switch {
	case r.lastErr != nil:
		err := r.lastErr
		r.mu.RUnlock()
		return Snapshot{}, nil, fmt.Errorf("repo %s is not in sync: %w", r.name, err)
	case !r.synced:
		r.mu.RUnlock()
		return Snapshot{}, nil, fmt.Errorf("repo %s has not been fetched yet", r.name)
	}
	if _, err := os.Stat(filepath.Join(r.dir, ".git")); err != nil {
		r.mu.RUnlock()
		return Snapshot{}, nil, fmt.Errorf("checkout of repo %s is missing (it is cloned again at the next sync): %w", r.name, err)
	}
	return Snapshot{Root: r.dir, Revision: r.head}, r.mu.RUnlock, nil
}

func (r *remote) Sync(ctx context.Context) error {
	err := r.sync(ctx)
	r.mu.Lock()
	r.lastErr = err
	if err == nil {
		r.synced = true
	}
	r.mu.Unlock()
	return err
}

func (r *remote) sync(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(r.dir, ".git")); err != nil {
		return r.clone(ctx)
	}
	// The fetch runs without the lock; only moving the worktree blocks readers.
	if _, err := git(ctx, r.dir, "remote", "set-url", "origin", r.url); err != nil {
		return err
	}
	if _, err := git(ctx, r.dir, "fetch", "--quiet", "--depth=1", "--no-tags", "origin", "+refs/heads/"+r.branch+":refs/remotes/origin/"+r.branch); err != nil {
		return err
	}
	rev, err := git(ctx, r.dir, "rev-parse", "refs/remotes/origin/"+r.branch)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if rev == r.head {
		return nil
	}
	if _, err := git(ctx, r.dir, "checkout", "--quiet", "--force", "--detach", rev); err != nil {
		return err
	}
	if _, err := git(ctx, r.dir, "clean", "-ffdxq"); err != nil {
		return err
	}
	r.log.Info("checked out new commit", "revision", rev, "previous", r.head)
	r.head = rev
	return nil
}

// clone makes a fresh shallow clone next to the checkout and swaps it in.
func (r *remote) clone(ctx context.Context) error {
	if err := os.MkdirAll(filepath.Dir(r.dir), 0o755); err != nil {
		return fmt.Errorf("failed to create work dir of repo %s: %w", r.name, err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(r.dir), "."+r.name+"-clone-")
	if err != nil {
		return fmt.Errorf("failed to create clone dir of repo %s: %w", r.name, err)
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	if _, err := git(ctx, "", "clone", "--quiet", "--depth=1", "--no-tags", "--single-branch", "--branch", r.branch, "--", r.url, tmp); err != nil {
		return err
	}
	rev, err := git(ctx, tmp, "rev-parse", "HEAD")
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := os.RemoveAll(r.dir); err != nil {
		return fmt.Errorf("failed to remove old checkout of repo %s: %w", r.name, err)
	}
	if err := os.Rename(tmp, r.dir); err != nil {
		return fmt.Errorf("failed to move clone of repo %s into place: %w", r.name, err)
	}
	r.log.Info("cloned", "url", (*gitops.Redactor)(nil).String(r.url), "branch", r.branch, "revision", rev)
	r.head = rev
	return nil
}

// git runs the git CLI in dir and returns its standard output. Errors name the command and
// carry git's standard error, with URL credentials removed.
func git(ctx context.Context, dir string, args ...string) (string, error) {
	g := gitops.Git{Dir: dir, Env: []string{"GIT_CONFIG_NOSYSTEM=1"}}
	out, err := g.Run(ctx, args...)
	if err != nil {
		return "", fmt.Errorf("failed to run %w", err)
	}
	return strings.TrimSpace(out), nil
}
