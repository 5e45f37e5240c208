package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// PushOptions say which branch to push and how.
type PushOptions struct {
	// Branch is the local branch to push to the branch of the same name.
	Branch string
	// Token is the installation token (basic auth x-access-token:<Token>).
	Token string
	// Force replaces the remote branch even when that is not a
	// fast-forward: kmend rebuilds its own branch from the base.
	Force bool
	// DefaultBranch is the repository's default branch, when the caller
	// knows it (GitHub's repository.default_branch). It is refused, as are
	// the branch that was cloned and the default branch the server named
	// when cloning.
	DefaultBranch string
	// ProtectedBranches are refused too: names or path.Match patterns
	// ("release/*").
	ProtectedBranches []string
}

// RemoteBranch is what a push or an API commit left on the server.
type RemoteBranch struct {
	// SHA is the branch's commit on the server afterwards.
	SHA string
	// Updated is false when the server already had this change: the same
	// commit, or one with the same tree, parents, message and author.
	Updated bool
}

// Protected reports whether branch is one kmend must never write to: the
// default or base branch, or one matching a protected name or pattern.
func Protected(branch string, protected ...string) bool {
	for _, p := range protected {
		if p == "" {
			continue
		}
		if p == branch {
			return true
		}
		if ok, _ := path.Match(p, branch); ok {
			return true
		}
	}
	return false
}

// Push pushes refs/heads/<Branch> and nothing else. It refuses, before any
// network call, the default branch, the cloned base branch and protected
// branches (ErrProtectedBranch). A remote that already has the change is a
// no-op (Updated false); the local branch then points at the remote's
// commit.
func (r *Repo) Push(ctx context.Context, opts PushOptions) (RemoteBranch, error) {
	name, err := branchRef(opts.Branch)
	if err != nil {
		return RemoteBranch{}, fmt.Errorf("push %s: %w", opts.Branch, err)
	}
	guarded := append([]string{r.base, r.defaultBranch, opts.DefaultBranch}, opts.ProtectedBranches...)
	if Protected(opts.Branch, guarded...) {
		return RemoteBranch{}, fmt.Errorf("push %s to %s: %w", opts.Branch, r.where, ErrProtectedBranch)
	}
	op := "push " + opts.Branch + " to " + r.where
	local, err := r.repo.Reference(name, true)
	if err != nil {
		return RemoteBranch{}, fmt.Errorf("%s: %w: %w", op, ErrRefNotFound, err)
	}
	remote, err := r.repo.Remote(remoteName)
	if err != nil {
		return RemoteBranch{}, fmt.Errorf("%s: %w", op, err)
	}
	auth := basicAuth(opts.Token)

	same, err := r.remoteHasChange(ctx, remote, name, local.Hash(), opts.Token)
	if err != nil {
		return RemoteBranch{}, err
	}
	if !same.IsZero() {
		if same != local.Hash() {
			if err := r.repo.Storer.SetReference(plumbing.NewHashReference(name, same)); err != nil {
				return RemoteBranch{}, fmt.Errorf("%s: %w", op, err)
			}
		}
		return RemoteBranch{SHA: same.String()}, nil
	}

	spec := config.RefSpec(string(name) + ":" + string(name))
	if opts.Force {
		spec = "+" + spec
	}
	err = remote.PushContext(ctx, &git.PushOptions{
		RemoteName: remoteName,
		RefSpecs:   []config.RefSpec{spec},
		Auth:       auth,
	})
	if errors.Is(err, git.NoErrAlreadyUpToDate) {
		return RemoteBranch{SHA: local.Hash().String()}, nil
	}
	if err != nil {
		return RemoteBranch{}, remoteErr(op, err, opts.Token)
	}
	return RemoteBranch{SHA: local.Hash().String(), Updated: true}, nil
}

// remoteHasChange returns the remote branch's commit when it is the local
// commit or the same change (tree, parents, message, author and committer
// names, not times), and the zero hash otherwise.
func (r *Repo) remoteHasChange(ctx context.Context, remote *git.Remote, name plumbing.ReferenceName, local plumbing.Hash, token string) (plumbing.Hash, error) {
	op := "push " + name.Short() + " to " + r.where
	refs, err := remote.ListContext(ctx, &git.ListOptions{Auth: basicAuth(token)})
	if err != nil {
		return plumbing.ZeroHash, remoteErr(op+": list references", err, token)
	}
	i := slices.IndexFunc(refs, func(ref *plumbing.Reference) bool { return ref.Name() == name })
	if i < 0 {
		return plumbing.ZeroHash, nil
	}
	theirs := refs[i].Hash()
	if theirs == local {
		return theirs, nil
	}
	ours, err := r.repo.CommitObject(local)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("%s: %w", op, err)
	}
	if _, err := r.repo.CommitObject(theirs); err != nil {
		// Fetch the remote commit alone (depth 1) to compare.
		tracking := plumbing.NewRemoteReferenceName(remoteName, name.Short())
		err := remote.FetchContext(ctx, &git.FetchOptions{
			RemoteName: remoteName,
			RefSpecs:   []config.RefSpec{config.RefSpec("+" + string(name) + ":" + string(tracking))},
			Depth:      1,
			Auth:       basicAuth(token),
			Tags:       git.NoTags,
		})
		if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
			return plumbing.ZeroHash, remoteErr(op+": fetch "+name.Short(), err, token)
		}
	}
	c, err := r.repo.CommitObject(theirs)
	if err != nil {
		// The branch moved between listing and fetching: push decides.
		return plumbing.ZeroHash, nil
	}
	if sameChange(ours, c) {
		return theirs, nil
	}
	return plumbing.ZeroHash, nil
}

func sameChange(a, b *object.Commit) bool {
	return a.TreeHash == b.TreeHash &&
		slices.Equal(a.ParentHashes, b.ParentHashes) &&
		a.Message == b.Message &&
		a.Author.Name == b.Author.Name && a.Author.Email == b.Author.Email &&
		a.Committer.Name == b.Committer.Name && a.Committer.Email == b.Committer.Email
}
