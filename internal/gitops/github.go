package gitops

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cli/go-gh/v2/pkg/api"
)

// Repo names a GitHub repository.
type Repo struct{ Owner, Name string }

func (r Repo) String() string { return r.Owner + "/" + r.Name }

// ClientOptions configures a GitHub client.
type ClientOptions struct {
	// Host is the GitHub host: github.com or an Enterprise host (GH_HOST).
	Host string
	// Token authenticates the requests.
	Token string
	// Transport replaces the HTTP transport (tests point it at a loopback server).
	Transport http.RoundTripper
	// Timeout bounds each request; default 30s.
	Timeout time.Duration
	// Redact cleans error messages.
	Redact *Redactor
}

// Client talks to GitHub's REST API through go-gh.
type Client struct {
	rest   *api.RESTClient
	host   string
	redact *Redactor
}

// NewClient returns a client for o.Host authenticated with o.Token. The token is only ever
// sent to that host (go-gh's rule).
func NewClient(o ClientOptions, headers map[string]string) (*Client, error) {
	if o.Host == "" {
		o.Host = "github.com"
	}
	if strings.ContainsAny(o.Host, ":/") {
		return nil, fmt.Errorf("the GitHub host %q must be a bare host name (no scheme, port or path)", o.Host)
	}
	if o.Token == "" {
		return nil, errors.New("no GitHub credentials: set GH_TOKEN (or GITHUB_TOKEN), or a GitHub App id and private key")
	}
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Second
	}
	rest, err := api.NewRESTClient(api.ClientOptions{
		Host:         o.Host,
		AuthToken:    o.Token,
		Transport:    o.Transport,
		Timeout:      o.Timeout,
		Headers:      headers,
		LogIgnoreEnv: true, // GH_DEBUG=api would print the Authorization header
	})
	if err != nil {
		return nil, o.Redact.Error(fmt.Errorf("failed to create the GitHub client: %w", err))
	}
	return &Client{rest: rest, host: o.Host, redact: o.Redact}, nil
}

// do sends a request and decodes the answer into out (when not nil). what names the operation
// in errors.
func (c *Client) do(ctx context.Context, what, method, path string, in, out any) error {
	var body *bytes.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	} else {
		body = bytes.NewReader(nil)
	}
	if err := c.rest.DoWithContext(ctx, method, path, body, out); err != nil {
		return c.redact.Error(fmt.Errorf("failed to %s: %w", what, describe(c.host, err)))
	}
	return nil
}

// PullRequest is the part of GitHub's pull request object that is used here.
type PullRequest struct {
	Number  int    `json:"number"`
	HTMLURL string `json:"html_url"`
	State   string `json:"state"`
	Title   string `json:"title"`
	Body    string `json:"body"`
	Head    struct {
		Ref   string `json:"ref"`
		Label string `json:"label"`
	} `json:"head"`
	Base struct {
		Ref string `json:"ref"`
	} `json:"base"`
}

// PullRequestSpec is the pull request to open or update.
type PullRequestSpec struct {
	// Repo receives the pull request.
	Repo Repo
	// Base is the branch to merge into; empty means the repository's default branch.
	Base string
	// HeadOwner owns the fork that holds Branch; empty means Repo.Owner.
	HeadOwner string
	// Branch carries the change.
	Branch string
	Title  string
	Body   string
}

// Head returns owner:branch, the form GitHub uses for the head of a pull request.
func (s PullRequestSpec) Head() string {
	owner := s.HeadOwner
	if owner == "" {
		owner = s.Repo.Owner
	}
	return owner + ":" + s.Branch
}

// PRAction says what EnsurePullRequest did.
type PRAction string

const (
	PRCreated   PRAction = "created"
	PRUpdated   PRAction = "updated"
	PRUnchanged PRAction = "unchanged"
)

// EnsurePullRequest opens the pull request for the spec's branch or, when one is already open
// for it, updates its title and body: there is one pull request per branch.
func (c *Client) EnsurePullRequest(ctx context.Context, s PullRequestSpec) (*PullRequest, PRAction, error) {
	if s.Repo.Owner == "" || s.Repo.Name == "" {
		return nil, "", errors.New("the repository (--repo owner/name) is required")
	}
	if err := ValidateBranch(s.Branch); err != nil {
		return nil, "", err
	}
	if strings.TrimSpace(s.Title) == "" {
		return nil, "", errors.New("the pull request title is empty")
	}
	repoPath := "repos/" + url.PathEscape(s.Repo.Owner) + "/" + url.PathEscape(s.Repo.Name)
	var open []PullRequest
	q := url.Values{"state": {"open"}, "head": {s.Head()}, "per_page": {"100"}}
	if err := c.do(ctx, "list the pull requests of "+s.Repo.String(), http.MethodGet, repoPath+"/pulls?"+q.Encode(), nil, &open); err != nil {
		return nil, "", err
	}
	for _, pr := range open {
		if pr.Head.Label != "" && !strings.EqualFold(pr.Head.Label, s.Head()) {
			continue // a server that ignores the head filter
		}
		if pr.Title == s.Title && pr.Body == s.Body {
			return &pr, PRUnchanged, nil
		}
		var updated PullRequest
		patch := map[string]string{"title": s.Title, "body": s.Body}
		what := fmt.Sprintf("update pull request #%d of %s", pr.Number, s.Repo)
		if err := c.do(ctx, what, http.MethodPatch, fmt.Sprintf("%s/pulls/%d", repoPath, pr.Number), patch, &updated); err != nil {
			return nil, "", err
		}
		return &updated, PRUpdated, nil
	}
	base := s.Base
	if base == "" {
		var repo struct {
			DefaultBranch string `json:"default_branch"`
		}
		if err := c.do(ctx, "read repository "+s.Repo.String(), http.MethodGet, repoPath, nil, &repo); err != nil {
			return nil, "", err
		}
		base = repo.DefaultBranch
	}
	var created PullRequest
	create := map[string]any{"title": s.Title, "body": s.Body, "head": s.Head(), "base": base, "maintainer_can_modify": true}
	what := fmt.Sprintf("open a pull request from %s to %s:%s", s.Head(), s.Repo, base)
	if err := c.do(ctx, what, http.MethodPost, repoPath+"/pulls", create, &created); err != nil {
		return nil, "", err
	}
	return &created, PRCreated, nil
}
