package controller

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
)

// TestLambdaCheck calls a loopback lambda directly: headers, redirects, size cap, allowed hosts.
func TestLambdaCheck(t *testing.T) {
	t.Parallel()
	answer := `{"kind":"NeedsSync","apiVersion":"v1alpha1","needsSync":true,"parameters":{"name":"m"},"errors":[]}`
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/redirect/"):
			n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/redirect/"))
			next := fmt.Sprintf("/redirect/%d", n-1)
			if n <= 1 {
				next = "/ok"
			}
			http.Redirect(w, r, next, http.StatusFound)
		case r.URL.Path == "/to-localhost":
			http.Redirect(w, r, strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)+"/ok", http.StatusFound)
		case r.URL.Path == "/exactly-1MiB":
			_, _ = w.Write([]byte(answer + strings.Repeat(" ", MaxAnswerBytes-len(answer))))
		case r.URL.Path == "/headers":
			if r.Header.Get("Accept") != "application/json" || r.Header.Get("X-ModelSync-Name") != "probe" ||
				r.Header.Get("X-ModelSync-Namespace") != "ml" || r.Method != http.MethodGet {
				http.Error(w, "unexpected request "+r.Method+" "+fmt.Sprint(r.Header), http.StatusBadRequest)
				return
			}
			_, _ = w.Write([]byte(answer))
		default:
			_, _ = w.Write([]byte(answer))
		}
	}))
	t.Cleanup(srv.Close)

	cases := []struct {
		name    string
		path    string
		allowed []string
		wantErr string
	}{
		{name: "headers", path: "/headers"},
		{name: "three-redirects", path: "/redirect/3"},
		{name: "four-redirects", path: "/redirect/4", wantErr: "stopped after 3 redirects"},
		{name: "exactly-1MiB", path: "/exactly-1MiB"},
		{name: "allowed-host", path: "/ok", allowed: []string{"127.0.0.1"}},
		{name: "host-not-allowed", path: "/ok", allowed: []string{"lambda.ml", "*.ml"},
			wantErr: `refused to call the lambda: host "127.0.0.1" is not in --needs-sync-allowed-hosts`},
		{name: "redirect-to-host-not-allowed", path: "/to-localhost", allowed: []string{"127.0.0.1"},
			wantErr: `host "localhost" is not in --needs-sync-allowed-hosts`},
		{name: "wildcard-is-not-the-domain", path: "/ok", allowed: []string{"*.127.0.0.1"}, wantErr: "is not in --needs-sync-allowed-hosts"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ms := &automlv1alpha1.ModelSync{
				ObjectMeta: metav1.ObjectMeta{Namespace: "ml", Name: "probe"},
				Spec:       automlv1alpha1.ModelSyncSpec{NeedsSyncURL: srv.URL + tc.path, Timeout: &metav1.Duration{Duration: 5 * time.Second}},
			}
			got, err := NewLambda(tc.allowed).Check(context.Background(), ms)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.NeedsSync || got.Parameters["name"] != "m" {
				t.Errorf("answer %+v", got)
			}
		})
	}
}

// TestOptionsValidate names the flag at fault.
func TestOptionsValidate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Options)
		want   string
	}{
		{"defaults", func(*Options) {}, ""},
		{"concurrency", func(o *Options) { o.Concurrency = 0 }, "--concurrency must be at least 1, got 0"},
		{"interval", func(o *Options) { o.DefaultInterval = time.Second }, "--default-interval must be at least 10s, got 1s"},
		{"retry", func(o *Options) { o.RetryBase = 0 }, "--retry-base must be positive"},
		{"host", func(o *Options) { o.AllowedHosts = []string{"http://lambda"} }, `--needs-sync-allowed-hosts: "http://lambda" is not a host name`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := DefaultOptions()
			tc.mutate(&o)
			err := o.Validate()
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("Validate() = %v, want %q", err, tc.want)
			}
		})
	}
}
