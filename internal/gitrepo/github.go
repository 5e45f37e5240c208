package gitrepo

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v60/github"
)

// GitHubData is GitData over GitHub's REST API with go-github.
type GitHubData struct {
	Client *github.Client
}

var _ GitData = GitHubData{}

// GetRef implements GitData (GET /repos/{owner}/{repo}/git/ref/{ref}).
func (g GitHubData) GetRef(ctx context.Context, owner, repo, ref string) (string, error) {
	r, _, err := g.Client.Git.GetRef(ctx, owner, repo, strings.TrimPrefix(ref, "refs/"))
	if err != nil {
		return "", apiErr("get ref "+ref, err, ErrRefNotFound)
	}
	if r.GetRef() != ref || r.GetObject().GetSHA() == "" {
		// GitHub answers a ref that names a prefix of others with a list;
		// go-github then fails to decode it, or returns another ref.
		return "", fmt.Errorf("get ref %s: %w", ref, ErrRefNotFound)
	}
	return r.GetObject().GetSHA(), nil
}

// GetCommit implements GitData (GET /repos/{owner}/{repo}/git/commits/{sha}).
func (g GitHubData) GetCommit(ctx context.Context, owner, repo, sha string) (Commit, error) {
	c, _, err := g.Client.Git.GetCommit(ctx, owner, repo, sha)
	if err != nil {
		return Commit{}, apiErr("get commit "+sha, err, ErrRefNotFound)
	}
	out := Commit{SHA: c.GetSHA(), Tree: c.GetTree().GetSHA(), Message: c.GetMessage()}
	for _, p := range c.Parents {
		out.Parents = append(out.Parents, p.GetSHA())
	}
	return out, nil
}

// CreateBlob implements GitData (POST /repos/{owner}/{repo}/git/blobs).
func (g GitHubData) CreateBlob(ctx context.Context, owner, repo string, content []byte) (string, error) {
	b, _, err := g.Client.Git.CreateBlob(ctx, owner, repo, &github.Blob{
		Content:  github.String(base64.StdEncoding.EncodeToString(content)),
		Encoding: github.String("base64"),
	})
	if err != nil {
		return "", apiErr("create blob", err, ErrRepoNotFound)
	}
	return b.GetSHA(), nil
}

// CreateTree implements GitData (POST /repos/{owner}/{repo}/git/trees).
func (g GitHubData) CreateTree(ctx context.Context, owner, repo, baseTree string, entries []TreeEntry) (string, error) {
	es := make([]*github.TreeEntry, len(entries))
	for i, e := range entries {
		es[i] = &github.TreeEntry{
			Path: github.String(e.Path),
			Mode: github.String(e.Mode),
			Type: github.String("blob"),
		}
		if e.SHA != "" {
			es[i].SHA = github.String(e.SHA)
		}
	}
	t, _, err := g.Client.Git.CreateTree(ctx, owner, repo, baseTree, es)
	if err != nil {
		return "", apiErr("create tree", err, ErrRepoNotFound)
	}
	return t.GetSHA(), nil
}

// CreateCommit implements GitData (POST /repos/{owner}/{repo}/git/commits).
func (g GitHubData) CreateCommit(ctx context.Context, owner, repo string, c NewCommit) (string, error) {
	gc := &github.Commit{
		Message: github.String(c.Message),
		Tree:    &github.Tree{SHA: github.String(c.Tree)},
	}
	for _, p := range c.Parents {
		gc.Parents = append(gc.Parents, &github.Commit{SHA: github.String(p)})
	}
	out, _, err := g.Client.Git.CreateCommit(ctx, owner, repo, gc, nil)
	if err != nil {
		return "", apiErr("create commit", err, ErrRepoNotFound)
	}
	return out.GetSHA(), nil
}

// CreateRef implements GitData (POST /repos/{owner}/{repo}/git/refs).
func (g GitHubData) CreateRef(ctx context.Context, owner, repo, ref, sha string) error {
	_, _, err := g.Client.Git.CreateRef(ctx, owner, repo, &github.Reference{
		Ref:    github.String(ref),
		Object: &github.GitObject{SHA: github.String(sha)},
	})
	if err != nil {
		return apiErr("create ref "+ref, err, ErrRepoNotFound)
	}
	return nil
}

// UpdateRef implements GitData (PATCH /repos/{owner}/{repo}/git/refs/{ref}).
func (g GitHubData) UpdateRef(ctx context.Context, owner, repo, ref, sha string, force bool) error {
	_, _, err := g.Client.Git.UpdateRef(ctx, owner, repo, &github.Reference{
		Ref:    github.String(ref),
		Object: &github.GitObject{SHA: github.String(sha)},
	}, force)
	if err != nil {
		return apiErr("update ref "+ref, err, ErrRepoNotFound)
	}
	return nil
}

// apiErr adds this package's sentinels to go-github's errors by status; a
// 404 means notFound.
func apiErr(op string, err, notFound error) error {
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		switch er.Response.StatusCode {
		case http.StatusNotFound:
			return fmt.Errorf("%s: %w", op, &kindError{notFound, err})
		case http.StatusUnauthorized, http.StatusForbidden:
			return fmt.Errorf("%s: %w", op, &kindError{ErrAuth, err})
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}
