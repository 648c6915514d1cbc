package prcmd

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/modelsync/modelsync/internal/gitops"
)

type pushOptions struct {
	sharedFlags
	fork, branch, template  string
	authorName, authorEmail string
	dryRun                  bool
	resultCommit            string
	resultStatus            string
}

func newPushCommand(env Env, redact *gitops.Redactor) *cobra.Command {
	o := &pushOptions{}
	cmd := newCommand("push --fork URL --branch NAME",
		"Commit the model change on top of the base and push the branch, only if it changed",
		&o.sharedFlags, func(cmd *cobra.Command) error { return o.run(cmd, env, redact) })
	f := cmd.Flags()
	f.StringVar(&o.fork, "fork", "", "fork to push to: a git URL or a remote name (required)")
	f.StringVar(&o.branch, "branch", "", "branch on the fork that carries the change (required)")
	f.StringVar(&o.template, "message-template", gitops.DefaultCommitTemplate, "commit message (Go template, or @file)")
	f.StringVar(&o.authorName, "author-name", gitops.DefaultIdentity.Name, "commit author name")
	f.StringVar(&o.authorEmail, "author-email", gitops.DefaultIdentity.Email, "commit author email")
	f.BoolVar(&o.dryRun, "dry-run", false, "print what would be pushed; commit and push nothing")
	f.StringVar(&o.resultCommit, "result-commit", "", "file to write the branch's commit to (a Tekton result)")
	f.StringVar(&o.resultStatus, "result-status", "", "file to write pushed, up-to-date, no-changes or would-push to (a Tekton result)")
	return cmd
}

func (o *pushOptions) run(cmd *cobra.Command, env Env, redact *gitops.Redactor) error {
	if o.fork == "" || o.branch == "" {
		return usageError{fmt.Errorf("--fork and --branch are required")}
	}
	tmpl, err := template("message-template", o.template)
	if err != nil {
		return err
	}
	lineage, err := o.lineage()
	if err != nil {
		return err
	}
	g := &gitops.Git{Dir: o.dir, Redact: redact}
	if g.Env, err = o.gitAuth(cmd, env, redact); err != nil {
		return err
	}
	res, err := gitops.Push(cmd.Context(), gitops.PushOptions{
		Git: g, Remote: o.fork, Branch: o.branch, Base: o.base, ModelKey: o.modelKey,
		Message: func(c gitops.Change) (string, error) {
			return tmpl.Render(gitops.MessageData{Change: c, Lineage: lineage})
		},
		Author: gitops.Identity{Name: o.authorName, Email: o.authorEmail},
		DryRun: o.dryRun,
	})
	if err != nil {
		if msg := err.Error(); strings.Contains(msg, "could not read Username") || strings.Contains(msg, "Authentication failed") {
			return fmt.Errorf("%w (git has no valid credentials for the fork: set GH_TOKEN or GITHUB_TOKEN, or a GitHub App, "+
				"or use an ssh URL with a deploy key)", err)
		}
		return err
	}
	out := cmd.OutOrStdout()
	fork := redact.String(o.fork)
	switch {
	case res.Status == gitops.NoChanges:
		fmt.Fprintf(out, "no changes: the work tree matches the base revision; nothing to push\n")
	case res.Status == gitops.UpToDate:
		fmt.Fprintf(out, "up to date: branch %s of %s already holds this change (%s); nothing pushed\n", o.branch, fork, short(res.Commit))
	case res.Status == gitops.WouldPush:
		fmt.Fprintf(out, "dry run: would push a commit to branch %s of %s (%s):\n\n%s", o.branch, fork, was(res.Previous), indent(res.Message))
	default:
		fmt.Fprintf(out, "pushed %s to branch %s of %s (%s):\n\n%s", short(res.Commit), o.branch, fork, was(res.Previous), indent(res.Message))
	}
	if err := writeResult(o.resultStatus, string(res.Status)); err != nil {
		return err
	}
	return writeResult(o.resultCommit, res.Commit)
}

// gitAuth returns the environment that lets git push over https to the GitHub host with the
// token, as an extra header read from git's environment configuration: the token appears in
// no command line, remote URL or log.
func (o *pushOptions) gitAuth(cmd *cobra.Command, env Env, redact *gitops.Redactor) ([]string, error) {
	if o.dryRun {
		return nil, nil
	}
	forkURL := o.fork
	if !strings.ContainsAny(forkURL, "/:") { // a remote name
		g := &gitops.Git{Dir: o.dir, Redact: redact}
		u, err := g.Run(cmd.Context(), "remote", "get-url", "--", forkURL)
		if err != nil {
			return nil, fmt.Errorf("failed to read the URL of remote %q: %w", forkURL, err)
		}
		forkURL = u
	}
	if !strings.HasPrefix(forkURL, "https://") {
		return nil, nil
	}
	host, repo, err := gitops.ParseRepoURL(forkURL)
	if err != nil {
		return nil, nil // not a GitHub URL: git's own credential setup applies
	}
	creds, err := o.creds.resolve(env, redact)
	if err != nil || (creds.Token == "" && creds.App == nil) {
		return nil, err
	}
	token, err := creds.Resolve(cmd.Context(), gitops.ClientOptions{Host: apiHost(env, host), Transport: env.Transport, Redact: redact}, repo, env.Now())
	if err != nil {
		return nil, err
	}
	basic := base64.StdEncoding.EncodeToString([]byte("x-access-token:" + token))
	redact.Add(basic)
	return []string{
		"GIT_CONFIG_COUNT=1",
		"GIT_CONFIG_KEY_0=http.https://" + host + "/.extraheader",
		"GIT_CONFIG_VALUE_0=AUTHORIZATION: basic " + basic,
	}, nil
}

func apiHost(env Env, fromURL string) string {
	return firstNonEmpty(env.Getenv("GH_HOST"), fromURL, "github.com")
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

func was(previous string) string {
	if previous == "" {
		return "new branch"
	}
	return "replacing " + short(previous)
}

func indent(text string) string {
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		if line != "" {
			b.WriteString("    ")
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}
