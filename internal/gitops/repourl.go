package gitops

import (
	"fmt"
	"net/url"
	"strings"
)

// ParseRepoURL reads the host and owner/name of a GitHub repository from a clone URL:
// https://host/owner/name(.git), ssh://git@host/owner/name, git@host:owner/name(.git).
func ParseRepoURL(raw string) (host string, repo Repo, err error) {
	var path string
	switch {
	case strings.Contains(raw, "://"):
		u, perr := url.Parse(raw)
		if perr != nil {
			return "", Repo{}, fmt.Errorf("failed to parse repository URL %q: not a URL", (&Redactor{}).String(raw))
		}
		host, path = u.Hostname(), u.Path
	case strings.Contains(raw, ":") && !strings.HasPrefix(raw, "/"):
		userHost, p, _ := strings.Cut(raw, ":")
		_, h, found := strings.Cut(userHost, "@")
		if !found {
			h = userHost
		}
		host, path = h, p
	default:
		return "", Repo{}, fmt.Errorf("repository URL %q names no GitHub repository (want https://host/owner/name or git@host:owner/name)", raw)
	}
	parts := strings.Split(strings.Trim(strings.TrimSuffix(strings.TrimSuffix(path, "/"), ".git"), "/"), "/")
	if host == "" || len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		return "", Repo{}, fmt.Errorf("repository URL %q names no GitHub repository (want https://host/owner/name or git@host:owner/name)",
			(&Redactor{}).String(raw))
	}
	return host, Repo{Owner: parts[0], Name: parts[1]}, nil
}

// ParseRepo reads owner/name.
func ParseRepo(s string) (Repo, error) {
	owner, name, ok := strings.Cut(s, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return Repo{}, fmt.Errorf("repository %q must be owner/name", s)
	}
	return Repo{Owner: owner, Name: name}, nil
}
