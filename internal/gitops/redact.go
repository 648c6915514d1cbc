package gitops

import (
	"errors"
	"regexp"
	"strings"
)

// userinfo matches the credentials of a URL (https://user:secret@host), which git echoes in
// some of its messages.
var userinfo = regexp.MustCompile(`(?i)([a-z][a-z0-9+.-]*://)[^/@\s]+@`)

// Redactor removes secrets from text before it is printed or wrapped into an error. The zero
// value only removes URL credentials.
type Redactor struct {
	secrets []string
}

// Add registers secrets to remove; empty strings are ignored.
func (r *Redactor) Add(secrets ...string) {
	for _, s := range secrets {
		if s != "" {
			r.secrets = append(r.secrets, s)
		}
	}
}

// String returns s with every registered secret and every URL credential replaced.
func (r *Redactor) String(s string) string {
	if r != nil {
		for _, secret := range r.secrets {
			s = strings.ReplaceAll(s, secret, "[REDACTED]")
		}
	}
	return userinfo.ReplaceAllString(s, "${1}[REDACTED]@")
}

// Error returns err with its message redacted, or nil. The result does not wrap err: a wrapped
// error could still reveal the secret through its own Error method.
func (r *Redactor) Error(err error) error {
	if err == nil {
		return nil
	}
	return redactedError{msg: r.String(err.Error()), cause: err}
}

// redactedError keeps the original error for errors.As on typed causes (exit codes, HTTP
// status) while printing only the redacted message.
type redactedError struct {
	msg   string
	cause error
}

func (e redactedError) Error() string { return e.msg }

// As lets callers inspect the cause's type (for example *api.HTTPError) without its message.
func (e redactedError) As(target any) bool {
	return asCause(e.cause, target)
}

func asCause(cause error, target any) bool { return errors.As(cause, target) }
