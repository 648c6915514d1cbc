// Package githubtest is a loopback stand-in for the part of GitHub's REST API that modelsync
// uses (repositories, pull requests, GitHub App installation tokens). It speaks the real wire
// format — paths under /api/v3 as on GitHub Enterprise, JSON bodies, error objects, status
// codes — over TLS with the certificate of net/http/httptest, which is valid for example.com
// and its subdomains, so clients can use a bare host such as ghe.example.com.
package githubtest

import (
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Host is the GitHub Enterprise host name the server answers for.
const Host = "ghe.example.com"

// PullRequest is a pull request held by the server.
type PullRequest struct {
	Repo   string // owner/name
	Number int
	State  string
	Title  string
	Body   string
	Head   string // owner:branch
	Base   string
}

// Request is one request the server received.
type Request struct {
	Method, Path string
	// Auth is "token", "bearer" or "" (how the request authenticated).
	Auth string
}

// Failure is a canned error answer.
type Failure struct {
	Status int
	Body   string // JSON
}

// Server is the fake GitHub. Configure it before use; it is safe for concurrent requests.
type Server struct {
	TLS *httptest.Server

	mu       sync.Mutex
	tokens   map[string]bool
	repos    map[string]string // owner/name → default branch
	pulls    []*PullRequest
	requests []Request
	failures map[string]Failure // "METHOD path-suffix" → answer
	appKey   *rsa.PublicKey
	appID    int64
	instID   int64
	minted   int
	git      http.Handler
	// HeadExists, when set, is asked whether a head (owner, branch) exists before a pull
	// request is opened; GitHub answers 422 when it does not.
	HeadExists func(owner, branch string) bool
}

// New starts a server that accepts token and knows repo (owner/name) with the default branch.
func New(t testing.TB, token, repo, defaultBranch string) *Server {
	s := &Server{
		tokens:   map[string]bool{token: true},
		repos:    map[string]string{repo: defaultBranch},
		failures: map[string]Failure{},
	}
	s.TLS = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.TLS.Close)
	return s
}

// Fail makes requests whose method is method and whose path ends with suffix answer f.
func (s *Server) Fail(method, suffix string, f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[method+" "+suffix] = f
}

// ClearFailures removes the canned answers.
func (s *Server) ClearFailures() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = map[string]Failure{}
}

// App registers a GitHub App with its public key, installed on every known repository.
func (s *Server) App(id int64, key *rsa.PublicKey, installation int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.appID, s.appKey, s.instID = id, key, installation
}

// Pulls returns a copy of the pull requests.
func (s *Server) Pulls() []PullRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]PullRequest, len(s.pulls))
	for i, p := range s.pulls {
		out[i] = *p
	}
	return out
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Writes counts the API requests that could change something (POST, PATCH, PUT, DELETE).
func (s *Server) Writes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if r.Method != http.MethodGet && r.Method != http.MethodHead && strings.HasPrefix(r.Path, "/api/") {
			n++
		}
	}
	return n
}

// Canned GitHub error bodies.
const (
	BadCredentials = `{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest","status":"401"}`
	ServerError    = `{"message":"Server Error"}`
)

// ValidationFailed is GitHub's 422 body with one error message.
func ValidationFailed(message string) string {
	b, _ := json.Marshal(map[string]any{
		"message":           "Validation Failed",
		"errors":            []map[string]string{{"resource": "PullRequest", "code": "custom", "message": message}},
		"documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
		"status":            "422",
	})
	return string(b)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	auth := s.authenticate(r)
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Auth: auth})
	if s.git != nil && !strings.HasPrefix(r.URL.Path, "/api/") {
		s.serveGit(w, r)
		return
	}
	for key, f := range s.failures {
		method, suffix, _ := strings.Cut(key, " ")
		if r.Method == method && strings.HasSuffix(r.URL.Path, suffix) {
			writeJSON(w, f.Status, json.RawMessage(f.Body))
			return
		}
	}
	if r.Header.Get("X-GitHub-Api-Version") == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "missing X-GitHub-Api-Version"})
		return
	}
	path, ok := strings.CutPrefix(r.URL.Path, "/api/v3/")
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	parts := strings.Split(path, "/")
	switch {
	case len(parts) == 4 && parts[0] == "app" && parts[1] == "installations" && parts[3] == "access_tokens" && r.Method == http.MethodPost:
		s.accessToken(w, auth, parts[2])
	case len(parts) >= 3 && parts[0] == "repos":
		repo := parts[1] + "/" + parts[2]
		if _, known := s.repos[repo]; !known {
			writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
			return
		}
		s.repo(w, r, auth, repo, parts[3:])
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
	}
}

func (s *Server) repo(w http.ResponseWriter, r *http.Request, auth, repo string, rest []string) {
	if len(rest) == 1 && rest[0] == "installation" && r.Method == http.MethodGet {
		if auth != "bearer" {
			writeJSON(w, http.StatusUnauthorized, json.RawMessage(`{"message":"A JSON web token could not be decoded"}`))
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"id": s.instID, "app_id": s.appID})
		return
	}
	if auth != "token" {
		writeJSON(w, http.StatusUnauthorized, json.RawMessage(BadCredentials))
		return
	}
	switch {
	case len(rest) == 0 && r.Method == http.MethodGet:
		owner, name, _ := strings.Cut(repo, "/")
		writeJSON(w, http.StatusOK, map[string]any{"name": name, "full_name": repo, "owner": map[string]string{"login": owner},
			"default_branch": s.repos[repo]})
	case len(rest) == 1 && rest[0] == "pulls" && r.Method == http.MethodGet:
		s.listPulls(w, r, repo)
	case len(rest) == 1 && rest[0] == "pulls" && r.Method == http.MethodPost:
		s.createPull(w, r, repo)
	case len(rest) == 2 && rest[0] == "pulls" && r.Method == http.MethodPatch:
		s.updatePull(w, r, repo, rest[1])
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
	}
}

func (s *Server) listPulls(w http.ResponseWriter, r *http.Request, repo string) {
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	out := []map[string]any{}
	for _, p := range s.pulls {
		if p.Repo != repo || (state != "all" && p.State != state) || (q.Get("head") != "" && !strings.EqualFold(q.Get("head"), p.Head)) {
			continue
		}
		out = append(out, s.pullJSON(p))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) createPull(w http.ResponseWriter, r *http.Request, repo string) {
	var in struct {
		Title, Body, Head, Base string
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "Problems parsing JSON"})
		return
	}
	var missing []map[string]string
	for field, v := range map[string]string{"title": in.Title, "head": in.Head, "base": in.Base} {
		if v == "" {
			missing = append(missing, map[string]string{"resource": "PullRequest", "field": field, "code": "missing_field"})
		}
	}
	if len(missing) > 0 {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed", "errors": missing})
		return
	}
	for _, p := range s.pulls {
		if p.Repo == repo && p.State == "open" && strings.EqualFold(p.Head, in.Head) && p.Base == in.Base {
			writeJSON(w, http.StatusUnprocessableEntity, json.RawMessage(ValidationFailed("A pull request already exists for "+in.Head+".")))
			return
		}
	}
	owner, branch, _ := strings.Cut(in.Head, ":")
	if s.HeadExists != nil && !s.HeadExists(owner, branch) {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed",
			"errors": []map[string]string{{"resource": "PullRequest", "field": "head", "code": "invalid"}}})
		return
	}
	p := &PullRequest{Repo: repo, Number: len(s.pulls) + 1, State: "open", Title: in.Title, Body: in.Body, Head: in.Head, Base: in.Base}
	s.pulls = append(s.pulls, p)
	writeJSON(w, http.StatusCreated, s.pullJSON(p))
}

func (s *Server) updatePull(w http.ResponseWriter, r *http.Request, repo, number string) {
	n, _ := strconv.Atoi(number)
	var in map[string]string
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "Problems parsing JSON"})
		return
	}
	for _, p := range s.pulls {
		if p.Repo == repo && p.Number == n {
			if v, ok := in["title"]; ok {
				p.Title = v
			}
			if v, ok := in["body"]; ok {
				p.Body = v
			}
			writeJSON(w, http.StatusOK, s.pullJSON(p))
			return
		}
	}
	writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
}

func (s *Server) pullJSON(p *PullRequest) map[string]any {
	_, branch, _ := strings.Cut(p.Head, ":")
	return map[string]any{
		"url":      fmt.Sprintf("https://%s/api/v3/repos/%s/pulls/%d", Host, p.Repo, p.Number),
		"html_url": fmt.Sprintf("https://%s/%s/pull/%d", Host, p.Repo, p.Number),
		"number":   p.Number, "state": p.State, "title": p.Title, "body": p.Body,
		"head": map[string]any{"label": p.Head, "ref": branch},
		"base": map[string]any{"ref": p.Base, "label": strings.Split(p.Repo, "/")[0] + ":" + p.Base},
	}
}

func (s *Server) accessToken(w http.ResponseWriter, auth, installation string) {
	if auth != "bearer" {
		writeJSON(w, http.StatusUnauthorized, json.RawMessage(`{"message":"A JSON web token could not be decoded"}`))
		return
	}
	if installation != strconv.FormatInt(s.instID, 10) {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	s.minted++
	token := fmt.Sprintf("ghs_installation%04d", s.minted)
	s.tokens[token] = true
	writeJSON(w, http.StatusCreated, map[string]any{"token": token, "expires_at": "2099-01-01T00:00:00Z",
		"permissions": map[string]string{"pull_requests": "write", "contents": "write"}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
