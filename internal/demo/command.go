package demo

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/modelsync/modelsync/internal/testenv"
)

// Main is the modelsync-demo command: it parses args, runs the demo and returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("modelsync-demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	root, rootErr := testenv.RepoRoot()
	opts := Options{Out: stdout}
	fs.StringVar(&opts.Dir, "dir", filepath.Join(root, "bin", "demo"), "state folder (wiped at the start, kept at the end)")
	fs.StringVar(&opts.BinDir, "bin-dir", filepath.Join(root, "bin"), "folder holding the modelsync binaries")
	fs.DurationVar(&opts.Interval, "interval", 10*time.Second, "how often the controller asks the lambdas (at least 10s)")
	fs.IntVar(&opts.DemoIssues, "demo-issues", 3000, "size of the generated issue data set of each training run")
	fs.DurationVar(&opts.RoundTimeout, "round-timeout", 5*time.Minute, "time limit of each round")
	fs.BoolVar(&opts.Keep, "keep", false, "keep the control plane, lambdas, controller and runner up after the rounds, until Ctrl-C")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: modelsync-demo [flags]  (run from the repository; `make demo` builds the tools first)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if rootErr != nil {
		fmt.Fprintln(stderr, "Error:", rootErr)
		return 1
	}
	opts.Root = root
	began := time.Now()
	if _, err := Run(ctx, opts); err != nil {
		fmt.Fprintln(stderr, "Error:", err)
		return 1
	}
	fmt.Fprintf(stdout, "demo finished in %s\n", time.Since(began).Round(time.Second))
	return 0
}
