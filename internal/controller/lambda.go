package controller

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
)

const (
	// MaxAnswerBytes caps the body of a lambda answer.
	MaxAnswerBytes = 1 << 20
	// MaxRedirects is how many redirects a lambda call follows.
	MaxRedirects = 3
)

// Lambda asks "needs sync" endpoints, following DESIGN.md's protocol.
type Lambda struct {
	client       *http.Client
	allowedHosts []string
}

// NewLambda returns a lambda client. allowedHosts, when not empty, limits the hosts it talks to.
func NewLambda(allowedHosts []string) *Lambda {
	l := &Lambda{allowedHosts: allowedHosts}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 32
	l.client = &http.Client{
		Transport: transport,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > MaxRedirects {
				return fmt.Errorf("stopped after %d redirects", MaxRedirects)
			}
			return l.checkHost(req.URL)
		},
	}
	return l
}

// checkHost refuses URLs whose host is not allowed.
func (l *Lambda) checkHost(u *url.URL) error {
	if len(l.allowedHosts) == 0 {
		return nil
	}
	host := strings.ToLower(u.Hostname())
	for _, allowed := range l.allowedHosts {
		allowed = strings.ToLower(allowed)
		if suffix, ok := strings.CutPrefix(allowed, "*"); ok {
			if strings.HasSuffix(host, suffix) && len(host) > len(suffix) {
				return nil
			}
		} else if host == allowed {
			return nil
		}
	}
	return fmt.Errorf("host %q is not in --needs-sync-allowed-hosts", u.Hostname())
}

// Check sends GET to the ModelSync's lambda and returns its validated answer. The error text is
// stable for a given cause (no timestamps), so that one event is emitted per change of cause.
func (l *Lambda) Check(ctx context.Context, ms *automlv1alpha1.ModelSync) (*automlv1alpha1.NeedsSync, error) {
	u, err := url.Parse(ms.Spec.NeedsSyncURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("spec.needsSyncUrl %q is not an absolute http(s) URL", ms.Spec.NeedsSyncURL)
	}
	if err := l.checkHost(u); err != nil {
		return nil, fmt.Errorf("refused to call the lambda: %w", err)
	}
	timeout := ms.GetTimeout()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("failed to build the lambda request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "modelsync-controller")
	req.Header.Set("X-ModelSync-Namespace", ms.Namespace)
	req.Header.Set("X-ModelSync-Name", ms.Name)

	resp, err := l.client.Do(req)
	if err != nil {
		return nil, describeCallError(err, timeout)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswerBytes+1))
	if err != nil {
		return nil, describeCallError(err, timeout)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fmt.Errorf("lambda answered HTTP %s: %s", resp.Status, excerpt(body))
	}
	if len(body) > MaxAnswerBytes {
		return nil, fmt.Errorf("lambda answer is larger than %d bytes (1 MiB)", MaxAnswerBytes)
	}
	answer, err := automlv1alpha1.ParseNeedsSync(body)
	if err != nil {
		return nil, err
	}
	return answer, nil
}

// describeCallError turns a transport error into a message that names the cause.
func describeCallError(err error, timeout time.Duration) error {
	var netErr net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout() {
		return fmt.Errorf("lambda did not answer within %s (spec.timeout)", timeout)
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return fmt.Errorf("failed to call the lambda: %s %q: %w", urlErr.Op, urlErr.URL, urlErr.Err)
	}
	return fmt.Errorf("failed to call the lambda: %w", err)
}

// excerpt returns the start of a body as one printable line.
func excerpt(body []byte) string {
	const limit = 200
	s := strings.Join(strings.Fields(string(body)), " ")
	if len(s) > limit {
		s = s[:limit] + "…"
	}
	if s == "" {
		return "(empty body)"
	}
	return s
}
