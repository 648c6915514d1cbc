package gitops

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/cli/go-gh/v2/pkg/api"
)

// APIError is a GitHub API failure explained for the person reading the pipeline's log.
type APIError struct {
	// StatusCode is the HTTP status GitHub answered.
	StatusCode int
	msg        string
}

func (e *APIError) Error() string { return e.msg }

// describe turns go-gh's errors into messages that say what to do; other errors pass through.
func describe(host string, err error) error {
	var he *api.HTTPError
	if !errors.As(err, &he) {
		return err
	}
	detail := he.Message
	if detail == "" {
		detail = http.StatusText(he.StatusCode)
	}
	var items []string
	for _, item := range he.Errors {
		switch {
		case item.Message != "":
			items = append(items, item.Message)
		case item.Field != "":
			items = append(items, fmt.Sprintf("%s.%s is %s", item.Resource, item.Field, item.Code))
		case item.Code != "":
			items = append(items, item.Code)
		}
	}
	if len(items) > 0 {
		detail += " (" + strings.Join(items, "; ") + ")"
	}
	detail = strings.ReplaceAll(detail, "\n", " ")
	var hint string
	switch code := he.StatusCode; {
	case code == http.StatusUnauthorized:
		hint = fmt.Sprintf("%s rejected the credentials; check GH_TOKEN/GITHUB_TOKEN or the GitHub App id, key and installation", host)
	case code == http.StatusForbidden:
		hint = "the credentials lack a permission (pull requests: write, contents: read) or a rate limit was hit"
	case code == http.StatusNotFound:
		hint = "the repository does not exist or the credentials cannot see it"
	case code == http.StatusUnprocessableEntity:
		hint = "GitHub refused the request as invalid"
	case code >= 500:
		hint = fmt.Sprintf("%s had a server error; the request can be retried later", host)
	default:
		hint = "unexpected answer from " + host
	}
	return &APIError{StatusCode: he.StatusCode, msg: fmt.Sprintf("HTTP %d: %s: %s", he.StatusCode, hint, detail)}
}
