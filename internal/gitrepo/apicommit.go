package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// GitData is the part of GitHub's Git Data API that CommitViaAPI uses, with
// plain Go types. References are full names ("refs/heads/<branch>").
// GitHubData implements it with go-github; tests write their own.
type GitData interface {
	// GetRef returns the commit SHA ref points at, or an error wrapping
	// ErrRefNotFound.
	GetRef(ctx context.Context, owner, repo, ref string) (string, error)
	// GetCommit returns a commit's tree, parents and message.
	GetCommit(ctx context.Context, owner, repo, sha string) (Commit, error)
	// CreateBlob stores content and returns the blob's SHA.
	CreateBlob(ctx context.Context, owner, repo string, content []byte) (string, error)
	// CreateTree returns the SHA of baseTree with entries applied (an
	// entry with an empty SHA deletes its path).
	CreateTree(ctx context.Context, owner, repo, baseTree string, entries []TreeEntry) (string, error)
	// CreateCommit creates a commit and returns its SHA. No author is
	// given: GitHub uses the App's identity and signs the commit.
	CreateCommit(ctx context.Context, owner, repo string, c NewCommit) (string, error)
	// CreateRef creates ref at sha.
	CreateRef(ctx context.Context, owner, repo, ref, sha string) error
	// UpdateRef moves ref to sha, even when that is not a fast-forward if
	// force is set.
	UpdateRef(ctx context.Context, owner, repo, ref, sha string, force bool) error
}

// Commit is a commit object as GitData returns it.
type Commit struct {
	SHA     string
	Tree    string
	Parents []string
	Message string
}

// NewCommit is a commit to create.
type NewCommit struct {
	Message string
	Tree    string
	Parents []string
}

// TreeEntry is one path of a tree to create.
type TreeEntry struct {
	// Path is slash-separated, relative to the repository root.
	Path string
	// Mode is "100644" (file), "100755" (executable) or "120000"
	// (symbolic link).
	Mode string
	// SHA is the blob's SHA; empty deletes the path.
	SHA string
}

// ModeFile is the tree mode of a regular file.
const ModeFile = "100644"

// CommitViaAPIOptions describe an API commit.
type CommitViaAPIOptions struct {
	Owner, Repo string
	// Branch is created or force-updated to the new commit. It must not
	// be protected (see Protected).
	Branch string
	// BaseSHA is the commit the change applies to; it becomes the new
	// commit's only parent.
	BaseSHA string
	Message string
	// Files are written (slash-separated paths → contents, mode 100644).
	Files map[string][]byte
	// Deletes are removed.
	Deletes []string
	// DefaultBranch and ProtectedBranches are refused, as in PushOptions.
	DefaultBranch     string
	ProtectedBranches []string
}

// CommitViaAPI commits Files and Deletes on top of BaseSHA through GitHub's
// Git Data API — blobs, a tree on the base commit's tree, a commit — and
// creates or force-updates Branch to it. GitHub signs such commits, so they
// show as Verified where signed commits are required.
//
// It returns ErrNothingToCommit when the tree would not change, and makes
// no new commit (Updated false) when Branch already holds the same change:
// the same tree on the same single parent with the same message.
func CommitViaAPI(ctx context.Context, api GitData, opts CommitViaAPIOptions) (RemoteBranch, error) {
	op := fmt.Sprintf("commit %s/%s@%s via API", opts.Owner, opts.Repo, opts.Branch)
	ref, err := branchRef(opts.Branch)
	if err != nil {
		return RemoteBranch{}, fmt.Errorf("%s: %w", op, err)
	}
	if Protected(opts.Branch, append([]string{opts.DefaultBranch}, opts.ProtectedBranches...)...) {
		return RemoteBranch{}, fmt.Errorf("%s: %w", op, ErrProtectedBranch)
	}
	if opts.Owner == "" || opts.Repo == "" {
		return RemoteBranch{}, fmt.Errorf("%s: owner and repository are required", op)
	}
	if !isSHA(opts.BaseSHA) {
		return RemoteBranch{}, fmt.Errorf("%s: base %q is not a commit SHA", op, opts.BaseSHA)
	}
	msg := strings.TrimRight(opts.Message, "\n")
	if strings.TrimSpace(msg) == "" {
		return RemoteBranch{}, fmt.Errorf("%s: empty message", op)
	}
	if len(opts.Files) == 0 && len(opts.Deletes) == 0 {
		return RemoteBranch{}, fmt.Errorf("%s: %w", op, ErrNothingToCommit)
	}
	names := sortedKeys(opts.Files)
	paths, err := cleanPaths(append(slices.Clone(names), opts.Deletes...))
	if err != nil {
		return RemoteBranch{}, fmt.Errorf("%s: %w", op, err)
	}

	base, err := api.GetCommit(ctx, opts.Owner, opts.Repo, opts.BaseSHA)
	if err != nil {
		return RemoteBranch{}, fmt.Errorf("%s: base commit %s: %w", op, opts.BaseSHA, err)
	}
	entries := make([]TreeEntry, 0, len(paths))
	for i, name := range names {
		sha, err := api.CreateBlob(ctx, opts.Owner, opts.Repo, opts.Files[name])
		if err != nil {
			return RemoteBranch{}, fmt.Errorf("%s: blob %s: %w", op, paths[i], err)
		}
		entries = append(entries, TreeEntry{Path: paths[i], Mode: ModeFile, SHA: sha})
	}
	deletes := paths[len(names):]
	slices.Sort(deletes)
	for _, p := range deletes {
		entries = append(entries, TreeEntry{Path: p, Mode: ModeFile})
	}
	tree, err := api.CreateTree(ctx, opts.Owner, opts.Repo, base.Tree, entries)
	if err != nil {
		return RemoteBranch{}, fmt.Errorf("%s: tree: %w", op, err)
	}
	if tree == base.Tree {
		return RemoteBranch{}, fmt.Errorf("%s: %w", op, ErrNothingToCommit)
	}

	current, err := api.GetRef(ctx, opts.Owner, opts.Repo, string(ref))
	exists := err == nil
	if err != nil && !errors.Is(err, ErrRefNotFound) {
		return RemoteBranch{}, fmt.Errorf("%s: %w", op, err)
	}
	if exists {
		c, err := api.GetCommit(ctx, opts.Owner, opts.Repo, current)
		if err != nil {
			return RemoteBranch{}, fmt.Errorf("%s: branch commit %s: %w", op, current, err)
		}
		if c.Tree == tree && slices.Equal(c.Parents, []string{opts.BaseSHA}) &&
			strings.TrimRight(c.Message, "\n") == msg {
			return RemoteBranch{SHA: current}, nil
		}
	}

	sha, err := api.CreateCommit(ctx, opts.Owner, opts.Repo, NewCommit{
		Message: msg,
		Tree:    tree,
		Parents: []string{opts.BaseSHA},
	})
	if err != nil {
		return RemoteBranch{}, fmt.Errorf("%s: commit: %w", op, err)
	}
	if exists {
		err = api.UpdateRef(ctx, opts.Owner, opts.Repo, string(ref), sha, true)
	} else {
		err = api.CreateRef(ctx, opts.Owner, opts.Repo, string(ref), sha)
	}
	if err != nil {
		return RemoteBranch{}, fmt.Errorf("%s: update %s: %w", op, ref, err)
	}
	return RemoteBranch{SHA: sha, Updated: true}, nil
}

func isSHA(s string) bool {
	if len(s) != 40 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
