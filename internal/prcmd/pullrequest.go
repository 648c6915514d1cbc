package prcmd

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/modelsync/modelsync/internal/gitops"
)

type pullRequestOptions struct {
	sharedFlags
	repo, repoURL               string
	fork, headOwner, branch     string
	baseBranch                  string
	titleTemplate, bodyTemplate string
	dryRun                      bool
	resultURL, resultNumber     string
	getenvHost                  string // GH_HOST
}

func newPullRequestCommand(env Env, redact *gitops.Redactor) *cobra.Command {
	o := &pullRequestOptions{}
	cmd := newCommand("pull-request --repo-url URL --fork URL --branch NAME",
		"Open the pull request of the branch, or update the one already open",
		&o.sharedFlags, func(cmd *cobra.Command) error { return o.run(cmd, env, redact) })
	f := cmd.Flags()
	f.StringVar(&o.repo, "repo", "", "repository receiving the pull request, owner/name (default: from --repo-url)")
	f.StringVar(&o.repoURL, "repo-url", "", "clone URL of the repository receiving the pull request")
	f.StringVar(&o.fork, "fork", "", "clone URL of the fork holding the branch (gives the head owner)")
	f.StringVar(&o.headOwner, "head-owner", "", "owner of the fork holding the branch (default: from --fork, else the repository owner)")
	f.StringVar(&o.branch, "branch", "", "branch carrying the change (required)")
	f.StringVar(&o.baseBranch, "base", "", "branch to merge into (default: the repository's default branch)")
	f.StringVar(&o.titleTemplate, "title-template", gitops.DefaultTitleTemplate, "pull request title (Go template, or @file)")
	f.StringVar(&o.bodyTemplate, "body-template", gitops.DefaultBodyTemplate, "pull request body (Go template, or @file)")
	f.BoolVar(&o.dryRun, "dry-run", false, "print the pull request that would be opened; contact nothing")
	f.StringVar(&o.resultURL, "result-url", "", "file to write the pull request's URL to (a Tekton result)")
	f.StringVar(&o.resultNumber, "result-number", "", "file to write the pull request's number to (a Tekton result)")
	return cmd
}

func (o *pullRequestOptions) run(cmd *cobra.Command, env Env, redact *gitops.Redactor) error {
	o.getenvHost = env.Getenv("GH_HOST")
	spec, host, err := o.target()
	if err != nil {
		return err
	}
	title, err := template("title-template", o.titleTemplate)
	if err != nil {
		return err
	}
	body, err := template("body-template", o.bodyTemplate)
	if err != nil {
		return err
	}
	lineage, err := o.lineage()
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	g := &gitops.Git{Dir: o.dir, Redact: redact}
	change, changed, err := gitops.DescribeChange(cmd.Context(), g, o.base, o.modelKey)
	if err != nil {
		return err
	}
	if !changed {
		fmt.Fprintln(out, "no changes: the work tree matches the base revision; no pull request to open")
		return writeResults(o, "", "")
	}
	data := gitops.MessageData{Change: change, Lineage: lineage}
	if spec.Title, err = title.Render(data); err != nil {
		return err
	}
	if spec.Body, err = body.Render(data); err != nil {
		return err
	}
	spec.Title = firstLine(spec.Title)
	if o.dryRun {
		base := firstNonEmpty(spec.Base, "(the default branch)")
		fmt.Fprintf(out, "dry run: would open (or update) a pull request on %s\n  repository: %s\n  head: %s\n  base: %s\n  title: %s\n  body:\n%s",
			host, spec.Repo, spec.Head(), base, spec.Title, indent(spec.Body))
		return writeResults(o, "", "")
	}
	creds, err := o.creds.resolve(env, redact)
	if err != nil {
		return err
	}
	copts := gitops.ClientOptions{Host: host, Transport: env.Transport, Redact: redact}
	if copts.Token, err = creds.Resolve(cmd.Context(), copts, spec.Repo, env.Now()); err != nil {
		return err
	}
	client, err := gitops.NewClient(copts, nil)
	if err != nil {
		return err
	}
	pr, action, err := client.EnsurePullRequest(cmd.Context(), spec)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s pull request #%d (%s): %s\n", action, pr.Number, spec.Head(), pr.HTMLURL)
	return writeResults(o, pr.HTMLURL, strconv.Itoa(pr.Number))
}

// target works out the repository, host and head of the pull request from the flags.
func (o *pullRequestOptions) target() (gitops.PullRequestSpec, string, error) {
	spec := gitops.PullRequestSpec{Base: o.baseBranch, Branch: o.branch, HeadOwner: o.headOwner}
	if o.branch == "" {
		return spec, "", usageError{fmt.Errorf("--branch is required")}
	}
	if err := gitops.ValidateBranch(o.branch); err != nil {
		return spec, "", usageError{err}
	}
	var urlHost string
	switch {
	case o.repo != "":
		repo, err := gitops.ParseRepo(o.repo)
		if err != nil {
			return spec, "", usageError{fmt.Errorf("--repo: %w", err)}
		}
		spec.Repo = repo
		if o.repoURL != "" {
			urlHost, _, _ = gitops.ParseRepoURL(o.repoURL)
		}
	case o.repoURL != "":
		host, repo, err := gitops.ParseRepoURL(o.repoURL)
		if err != nil {
			return spec, "", usageError{fmt.Errorf("--repo-url: %w (or set --repo owner/name)", err)}
		}
		spec.Repo, urlHost = repo, host
	default:
		return spec, "", usageError{fmt.Errorf("--repo or --repo-url is required")}
	}
	if spec.HeadOwner == "" && o.fork != "" {
		_, fork, err := gitops.ParseRepoURL(o.fork)
		if err != nil {
			return spec, "", usageError{fmt.Errorf("--fork: %w (or set --head-owner)", err)}
		}
		spec.HeadOwner = fork.Owner
	}
	return spec, firstNonEmpty(o.getenvHost, urlHost, "github.com"), nil
}

func writeResults(o *pullRequestOptions, url, number string) error {
	if err := writeResult(o.resultURL, url); err != nil {
		return err
	}
	return writeResult(o.resultNumber, number)
}

func firstLine(s string) string {
	for i, r := range s {
		if r == '\n' {
			return s[:i]
		}
	}
	return s
}
