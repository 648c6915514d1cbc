package lambda

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/modelsync/modelsync/fn/set-automl-model/setmodel"
)

// flags are the command-line settings; without --config they describe one trainer route
// (/needsTrain) and, when a repo is given, one deployer route (/needsSync).
type flags struct {
	config, listen, workDir, logLevel string
	checkTimeout                      time.Duration

	registry                              string
	repoDir, repoURL, branch, packagePath string
	syncPeriod                            time.Duration
	selector                              setmodel.Selector
	trainerKey                            string
	retrainInterval, trainingTimeout      time.Duration
}

// NewCommand returns the modelsync-lambdas command.
func NewCommand(errOut io.Writer) *cobra.Command {
	cmd, _ := newCommand(errOut)
	return cmd
}

func newCommand(errOut io.Writer) (*cobra.Command, *flags) {
	f := &flags{}
	cmd := &cobra.Command{
		Use:   "modelsync-lambdas",
		Short: "Serve the trainer (/needsTrain) and deployer (/needsSync) lambdas of modelsync",
		Long: `modelsync-lambdas answers the NeedsSync protocol for ModelSyncs. Configure it with --config
(a file listing repos and routes, for several ModelSyncs) or with flags for one trainer and one
deployer. The deployer reads the model committed in git from a checkout kept fresh by a git-sync
sidecar (--repo-dir) or fetched by the server (--repo-url, --branch, --sync-period).`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.toConfig(cmd.Flags().Changed)
			if err != nil {
				return err
			}
			log, err := newLogger(errOut, f.logLevel)
			if err != nil {
				return err
			}
			return serve(cmd.Context(), cfg, f, log)
		},
	}
	cmd.SetErr(errOut)
	fs := cmd.Flags()
	fs.StringVar(&f.config, "config", "", "config file with repos and routes (other route flags are then not allowed)")
	fs.StringVar(&f.listen, "listen", ":8080", "address to serve on")
	fs.StringVar(&f.workDir, "work-dir", filepath.Join(os.TempDir(), "modelsync-lambdas"), "where fetched repos are cloned")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.DurationVar(&f.checkTimeout, "check-timeout", 25*time.Second, "time limit of one answer")
	fs.StringVar(&f.registry, "registry", os.Getenv("MODELSYNC_REGISTRY"), "model registry URL (file://, gs://, s3://); default $MODELSYNC_REGISTRY")
	fs.StringVar(&f.repoDir, "repo-dir", "", "checkout kept fresh by git-sync (its link)")
	fs.StringVar(&f.repoURL, "repo-url", "", "git remote the server clones and fetches itself")
	fs.StringVar(&f.branch, "branch", "main", "branch of --repo-url")
	fs.DurationVar(&f.syncPeriod, "sync-period", DefaultSyncPeriod, "fetch interval of --repo-url")
	fs.StringVar(&f.packagePath, "package-path", "", "package in the repo holding the ConfigMap (default: the root)")
	fs.StringVar(&f.selector.Name, "configmap-name", "", "name of the ConfigMap naming the model (default: any)")
	fs.StringVar(&f.selector.Namespace, "configmap-namespace", "", "namespace of that ConfigMap (default: any)")
	fs.StringVar(&f.selector.Key, "key", "", "data key naming the model (default automl-model)")
	fs.StringVar(&f.selector.Marker, "marker", "", "select fields marked `# modelsync-set: <marker>` instead of a ConfigMap key")
	fs.StringVar(&f.trainerKey, "trainer-key", "", "name of the trainer's in-progress marker (default /needsTrain)")
	fs.DurationVar(&f.retrainInterval, "retrain-interval", DefaultRetrainInterval, "train when the newest model is this old")
	fs.DurationVar(&f.trainingTimeout, "training-timeout", DefaultTrainingTimeout, "a training that has not published by then no longer blocks")
	return cmd, f
}

// routeFlags may not be combined with --config.
var routeFlags = []string{"registry", "repo-dir", "repo-url", "branch", "sync-period", "package-path",
	"configmap-name", "configmap-namespace", "key", "marker", "trainer-key", "retrain-interval", "training-timeout"}

// toConfig loads --config or builds the config of the flags; changed reports explicit flags.
func (f *flags) toConfig(changed func(string) bool) (*Config, error) {
	if f.config != "" {
		for _, name := range routeFlags {
			if changed(name) {
				return nil, fmt.Errorf("--%s cannot be combined with --config (set it in the file)", name)
			}
		}
		return LoadConfig(f.config)
	}
	if f.repoDir != "" && f.repoURL != "" {
		return nil, errors.New("--repo-dir and --repo-url are exclusive: use git-sync's checkout or let the server fetch")
	}
	cfg := &Config{Registry: f.registry, Routes: []RouteConfig{{Path: "/needsTrain", Kind: KindTrainer,
		Trainer: &TrainerConfig{Key: f.trainerKey, RetrainInterval: &metav1.Duration{Duration: f.retrainInterval},
			TrainingTimeout: &metav1.Duration{Duration: f.trainingTimeout}}}}}
	if f.repoDir != "" || f.repoURL != "" {
		repo := RepoConfig{Name: "repo", Dir: f.repoDir}
		if f.repoURL != "" {
			repo = RepoConfig{Name: "repo", URL: f.repoURL, Branch: f.branch, SyncPeriod: &metav1.Duration{Duration: f.syncPeriod}}
		}
		cfg.Repos = []RepoConfig{repo}
		cfg.Routes = append(cfg.Routes, RouteConfig{Path: "/needsSync", Kind: KindDeployer,
			Deployer: &DeployerConfig{Repo: "repo", Path: f.packagePath, Selector: f.selector}})
	}
	cfg.Default()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid flags: %w", err)
	}
	return cfg, nil
}

func newLogger(out io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q is not one of debug, info, warn, error", level)
	}
	return slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: l})), nil
}

// serve runs the server until ctx ends, then shuts the HTTP server down gracefully.
func serve(ctx context.Context, cfg *Config, f *flags, log *slog.Logger) error {
	s, err := NewServer(cfg, Options{WorkDir: f.workDir, Logger: log, CheckTimeout: f.checkTimeout})
	if err != nil {
		return err
	}
	defer func() { _ = s.Close() }()
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("failed to listen on %s: %w", f.listen, err)
	}
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	routes := make([]string, 0, len(cfg.Routes))
	for _, rt := range cfg.Routes {
		routes = append(routes, rt.Kind+" "+rt.Path)
	}
	log.Info("serving", "address", ln.Addr().String(), "routes", routes)
	select {
	case err = <-errc:
	case <-ctx.Done():
		shutdown, stop := context.WithTimeout(context.Background(), 10*time.Second)
		err = hs.Shutdown(shutdown)
		stop()
	}
	cancel()
	<-done
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
