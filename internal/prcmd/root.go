// Package prcmd is the modelsync-pr command line: `push` commits the model change and pushes
// the fixed branch to the fork when the tree changed, `pull-request` opens or updates the one
// pull request of that branch. cmd/modelsync-pr only calls Execute.
package prcmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/modelsync/modelsync/internal/gitops"
	"github.com/modelsync/modelsync/internal/registry"
)

// Env is what the commands take from their surroundings; tests replace it.
type Env struct {
	Stdout, Stderr io.Writer
	// Getenv reads the environment (tokens, GH_HOST, App settings).
	Getenv func(string) string
	// Transport, when set, carries the GitHub API requests.
	Transport http.RoundTripper
	// Now is the clock used for GitHub App tokens.
	Now func() time.Time
}

// OSEnv is the process's environment.
func OSEnv() Env {
	return Env{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Now: time.Now}
}

// Execute runs the command line and returns the exit code: 0 on success, 1 on failure, 2 on
// bad usage.
func Execute(ctx context.Context, args []string, env Env) int {
	redact := &gitops.Redactor{}
	for _, name := range append(gitops.TokenEnv, "GH_APP_PRIVATE_KEY") {
		redact.Add(env.Getenv(name))
	}
	root := newRoot(env, redact)
	root.SetArgs(args)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintln(env.Stderr, "Error:", redact.String(err.Error()))
	var usage usageError
	if errors.As(err, &usage) {
		return 2
	}
	return 1
}

type usageError struct{ error }

func newRoot(env Env, redact *gitops.Redactor) *cobra.Command {
	root := &cobra.Command{
		Use:   "modelsync-pr",
		Short: "Propose a model change to a git repository as one branch and one pull request",
		Long: `modelsync-pr is the git and GitHub step of the update-model-pr pipeline.

  push          commit the work tree's change on top of the base and push the fixed branch to the fork,
                only when the change differs from what the branch already holds
  pull-request  open the pull request of the branch, or update the one already open

Credentials: GH_TOKEN or GITHUB_TOKEN (GH_ENTERPRISE_TOKEN for Enterprise hosts), or a GitHub App
(--app-id/GH_APP_ID and --app-private-key-file/GH_APP_PRIVATE_KEY_FILE). GH_HOST selects a GitHub
Enterprise host. Tokens are never printed.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newPushCommand(env, redact), newPullRequestCommand(env, redact))
	return root
}

// messageFlags are the flags shared by both commands: where the work tree is and what the
// messages say.
type messageFlags struct {
	dir, base, modelKey string
	manifest, run       string
	report              string
}

func (f *messageFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.dir, "dir", ".", "work tree: a checkout of the base revision with the model change applied")
	cmd.Flags().StringVar(&f.base, "base-revision", "HEAD", "revision the branch is built on")
	cmd.Flags().StringVar(&f.modelKey, "model-key", "automl-model", "key whose value names the model")
	cmd.Flags().StringVar(&f.manifest, "manifest", "", "registry manifest (model.json) of the new model, for the lineage")
	cmd.Flags().StringVar(&f.run, "run", "", "namespace/name of the PipelineRun making the proposal")
	cmd.Flags().StringVar(&f.report, "report", "", "link to the training report")
}

func (f *messageFlags) lineage() (gitops.Lineage, error) {
	l := gitops.Lineage{Run: f.run, Report: f.report}
	if f.manifest == "" {
		return l, nil
	}
	data, err := os.ReadFile(f.manifest)
	if err != nil {
		return l, fmt.Errorf("failed to read --manifest: %w", err)
	}
	var m registry.Model
	if err := json.Unmarshal(data, &m); err != nil {
		return l, fmt.Errorf("failed to parse --manifest %s: %w", f.manifest, err)
	}
	if m.ID == "" {
		return l, fmt.Errorf("--manifest %s: id is required", f.manifest)
	}
	l.Model = &m
	return l, nil
}

// sharedFlags are registered on every command.
type sharedFlags struct {
	messageFlags
	creds credentialFlags
}

// newCommand builds a subcommand with the shared flags; run does the work.
func newCommand(use, short string, shared *sharedFlags, run func(*cobra.Command) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return run(cmd) },
	}
	shared.messageFlags.register(cmd)
	shared.creds.register(cmd)
	return cmd
}

// template reads a template flag: the text itself, or @file.
func template(flag, value string) (*gitops.Template, error) {
	if path, ok := strings.CutPrefix(value, "@"); ok {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("failed to read --%s: %w", flag, err)
		}
		value = string(data)
	}
	return gitops.ParseTemplate("--"+flag, value)
}

// writeResult writes a Tekton result file when path is set.
func writeResult(path, value string) error {
	if path == "" {
		return nil
	}
	if err := os.WriteFile(path, []byte(value), 0o644); err != nil {
		return fmt.Errorf("failed to write result %s: %w", path, err)
	}
	return nil
}

// credentials reads the token or GitHub App settings from flags and the environment.
type credentialFlags struct {
	appID, appKeyFile string
	installation      int64
}

func (f *credentialFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.appID, "app-id", "", "GitHub App id (default $GH_APP_ID)")
	cmd.Flags().StringVar(&f.appKeyFile, "app-private-key-file", "", "GitHub App private key, PEM (default $GH_APP_PRIVATE_KEY_FILE)")
	cmd.Flags().Int64Var(&f.installation, "app-installation-id", 0, "GitHub App installation (default $GH_APP_INSTALLATION_ID, else looked up)")
}

func (f *credentialFlags) resolve(env Env, redact *gitops.Redactor) (gitops.Credentials, error) {
	id := firstNonEmpty(f.appID, env.Getenv("GH_APP_ID"))
	keyFile := firstNonEmpty(f.appKeyFile, env.Getenv("GH_APP_PRIVATE_KEY_FILE"))
	key := []byte(env.Getenv("GH_APP_PRIVATE_KEY"))
	if id == "" && keyFile == "" && len(key) == 0 {
		for _, name := range gitops.TokenEnv {
			if tok := env.Getenv(name); tok != "" {
				return gitops.Credentials{Token: tok}, nil
			}
		}
		return gitops.Credentials{}, nil
	}
	if keyFile != "" {
		data, err := os.ReadFile(keyFile)
		if err != nil {
			return gitops.Credentials{}, fmt.Errorf("failed to read the GitHub App private key: %w", err)
		}
		key = data
		redact.Add(string(data))
	}
	if id == "" || len(key) == 0 {
		return gitops.Credentials{}, errors.New("a GitHub App needs both an id (--app-id) and a private key (--app-private-key-file)")
	}
	inst := f.installation
	if inst == 0 && env.Getenv("GH_APP_INSTALLATION_ID") != "" {
		n, err := strconv.ParseInt(env.Getenv("GH_APP_INSTALLATION_ID"), 10, 64)
		if err != nil {
			return gitops.Credentials{}, fmt.Errorf("GH_APP_INSTALLATION_ID must be a number: %w", err)
		}
		inst = n
	}
	return gitops.Credentials{App: &gitops.App{ID: id, PrivateKey: key, InstallationID: inst}}, nil
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
