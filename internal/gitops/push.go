package gitops

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// PushStatus says what Push did.
type PushStatus string

const (
	// Pushed: a new commit was pushed to the branch (created or rebuilt).
	Pushed PushStatus = "pushed"
	// UpToDate: the branch already holds the same change on the same base; nothing was pushed.
	UpToDate PushStatus = "up-to-date"
	// NoChanges: the work tree does not differ from the base; there is nothing to propose.
	NoChanges PushStatus = "no-changes"
	// WouldPush: a dry run found a change that a real run would push.
	WouldPush PushStatus = "would-push"
)

// Identity is the author and committer of the commits made by Push.
type Identity struct {
	Name  string
	Email string
}

// DefaultIdentity is used when PushOptions.Author is empty.
var DefaultIdentity = Identity{Name: "modelsync", Email: "modelsync@users.noreply.github.com"}

// PushOptions configures Push.
type PushOptions struct {
	// Git runs in the work tree: a checkout of the base revision with the edits applied.
	Git *Git
	// Remote is the fork to push to: a remote name or URL.
	Remote string
	// Branch is the fixed branch on the fork that carries the proposal.
	Branch string
	// Base is the revision the branch is rebuilt from; empty means HEAD.
	Base string
	// ModelKey is the key whose value names the model (for the commit message); default automl-model.
	ModelKey string
	// Message renders the commit message from the change.
	Message func(Change) (string, error)
	// Author signs the commit; empty means DefaultIdentity.
	Author Identity
	// DryRun computes everything but neither commits nor pushes.
	DryRun bool
}

// PushResult is what Push found and did.
type PushResult struct {
	Status PushStatus
	// Commit is the branch's commit after Push (the new one, or the one already there).
	// Empty for NoChanges, and in a dry run that would push.
	Commit string
	// Previous is the branch's commit on the fork before Push; empty if the branch did not exist.
	Previous string
	// Change describes the edit.
	Change Change
	// Message is the commit message (also set in a dry run).
	Message string
}

// Push commits the work tree's changes as a single commit on top of the base and pushes it to
// the fork's branch, unless the branch already holds exactly that change on that base. The
// branch is rebuilt from the base each time, so it never drifts, and the push carries a lease
// on the commit seen on the fork: a concurrent update makes it fail instead of being lost.
func Push(ctx context.Context, o PushOptions) (*PushResult, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	g := o.Git
	st, err := Stage(ctx, g, o.base())
	if err != nil {
		return nil, err
	}
	base, tree := st.Base, st.Tree
	res := &PushResult{}
	if !st.Changed() {
		res.Status = NoChanges
		return res, nil
	}
	ref := "refs/heads/" + o.Branch
	if res.Previous, err = remoteTip(ctx, g, o.Remote, ref); err != nil {
		return nil, err
	}
	if res.Previous != "" {
		same, err := sameChange(ctx, g, res.Previous, base, tree)
		if err != nil {
			return nil, err
		}
		if same {
			res.Status, res.Commit = UpToDate, res.Previous
			return res, nil
		}
	}
	if res.Change, err = describeChange(ctx, g, base, tree, o.modelKey()); err != nil {
		return nil, err
	}
	if res.Message, err = o.Message(res.Change); err != nil {
		return nil, fmt.Errorf("failed to render the commit message: %w", err)
	}
	if o.DryRun {
		res.Status = WouldPush
		return res, nil
	}
	res.Status = Pushed
	author := o.Author
	if author.Name == "" || author.Email == "" {
		author = DefaultIdentity
	}
	commitGit := *g
	commitGit.Env = append(append([]string{}, g.Env...),
		"GIT_AUTHOR_NAME="+author.Name, "GIT_AUTHOR_EMAIL="+author.Email,
		"GIT_COMMITTER_NAME="+author.Name, "GIT_COMMITTER_EMAIL="+author.Email)
	commit, err := commitGit.RunInput(ctx, res.Message, "commit-tree", tree, "-p", base, "-F", "-")
	if err != nil {
		return nil, fmt.Errorf("failed to commit the change: %w", err)
	}
	lease := "--force-with-lease=" + ref + ":" + res.Previous
	if _, err := g.Run(ctx, "push", "--quiet", "--no-verify", lease, o.Remote, commit+":"+ref); err != nil {
		if strings.Contains(err.Error(), "stale info") {
			return nil, fmt.Errorf("failed to push branch %s: it changed on the fork while this run worked; run again: %w", o.Branch, err)
		}
		return nil, fmt.Errorf("failed to push branch %s: %w", o.Branch, err)
	}
	res.Commit = commit
	return res, nil
}

func (o PushOptions) base() string {
	if o.Base == "" {
		return "HEAD"
	}
	return o.Base
}

func (o PushOptions) modelKey() string {
	if o.ModelKey == "" {
		return "automl-model"
	}
	return o.ModelKey
}

func (o PushOptions) validate() error {
	var errs []error
	if o.Git == nil || o.Git.Dir == "" {
		errs = append(errs, errors.New("the work tree (--dir) is required"))
	}
	if o.Remote == "" {
		errs = append(errs, errors.New("the fork (--fork) is required"))
	}
	if err := ValidateBranch(o.Branch); err != nil {
		errs = append(errs, err)
	}
	if o.Message == nil {
		errs = append(errs, errors.New("a commit message template is required"))
	}
	return errors.Join(errs...)
}

// ValidateBranch checks the branch name the proposal is pushed to.
func ValidateBranch(branch string) error {
	switch {
	case branch == "":
		return errors.New("the branch (--branch) is required")
	case strings.HasPrefix(branch, "-") || strings.HasPrefix(branch, "refs/") || strings.ContainsAny(branch, " ~^:?*[\\") ||
		strings.Contains(branch, "..") || strings.HasSuffix(branch, "/") || strings.HasSuffix(branch, ".lock"):
		return fmt.Errorf("the branch (--branch) %q is not a valid branch name", branch)
	}
	return nil
}

// remoteTip fetches ref from remote and returns its commit, or "" when the remote has no such
// branch. One fetch does both: there is no window between reading the tip and having it.
func remoteTip(ctx context.Context, g *Git, remote, ref string) (string, error) {
	branch := strings.TrimPrefix(ref, "refs/heads/")
	if _, err := g.Run(ctx, "fetch", "--quiet", "--no-tags", "--", remote, ref); err != nil {
		if strings.Contains(err.Error(), "couldn't find remote ref") {
			return "", nil
		}
		return "", fmt.Errorf("failed to read branch %s of the fork: %w", branch, err)
	}
	sha, err := g.Run(ctx, "rev-parse", "--verify", "FETCH_HEAD^{commit}")
	if err != nil {
		return "", fmt.Errorf("failed to read branch %s of the fork: %w", branch, err)
	}
	return sha, nil
}

// sameChange reports whether commit has exactly tree, on top of base alone.
func sameChange(ctx context.Context, g *Git, commit, base, tree string) (bool, error) {
	out, err := g.Run(ctx, "show", "--no-patch", "--format=%T %P", commit)
	if err != nil {
		return false, fmt.Errorf("failed to read the fork's commit: %w", err)
	}
	return out == tree+" "+base, nil
}
