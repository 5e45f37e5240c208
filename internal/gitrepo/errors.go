package gitrepo

import (
	"errors"
	"net/url"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
)

var (
	// ErrEscapes: a path would leave the worktree (absolute, "..", through
	// a symbolic link, or into .git).
	ErrEscapes = errors.New("path escapes the worktree")
	// ErrInvalidPath: a path names no file (empty, ".", or a NUL byte).
	ErrInvalidPath = errors.New("invalid path")
	// ErrNothingToCommit: the change leaves the tree as it was.
	ErrNothingToCommit = errors.New("nothing to commit")
	// ErrProtectedBranch: a push or API commit to the default branch, the
	// base branch or a protected branch was refused.
	ErrProtectedBranch = errors.New("refusing to write to a protected branch")
	// ErrInvalidBranch: a branch name git would not accept.
	ErrInvalidBranch = errors.New("invalid branch name")
	// ErrAuth: the server refused the credentials (HTTP 401 or 403).
	ErrAuth = errors.New("authentication failed")
	// ErrRepoNotFound: the server has no such repository (HTTP 404).
	ErrRepoNotFound = errors.New("repository not found")
	// ErrRefNotFound: no such branch, reference or commit.
	ErrRefNotFound = errors.New("reference not found")
)

// kindError adds a sentinel to a transport error without changing its text.
type kindError struct {
	kind error
	err  error
}

func (e *kindError) Error() string   { return e.err.Error() }
func (e *kindError) Unwrap() []error { return []error{e.kind, e.err} }

// classify tags go-git's transport errors with this package's sentinels.
func classify(err error) error {
	switch {
	case errors.Is(err, transport.ErrAuthenticationRequired),
		errors.Is(err, transport.ErrAuthorizationFailed),
		errors.Is(err, transport.ErrInvalidAuthMethod):
		return &kindError{ErrAuth, err}
	case errors.Is(err, transport.ErrRepositoryNotFound):
		return &kindError{ErrRepoNotFound, err}
	}
	return err
}

// redactedError hides a secret in an error's text; errors.Is and errors.As
// still see the original chain.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact replaces secret in err's text.
func redact(err error, secret string) error {
	if err == nil || secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return &redactedError{msg: strings.ReplaceAll(err.Error(), secret, "[REDACTED]"), err: err}
}

// remoteErr wraps an error of a network operation: what was done, where,
// with sentinels for auth and missing repositories, and without the token.
func remoteErr(op string, err error, token string) error {
	e := classify(err)
	return redact(&opError{op: op, err: e}, token)
}

type opError struct {
	op  string
	err error
}

func (e *opError) Error() string {
	// Servers' messages end with newlines, or are empty after a colon.
	msg := strings.TrimSuffix(strings.TrimSpace(e.err.Error()), ":")
	return e.op + ": " + msg
}
func (e *opError) Unwrap() error { return e.err }

// safeURL shows a URL without its user information.
func safeURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User = nil
	return u.Redacted()
}
