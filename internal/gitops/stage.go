package gitops

import (
	"context"
	"fmt"
)

// Staged is the work tree's state against its base.
type Staged struct {
	Base, Tree, BaseTree string
}

// Changed reports whether the work tree differs from the base.
func (s Staged) Changed() bool { return s.Tree != s.BaseTree }

// Stage stages every change of the work tree and returns its tree next to the base's.
func Stage(ctx context.Context, g *Git, base string) (Staged, error) {
	var s Staged
	var err error
	if s.Base, err = g.Run(ctx, "rev-parse", "--verify", base+"^{commit}"); err != nil {
		return s, fmt.Errorf("failed to resolve base revision %q: %w", base, err)
	}
	if _, err := g.Run(ctx, "add", "--all"); err != nil {
		return s, fmt.Errorf("failed to stage the work tree: %w", err)
	}
	if s.Tree, err = g.Run(ctx, "write-tree"); err != nil {
		return s, fmt.Errorf("failed to write the tree: %w", err)
	}
	if s.BaseTree, err = g.Run(ctx, "rev-parse", s.Base+"^{tree}"); err != nil {
		return s, fmt.Errorf("failed to read the base tree: %w", err)
	}
	return s, nil
}

// DescribeChange stages the work tree and describes its change against base; ok is false
// when there is none.
func DescribeChange(ctx context.Context, g *Git, base, key string) (c Change, ok bool, err error) {
	s, err := Stage(ctx, g, base)
	if err != nil || !s.Changed() {
		return Change{Key: key}, false, err
	}
	c, err = describeChange(ctx, g, s.Base, s.Tree, key)
	return c, err == nil, err
}
