// Command kubectl-modelsync is the kubectl plugin for ModelSyncs: with it on PATH,
// `kubectl modelsync status|trigger|runs|logs|suspend|resume` works.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/modelsync/modelsync/plugin"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	common := &plugin.Common{IOStreams: genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}}
	code := plugin.Execute(ctx, common, os.Args[1:])
	stop()
	os.Exit(code)
}
