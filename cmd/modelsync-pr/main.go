// Command modelsync-pr is the git and GitHub step of the update-model-pr pipeline.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/modelsync/modelsync/internal/prcmd"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := prcmd.Execute(ctx, os.Args[1:], prcmd.OSEnv())
	stop()
	os.Exit(code)
}
