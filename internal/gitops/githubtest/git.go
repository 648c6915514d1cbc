package githubtest

import (
	"encoding/base64"
	"net/http"
	"net/http/cgi"
	"os/exec"
	"path/filepath"
	"strings"
)

// ServeGit makes the server also serve the bare repositories under root over git's smart HTTP
// protocol (the real git http-backend), at https://<Host>/<owner>/<name>.git as GitHub does.
// Requests must authenticate as GitHub accepts tokens from git: basic auth with any user
// name and a known token as the password. Pushes are enabled.
func (s *Server) ServeGit(root string) error {
	out, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.git = &cgi.Handler{
		Path: filepath.Join(strings.TrimSpace(string(out)), "git-http-backend"),
		Root: "/",
		Env: []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1", "GIT_CONFIG_GLOBAL=/dev/null",
			"GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=http.receivepack", "GIT_CONFIG_VALUE_0=true"},
	}
	return nil
}

// serveGit answers a git request; the caller holds s.mu.
func (s *Server) serveGit(w http.ResponseWriter, r *http.Request) {
	if !s.gitAuthorized(r.Header.Get("Authorization")) {
		w.Header().Set("WWW-Authenticate", `Basic realm="GitHub"`)
		http.Error(w, "Invalid username or token. Password authentication is not supported for Git operations.", http.StatusUnauthorized)
		return
	}
	s.git.ServeHTTP(w, r)
}

func (s *Server) gitAuthorized(header string) bool {
	scheme, cred, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "basic") {
		return false
	}
	raw, err := base64.StdEncoding.DecodeString(cred)
	if err != nil {
		return false
	}
	_, password, _ := strings.Cut(string(raw), ":")
	return s.tokens[password]
}
