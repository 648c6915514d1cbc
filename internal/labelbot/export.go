package labelbot

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/cli/go-gh/v2/pkg/api"
)

// ExportOptions configure Export.
type ExportOptions struct {
	// Repo is OWNER/NAME.
	Repo string
	// Since, when set, asks only for issues updated at or after it (GitHub's `since`).
	Since time.Time
	// Host is the GitHub host (default github.com); Token authenticates (default: gh's own lookup,
	// i.e. GH_TOKEN, GITHUB_TOKEN or gh's configuration).
	Host, Token string
	// Transport carries the requests (default http.DefaultTransport).
	Transport http.RoundTripper
	// PerPage is the page size (default and maximum 100).
	PerPage int
	// MaxRetries bounds the rate-limit waits for one page (default 5); MaxWait bounds one wait
	// (default 1h): a longer reset is an error rather than a silent stall.
	MaxRetries int
	MaxWait    time.Duration
	// Now and Sleep default to the real clock.
	Now   func() time.Time
	Sleep func(context.Context, time.Duration) error
	// Log receives a line per rate-limit wait (default: discarded).
	Log io.Writer
}

// ExportStats counts what Export saw.
type ExportStats struct {
	Pages, Issues, PullRequests int
	Waits                       []time.Duration
}

var repoPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`)

// ghIssue is the part of GitHub's issue object that the export reads.
type ghIssue struct {
	HTMLURL   string          `json:"html_url"`
	Title     string          `json:"title"`
	Body      *string         `json:"body"`
	CreatedAt time.Time       `json:"created_at"`
	Labels    []ghLabel       `json:"labels"`
	PR        json.RawMessage `json:"pull_request"`
}

type ghLabel struct {
	Name string `json:"name"`
}

// Export writes every issue of a repository (pull requests excluded) with its labels to w as
// JSONL, following pagination and waiting out rate limits.
func Export(ctx context.Context, w io.Writer, o ExportOptions) (*ExportStats, error) {
	if !repoPattern.MatchString(o.Repo) {
		return nil, fmt.Errorf("failed to export issues: repo %q is not OWNER/NAME", o.Repo)
	}
	o.Host = cmp.Or(o.Host, "github.com")
	o.PerPage = min(100, cmp.Or(o.PerPage, 100))
	o.MaxRetries = cmp.Or(o.MaxRetries, 5)
	o.MaxWait = cmp.Or(o.MaxWait, time.Hour)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleepContext
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	client, err := api.NewRESTClient(api.ClientOptions{
		Host: o.Host, AuthToken: o.Token, Transport: o.Transport, LogIgnoreEnv: true, Timeout: time.Minute,
	})
	if err != nil {
		return nil, fmt.Errorf("failed to create GitHub client: %w", err)
	}
	q := url.Values{"state": {"all"}, "sort": {"created"}, "direction": {"asc"}, "per_page": {strconv.Itoa(o.PerPage)}}
	if !o.Since.IsZero() {
		q.Set("since", o.Since.UTC().Format(time.RFC3339))
	}
	next := "repos/" + o.Repo + "/issues?" + q.Encode()
	stats := &ExportStats{}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for next != "" {
		resp, err := fetchPage(ctx, client, next, o, stats)
		if err != nil {
			return stats, fmt.Errorf("failed to export issues of %s: %w", o.Repo, err)
		}
		var page []ghIssue
		derr := json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if derr != nil {
			return stats, fmt.Errorf("failed to decode issues page %d of %s: %w", stats.Pages+1, o.Repo, derr)
		}
		stats.Pages++
		for _, gi := range page {
			if len(gi.PR) > 0 && string(gi.PR) != "null" {
				stats.PullRequests++
				continue
			}
			iss := Issue{Title: gi.Title, Labels: []string{}, CreatedAt: gi.CreatedAt, URL: gi.HTMLURL}
			if gi.Body != nil {
				iss.Body = *gi.Body
			}
			for _, l := range gi.Labels {
				iss.Labels = append(iss.Labels, l.Name)
			}
			if err := enc.Encode(&iss); err != nil {
				return stats, fmt.Errorf("failed to write issue %s: %w", gi.HTMLURL, err)
			}
			stats.Issues++
		}
		next = nextLink(resp.Header.Get("Link"))
		if next != "" && resp.Header.Get("X-RateLimit-Remaining") == "0" {
			if err := waitUntilReset(ctx, resp.Header, o, stats); err != nil {
				return stats, fmt.Errorf("failed to export issues of %s: %w", o.Repo, err)
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return stats, fmt.Errorf("failed to write issues: %w", err)
	}
	return stats, nil
}

// fetchPage GETs one page, waiting and retrying when GitHub answers with a rate limit.
func fetchPage(ctx context.Context, client *api.RESTClient, path string, o ExportOptions, stats *ExportStats) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		resp, err := client.RequestWithContext(ctx, http.MethodGet, path, nil)
		if err == nil {
			return resp, nil
		}
		var herr *api.HTTPError
		if !errors.As(err, &herr) || !isRateLimited(herr) {
			return nil, err
		}
		if attempt >= o.MaxRetries {
			return nil, fmt.Errorf("still rate limited after %d waits: %w", attempt, err)
		}
		if err := waitUntilReset(ctx, herr.Headers, o, stats); err != nil {
			return nil, err
		}
	}
}

func isRateLimited(e *api.HTTPError) bool {
	if e.StatusCode != http.StatusForbidden && e.StatusCode != http.StatusTooManyRequests {
		return false
	}
	return e.Headers.Get("Retry-After") != "" || e.Headers.Get("X-RateLimit-Remaining") == "0"
}

// waitUntilReset sleeps for Retry-After seconds, or until X-RateLimit-Reset (plus a second of
// margin), or a minute when GitHub gives neither.
func waitUntilReset(ctx context.Context, h http.Header, o ExportOptions, stats *ExportStats) error {
	wait := time.Minute
	if s, err := strconv.Atoi(h.Get("Retry-After")); err == nil && s >= 0 {
		wait = time.Duration(s) * time.Second
	} else if reset, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil {
		wait = max(0, time.Unix(reset, 0).Sub(o.Now())) + time.Second
	}
	if wait > o.MaxWait {
		return fmt.Errorf("rate limit resets in %v, longer than the maximum wait %v", wait.Round(time.Second), o.MaxWait)
	}
	stats.Waits = append(stats.Waits, wait)
	fmt.Fprintf(o.Log, "rate limited: waiting %v\n", wait.Round(time.Second))
	return o.Sleep(ctx, wait)
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// nextLink returns the rel="next" target of a Link header, or "".
func nextLink(header string) string {
	for part := range strings.SplitSeq(header, ",") {
		target, params, ok := strings.Cut(strings.TrimSpace(part), ";")
		if !ok {
			continue
		}
		for p := range strings.SplitSeq(params, ";") {
			if strings.TrimSpace(p) == `rel="next"` {
				return strings.Trim(strings.TrimSpace(target), "<>")
			}
		}
	}
	return ""
}
