// Command labelbot is the Issue Label Bot sample application (see internal/labelbot).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/modelsync/modelsync/internal/labelbot"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := labelbot.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
