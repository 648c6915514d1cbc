// Command modelsync-controller runs the ModelSync controller: it asks each ModelSync's lambda
// whether a sync is needed and starts one Tekton PipelineRun at a time when it is.
package main

import (
	"flag"
	"log/slog"
	"os"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/modelsync/modelsync/internal/controller"
)

func main() {
	opts := controller.DefaultOptions()
	opts.BindFlags(flag.CommandLine)
	debug := flag.Bool("debug", false, "log at debug level")
	flag.Parse()

	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug - 3 // also the controller's V(1) messages
	}
	ctrl.SetLogger(logr.FromSlogHandler(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
	log := ctrl.Log.WithName("setup")

	cfg, err := ctrl.GetConfig()
	if err != nil {
		log.Error(err, "failed to load the kubeconfig")
		os.Exit(1)
	}
	mgr, _, err := controller.New(cfg, opts)
	if err != nil {
		log.Error(err, "failed to set up the controller")
		os.Exit(1)
	}
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		log.Error(err, "controller stopped")
		os.Exit(1)
	}
}
