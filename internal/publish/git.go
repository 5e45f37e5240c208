package publish

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/kmend/kmend/internal/gitrepo"
)

// CloneOptions say what to clone for publishing and how to commit.
type CloneOptions struct {
	Repo Repo
	// URL is the repository's HTTPS clone URL; Token the installation
	// token; Base the base branch; Dir an empty directory for the
	// worktree.
	URL, Token, Base, Dir string
	// Author commits (gitrepo.BotIdentity).
	Author gitrepo.Author
	// API, when set, commits through GitHub's Git Data API instead of
	// pushing, so that GitHub signs the commits (config commits: api).
	API gitrepo.GitData
	// Protected names branches never written to, besides the base.
	Protected []string
}

// Clone is a Git backed by a shallow clone (package gitrepo).
type Clone struct {
	opts    CloneOptions
	repo    *gitrepo.Repo
	baseSHA string
}

var _ Git = (*Clone)(nil)

// NewClone clones the base branch (depth 1) into opts.Dir.
func NewClone(ctx context.Context, opts CloneOptions) (*Clone, error) {
	r, err := gitrepo.Clone(ctx, gitrepo.CloneOptions{URL: opts.URL, Branch: opts.Base, Token: opts.Token, Dir: opts.Dir})
	if err != nil {
		return nil, err
	}
	sha, err := r.Head()
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("clone %s: %w", opts.Repo, err)
	}
	return &Clone{opts: opts, repo: r, baseSHA: sha}, nil
}

// UseAPI makes Publish commit through GitHub's Git Data API (the
// repository requires signed commits).
func (c *Clone) UseAPI(api gitrepo.GitData) { c.opts.API = api }

// Dir is the worktree.
func (c *Clone) Dir() string { return c.opts.Dir }

// BaseSHA is the base commit.
func (c *Clone) BaseSHA() string { return c.baseSHA }

// Close releases the clone and removes its worktree.
func (c *Clone) Close() error {
	err := c.repo.Close()
	return errors.Join(err, os.RemoveAll(c.opts.Dir))
}

// Publish commits files on top of the base and puts the commit on branch.
func (c *Clone) Publish(ctx context.Context, branch, message string, files map[string][]byte) (bool, error) {
	if c.opts.API != nil {
		res, err := gitrepo.CommitViaAPI(ctx, c.opts.API, gitrepo.CommitViaAPIOptions{
			Owner: c.opts.Repo.Owner, Repo: c.opts.Repo.Name, Branch: branch, BaseSHA: c.baseSHA,
			Message: message, Files: files, DefaultBranch: c.opts.Base, ProtectedBranches: c.opts.Protected,
		})
		if errors.Is(err, gitrepo.ErrNothingToCommit) {
			return false, nil
		}
		return res.Updated, err
	}
	if err := c.repo.Checkout(branch, c.baseSHA); err != nil {
		return false, err
	}
	// The worktree goes back to the base whatever happens: the next change
	// set starts from it.
	defer func() { _ = c.repo.Checkout(c.opts.Base, c.baseSHA) }()
	if err := c.repo.Write(files); err != nil {
		return false, err
	}
	if _, err := c.repo.Commit(gitrepo.CommitOptions{Message: message, Author: c.opts.Author}); err != nil {
		if errors.Is(err, gitrepo.ErrNothingToCommit) {
			return false, nil
		}
		return false, err
	}
	res, err := c.repo.Push(ctx, gitrepo.PushOptions{
		Branch: branch, Token: c.opts.Token, Force: true,
		DefaultBranch: c.opts.Base, ProtectedBranches: c.opts.Protected,
	})
	if err != nil {
		return false, err
	}
	return res.Updated, nil
}
