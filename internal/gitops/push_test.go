package gitops

import (
	"context"
	"strings"
	"testing"
)

// TestPushLease updates the fork's branch after Push has read it and before Push pushes (from
// the message callback, which runs in between): the push must fail and keep the other
// update, not overwrite it.
func TestPushLease(t *testing.T) {
	ctx := context.Background()
	work, fork, sh := newRepos(t)
	g := &Git{Dir: work, Env: []string{"GIT_CONFIG_GLOBAL=/dev/null"}}
	base := strings.TrimSpace(sh(work, "rev-parse", "HEAD"))
	// The branch exists with an older proposal.
	sh(fork, "update-ref", "refs/heads/auto-update", base)
	var concurrent string
	opts := PushOptions{Git: g, Remote: fork, Branch: "auto-update",
		Message: func(c Change) (string, error) {
			// Someone else moves the branch now.
			tree := strings.TrimSpace(sh(fork, "rev-parse", base+"^{tree}"))
			concurrent = strings.TrimSpace(sh(fork, "commit-tree", tree, "-p", base, "-m", "concurrent"))
			sh(fork, "update-ref", "refs/heads/auto-update", concurrent)
			return "Update " + c.NewModel, nil
		}}
	_, err := Push(ctx, opts)
	if err == nil || !strings.Contains(err.Error(), "failed to push branch auto-update") || !strings.Contains(err.Error(), "stale info") {
		t.Fatalf("Push error = %v, want a rejected lease", err)
	}
	if tip := strings.TrimSpace(sh(fork, "rev-parse", "refs/heads/auto-update")); tip != concurrent {
		t.Errorf("the fork's branch is %s, want the concurrent update %s kept", tip, concurrent)
	}
}
