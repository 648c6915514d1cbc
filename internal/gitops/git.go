package gitops

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// Git runs the real git binary in a work tree.
type Git struct {
	// Dir is the work tree.
	Dir string
	// Env is added to the environment of every git command (credentials, identity).
	Env []string
	// Redact cleans git's output before it reaches an error.
	Redact *Redactor
}

// Run runs git with args and returns its standard output without the trailing newline.
func (g *Git) Run(ctx context.Context, args ...string) (string, error) {
	return g.RunInput(ctx, "", args...)
}

// RunInput is Run with stdin.
func (g *Git) RunInput(ctx context.Context, stdin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = g.Dir
	// A fixed locale keeps messages stable; no prompt may block a pipeline step.
	cmd.Env = append(os.Environ(), "LC_ALL=C", "GIT_TERMINAL_PROMPT=0")
	cmd.Env = append(cmd.Env, g.Env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return "", fmt.Errorf("git %s: %s", g.Redact.String(args[0]), g.Redact.String(msg))
	}
	return strings.TrimRight(stdout.String(), "\n"), nil
}
