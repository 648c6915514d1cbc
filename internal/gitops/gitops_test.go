package gitops

import (
	"errors"
	"strings"
	"testing"
)

func TestModelValues(t *testing.T) {
	cases := []struct {
		name, diff, old, new string
	}{
		{"yaml", "--- a/cm.yaml\n+++ b/cm.yaml\n@@ -6 +6 @@\n-  automl-model: a/b/old\n+  automl-model: a/b/new\n", "a/b/old", "a/b/new"},
		{"quoted with comment", "-  automl-model: \"old\"  # set by modelsync\n+  automl-model: 'new' # set by modelsync\n", "old", "new"},
		{"json", "-    \"automl-model\": \"old\",\n+    \"automl-model\": \"new\",\n", "old", "new"},
		{"added key", "+  automl-model: new\n", "", "new"},
		{"other keys ignored", "-  threshold: 1\n+  threshold: 2\n-  automl-model-x: no\n", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			old, new := modelValues(c.diff, "automl-model")
			if old != c.old || new != c.new {
				t.Errorf("got %q → %q, want %q → %q", old, new, c.old, c.new)
			}
		})
	}
}

func TestParseRepoURL(t *testing.T) {
	cases := []struct {
		url, host, repo, err string
	}{
		{url: "https://github.com/kubeflow/code-intelligence.git", host: "github.com", repo: "kubeflow/code-intelligence"},
		{url: "git@github.com:kubeflow/code-intelligence.git", host: "github.com", repo: "kubeflow/code-intelligence"},
		{url: "ssh://git@ghe.example.com/team/app", host: "ghe.example.com", repo: "team/app"},
		{url: "https://x-access-token:s3cret@github.com/a/b", host: "github.com", repo: "a/b"},
		{url: "/tmp/fork.git", err: "names no GitHub repository"},
		{url: "https://user:s3cret@github.com/only-owner", err: "https://[REDACTED]@github.com/only-owner"},
	}
	for _, c := range cases {
		t.Run(c.url, func(t *testing.T) {
			host, repo, err := ParseRepoURL(c.url)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || strings.Contains(err.Error(), "s3cret") {
					t.Fatalf("error = %v, want one containing %q and no secret", err, c.err)
				}
				return
			}
			if err != nil || host != c.host || repo.String() != c.repo {
				t.Errorf("got %q %q %v, want %q %q", host, repo, err, c.host, c.repo)
			}
		})
	}
}

func TestRedactor(t *testing.T) {
	r := &Redactor{}
	r.Add("tok123", "")
	cases := []struct{ in, want string }{
		{"bad token tok123 here", "bad token [REDACTED] here"},
		{"fatal: unable to access 'https://x-access-token:abc@github.com/a/b.git/'", "fatal: unable to access 'https://[REDACTED]@github.com/a/b.git/'"},
		{"nothing secret", "nothing secret"},
	}
	for _, c := range cases {
		if got := r.String(c.in); got != c.want {
			t.Errorf("String(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	cause := &APIError{StatusCode: 401, msg: "HTTP 401 with tok123"}
	err := r.Error(cause)
	var api *APIError
	if !errors.As(err, &api) || api.StatusCode != 401 || strings.Contains(err.Error(), "tok123") {
		t.Errorf("Error() = %v (As: %v)", err, api)
	}
}
