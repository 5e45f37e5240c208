package publish

import (
	"context"
	"errors"
)

// Repo names a repository.
type Repo struct {
	Owner, Name string
}

func (r Repo) String() string { return r.Owner + "/" + r.Name }

// PullRequest is what publish needs to know about a pull request.
type PullRequest struct {
	Number int
	// State is "open" or "closed"; Merged says whether a closed pull
	// request was merged.
	State  string
	Merged bool
	Title  string
	Body   string
	Head   string
	Base   string
	URL    string
}

// NewPullRequest is a pull request to open.
type NewPullRequest struct {
	Title, Body string
	Head, Base  string
}

// ErrNotFound is returned by a Host when what was asked for does not exist.
var ErrNotFound = errors.New("not found")

// ErrExists is returned by CreatePullRequest when the head branch has an
// open pull request already: one opened by an earlier attempt whose answer
// was lost, or by another replica.
var ErrExists = errors.New("a pull request exists already")

// Host is the code host (GitHub) as publish uses it.
type Host interface {
	// PullRequests lists the pull requests of any state whose head branch
	// is head (in the same repository), newest first.
	PullRequests(ctx context.Context, repo Repo, head string) ([]PullRequest, error)
	// OpenPullRequests lists the open pull requests into base, newest
	// first (the first 100).
	OpenPullRequests(ctx context.Context, repo Repo, base string) ([]PullRequest, error)
	// CreatePullRequest opens a pull request; ErrExists when the head
	// branch has an open one.
	CreatePullRequest(ctx context.Context, repo Repo, pr NewPullRequest) (PullRequest, error)
	// EditPullRequest sets a pull request's title and body.
	EditPullRequest(ctx context.Context, repo Repo, number int, title, body string) error
	// ClosePullRequest closes a pull request without merging it.
	ClosePullRequest(ctx context.Context, repo Repo, number int) error
	// Decorate adds labels, requests reviewers (logins or org/team) and
	// adds assignees; empty lists cost no call.
	Decorate(ctx context.Context, repo Repo, number int, labels, reviewers, assignees []string) error
	// SyncComments makes kmend's own comments on a pull request (those
	// carrying marker) equal to bodies, in order: edits the ones that
	// differ, creates missing ones, deletes extra ones.
	SyncComments(ctx context.Context, repo Repo, number int, marker string, bodies []string) error
	// Comment adds a comment.
	Comment(ctx context.Context, repo Repo, number int, body string) error
}

// Git is a clone of the repository at its base branch, as publish uses it.
type Git interface {
	// Dir is the clone's worktree, at the base commit.
	Dir() string
	// BaseSHA is the base commit.
	BaseSHA() string
	// Publish makes one commit with files (repository-relative,
	// slash-separated paths → new contents) on top of the base commit and
	// puts it on branch on the remote, replacing what the branch had. It
	// reports whether the remote changed: a branch that already holds the
	// same change is left alone.
	Publish(ctx context.Context, branch, message string, files map[string][]byte) (changed bool, err error)
}
