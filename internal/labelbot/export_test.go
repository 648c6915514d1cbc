package labelbot

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeGitHub plays the issues endpoint of GitHub's REST API: JSON pages linked by Link headers
// that name the public API host, pull requests mixed in, and rate-limit answers on demand.
type fakeGitHub struct {
	t       *testing.T
	items   []map[string]any
	now     time.Time
	apiBase string          // https://api.github.com or https://HOST/api/v3, as GitHub serves each
	limited map[string]int  // page -> "remaining 0" answers to give first
	retry   map[string]int  // page -> "Retry-After" answers to give first
	spent   map[string]bool // pages answered with the quota used up (remaining 0)

	mu       sync.Mutex
	requests []string
}

func (f *fakeGitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r.URL.RequestURI())
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if got := r.Header.Get("Authorization"); got != "token secret-token" {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"message":"Bad credentials"}`)
		return
	}
	base, _ := url.Parse(f.apiBase)
	if p := strings.TrimPrefix(r.URL.Path, base.Path); p != "/repos/octo/demo/issues" && p != "/repositories/42/issues" {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}`)
		return
	}
	q := r.URL.Query()
	if q.Get("state") != "all" || q.Get("direction") != "asc" {
		f.t.Errorf("query %v: want state=all and direction=asc", q)
	}
	page := q.Get("page")
	if page == "" {
		page = "1"
	}
	if f.limited[page] > 0 {
		f.limited[page]--
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(f.now.Add(30*time.Second).Unix(), 10))
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"message":"API rate limit exceeded"}`)
		return
	}
	if f.retry[page] > 0 {
		f.retry[page]--
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"message":"You have exceeded a secondary rate limit"}`)
		return
	}
	per, _ := strconv.Atoi(q.Get("per_page"))
	n, _ := strconv.Atoi(page)
	lo, hi := (n-1)*per, min(n*per, len(f.items))
	last := (len(f.items) + per - 1) / per
	link := func(p int) string {
		q.Set("page", strconv.Itoa(p))
		return "<" + f.apiBase + "/repositories/42/issues?" + q.Encode() + ">"
	}
	var links []string
	if n < last {
		links = append(links, link(n+1)+`; rel="next"`, link(last)+`; rel="last"`)
	}
	if n > 1 {
		links = append(links, link(1)+`; rel="first"`)
	}
	w.Header().Set("Link", strings.Join(links, ", "))
	w.Header().Set("X-RateLimit-Remaining", "4999")
	if f.spent[page] {
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(f.now.Add(90*time.Second).Unix(), 10))
	}
	_ = json.NewEncoder(w).Encode(f.items[lo:hi])
}

// redirect sends every request to the loopback server, as if it were the GitHub host.
type redirect struct {
	target *url.URL
	mu     sync.Mutex
	hosts  map[string]int
}

func (rt *redirect) RoundTrip(r *http.Request) (*http.Response, error) {
	rt.mu.Lock()
	rt.hosts[r.URL.Host]++
	rt.mu.Unlock()
	out := r.Clone(r.Context())
	out.URL.Scheme, out.URL.Host = rt.target.Scheme, rt.target.Host
	resp, err := http.DefaultTransport.RoundTrip(out)
	if resp != nil {
		resp.Request = r
	}
	return resp, err
}

func fakeItems(n int) []map[string]any {
	items := make([]map[string]any, n)
	start := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range items {
		item := map[string]any{
			"number": i + 1, "title": fmt.Sprintf("issue %d", i+1), "body": fmt.Sprintf("body of %d", i+1),
			"html_url":   fmt.Sprintf("https://github.example/octo/demo/issues/%d", i+1),
			"created_at": start.Add(time.Duration(i) * time.Hour).Format(time.RFC3339),
			"labels":     []map[string]any{{"id": i, "name": "bug", "color": "d73a4a"}},
			"user":       map[string]any{"login": "someone"},
			"state":      "open",
		}
		switch {
		case i%10 == 3:
			item["pull_request"] = map[string]any{"url": "https://api.github.example/repos/octo/demo/pulls/1"}
		case i%10 == 5:
			item["body"] = nil
			item["labels"] = []any{}
		}
		items[i] = item
	}
	return items
}

func TestExport(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name              string
		host, apiBase     string
		repo              string
		items             int
		limited, retry    map[string]int
		spent             map[string]bool
		wantIssues, wantP int
		wantWaits         []time.Duration
		maxWait           time.Duration
		wantErr           string
	}{
		{name: "pages-and-rate-limits", repo: "octo/demo", items: 250,
			host: "github.com", apiBase: "https://api.github.com",
			limited: map[string]int{"2": 1}, retry: map[string]int{"3": 1},
			wantIssues: 225, wantP: 3, wantWaits: []time.Duration{31 * time.Second, 7 * time.Second}},
		{name: "quota-used-up-waits-before-next-page", repo: "octo/demo", items: 150, spent: map[string]bool{"1": true, "2": true},
			wantIssues: 135, wantP: 2, wantWaits: []time.Duration{91 * time.Second}},
		{name: "wait-longer-than-maximum", repo: "octo/demo", items: 150, spent: map[string]bool{"1": true}, maxWait: time.Minute,
			wantErr: "rate limit resets in 1m31s, longer than the maximum wait 1m0s"},
		{name: "enterprise-host", repo: "octo/demo", items: 120, host: "ghe.example", apiBase: "https://ghe.example/api/v3",
			wantIssues: 108, wantP: 2},
		{name: "empty", repo: "octo/demo", wantIssues: 0, wantP: 1},
		{name: "not-found", repo: "octo/missing", wantErr: "failed to export issues of octo/missing: HTTP 404: Not Found (https://api.github.com/repos/octo/missing/issues?"},
		{name: "bad-repo", repo: "octo", wantErr: `repo "octo" is not OWNER/NAME`},
		{name: "rate-limited-forever", repo: "octo/demo", items: 5, limited: map[string]int{"1": 99},
			wantErr: "still rate limited after 5 waits"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("GH_CONFIG_DIR", t.TempDir()) // no gh configuration of the machine leaks in
			if tc.host == "" {
				tc.host, tc.apiBase = "github.com", "https://api.github.com"
			}
			gh := &fakeGitHub{t: t, items: fakeItems(tc.items), now: now, apiBase: tc.apiBase, limited: tc.limited, retry: tc.retry, spent: tc.spent}
			srv := httptest.NewServer(gh)
			defer srv.Close()
			target, _ := url.Parse(srv.URL)
			rt := &redirect{target: target, hosts: map[string]int{}}
			var slept []time.Duration
			var out bytes.Buffer
			stats, err := Export(context.Background(), &out, ExportOptions{
				Repo: tc.repo, Host: tc.host, Token: "secret-token", Transport: rt, MaxWait: tc.maxWait,
				Now:   func() time.Time { return now },
				Sleep: func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil },
			})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			issues, bad, err := ReadIssues(&out)
			if err != nil || len(bad) > 0 {
				t.Fatalf("exported JSONL does not read back: %v %v", err, bad)
			}
			if len(issues) != tc.wantIssues || stats.Issues != tc.wantIssues || stats.Pages != tc.wantP {
				t.Fatalf("got %d issues (stats %+v), want %d issues on %d pages", len(issues), stats, tc.wantIssues, tc.wantP)
			}
			if fmt.Sprint(slept) != fmt.Sprint(tc.wantWaits) {
				t.Errorf("slept %v, want %v", slept, tc.wantWaits)
			}
			for i, iss := range issues {
				if strings.Contains(iss.URL, "/pulls/") || iss.Title == "issue 4" {
					t.Errorf("issue %d is a pull request: %+v", i, iss)
				}
			}
			if tc.items > 0 {
				first := issues[0]
				if first.Title != "issue 1" || first.Body != "body of 1" || fmt.Sprint(first.Labels) != "[bug]" ||
					first.URL != "https://github.example/octo/demo/issues/1" || !first.CreatedAt.Equal(time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)) {
					t.Errorf("first issue = %+v", first)
				}
				if sixth := issues[5]; sixth.Title != "issue 7" {
					t.Errorf("sixth issue = %+v, want issue 7 (issue 4 is a PR)", sixth)
				}
				if nb := issues[4]; nb.Title != "issue 6" || nb.Body != "" || len(nb.Labels) != 0 {
					t.Errorf("issue without body and labels = %+v", nb)
				}
			}
			wantHost, _ := url.Parse(tc.apiBase)
			for host := range rt.hosts {
				if host != wantHost.Host {
					t.Errorf("request went to host %q, want only %s", host, wantHost.Host)
				}
			}
		})
	}
}
