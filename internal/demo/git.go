package demo

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// The app's repository in the demo: a bare "upstream" holding the label-bot package at
// PackagePath on branch Base, and a bare "fork" of it that receives the proposal branch.
const (
	PackagePath = "kpt-packages/label-bot"
	Base        = "master"
	Branch      = "auto-update"
	// GitHubRepo and HeadOwner name the pull request the dry-run step prints.
	GitHubRepo = "kubeflow/code-intelligence"
	HeadOwner  = "modelsync-demo"
)

// setUpGit creates the upstream and the fork from the repository's label-bot package.
func (d *demo) setUpGit(ctx context.Context) error {
	seed := filepath.Join(d.dir, "git", "seed")
	if err := os.MkdirAll(filepath.Dir(filepath.Join(seed, PackagePath)), 0o755); err != nil {
		return err
	}
	if out, err := exec.Command("cp", "-R", filepath.Join(d.opts.Root, PackagePath), filepath.Join(seed, PackagePath)).CombinedOutput(); err != nil {
		return fmt.Errorf("failed to copy the label-bot package: %v: %s", err, out)
	}
	steps := [][]string{
		{"git", "init", "--quiet", "--initial-branch=" + Base, "."},
		{"git", "add", "."},
		{"git", "commit", "--quiet", "-m", "Add the label-bot package"},
		{"git", "clone", "--quiet", "--bare", seed, d.upstream},
		{"git", "clone", "--quiet", "--bare", d.upstream, d.fork},
	}
	for _, s := range steps {
		if _, err := d.run(ctx, seed, s...); err != nil {
			return err
		}
	}
	return os.RemoveAll(seed)
}

// git runs git in a bare repository (or checkout) and returns its trimmed output.
func (d *demo) git(ctx context.Context, dir string, args ...string) (string, error) {
	out, err := d.run(ctx, dir, append([]string{"git"}, args...)...)
	return strings.TrimSpace(out), err
}

// merge plays the reviewer: it merges the fork's proposal branch into upstream's base branch
// (a fast-forward when the base has not moved, a merge commit otherwise) and returns the new
// tip of the base branch.
func (d *demo) merge(ctx context.Context) (string, error) {
	work := filepath.Join(d.dir, "git", "reviewer")
	if _, err := os.Stat(work); os.IsNotExist(err) {
		if _, err := d.git(ctx, d.dir, "clone", "--quiet", "--branch", Base, d.upstream, work); err != nil {
			return "", err
		}
		if _, err := d.git(ctx, work, "remote", "add", "fork", d.fork); err != nil {
			return "", err
		}
	}
	for _, args := range [][]string{
		{"fetch", "--quiet", "origin", Base},
		{"checkout", "--quiet", "-B", Base, "origin/" + Base},
		{"fetch", "--quiet", "fork", Branch},
		{"merge", "--quiet", "--no-edit", "FETCH_HEAD"},
		{"push", "--quiet", "origin", Base},
	} {
		if _, err := d.git(ctx, work, args...); err != nil {
			return "", err
		}
	}
	return d.git(ctx, work, "rev-parse", "HEAD")
}

// checkoutAt updates the GitOps agent's checkout to commit and returns its folder.
func (d *demo) checkoutAt(ctx context.Context, commit string) (string, error) {
	work := filepath.Join(d.dir, "git", "gitops")
	if _, err := os.Stat(work); os.IsNotExist(err) {
		if _, err := d.git(ctx, d.dir, "clone", "--quiet", d.upstream, work); err != nil {
			return "", err
		}
	}
	for _, args := range [][]string{
		{"fetch", "--quiet", "origin", Base},
		{"checkout", "--quiet", "--force", "--detach", commit},
		{"clean", "--quiet", "-fdx"},
	} {
		if _, err := d.git(ctx, work, args...); err != nil {
			return "", err
		}
	}
	return work, nil
}
