// Command modelsync-demo runs the whole modelsync loop on this machine (see internal/demo);
// `make demo` builds the tools and runs it.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/modelsync/modelsync/internal/demo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := demo.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
