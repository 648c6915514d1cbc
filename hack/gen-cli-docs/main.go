// Command gen-cli-docs writes the `kubectl modelsync` command reference as Markdown, one page
// per command, into the folder given as its argument (`make generate` writes docs/cli).
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra/doc"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/modelsync/modelsync/plugin"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gen-cli-docs DIR")
		os.Exit(2)
	}
	if err := generate(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func generate(dir string) error {
	// Stale pages of removed commands must go: start from an empty folder.
	old, _ := filepath.Glob(filepath.Join(dir, "kubectl_modelsync*.md"))
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return fmt.Errorf("failed to remove %s: %w", f, err)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("failed to create %s: %w", dir, err)
	}
	root := plugin.NewCommand(&plugin.Common{IOStreams: genericiooptions.NewTestIOStreamsDiscard()})
	// The kubeconfig flags default to values of the machine that runs the generator (the home
	// folder in --cache-dir): show them without a default.
	for _, name := range []string{"cache-dir"} {
		if f := root.PersistentFlags().Lookup(name); f != nil {
			f.DefValue = ""
		}
	}
	root.DisableAutoGenTag = true
	if err := doc.GenMarkdownTree(root, dir); err != nil {
		return fmt.Errorf("failed to write the command reference: %w", err)
	}
	return nil
}
