package ghapp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/kmend/kmend/internal/publish"
)

// Host is publish.Host for one installation's client.
type Host struct {
	Client *github.Client
}

var _ publish.Host = Host{}

// PullRequests lists the pull requests whose head is head, newest first.
// One page of 100 is enough: kmend opens one pull request per branch at a
// time, and only the newest closed ones matter.
func (h Host) PullRequests(ctx context.Context, repo publish.Repo, head string) ([]publish.PullRequest, error) {
	prs, _, err := h.Client.PullRequests.List(ctx, repo.Owner, repo.Name, &github.PullRequestListOptions{
		State:       "all",
		Head:        repo.Owner + ":" + head,
		Sort:        "created",
		Direction:   "desc",
		ListOptions: github.ListOptions{PerPage: 100},
	})
	if err != nil {
		return nil, wrap("list pull requests", repo, err)
	}
	out := make([]publish.PullRequest, 0, len(prs))
	for _, pr := range prs {
		out = append(out, pullRequest(pr))
	}
	return out, nil
}

// OpenPullRequests lists the open pull requests into base, newest first:
// the first page of 100.
func (h Host) OpenPullRequests(ctx context.Context, repo publish.Repo, base string) ([]publish.PullRequest, error) {
	prs, _, err := h.Client.PullRequests.List(ctx, repo.Owner, repo.Name, &github.PullRequestListOptions{
		State:       "open",
		Base:        base,
		Sort:        "created",
		Direction:   "desc",
		ListOptions: github.ListOptions{PerPage: 100},
	})
	if err != nil {
		return nil, wrap("list open pull requests", repo, err)
	}
	out := make([]publish.PullRequest, 0, len(prs))
	for _, pr := range prs {
		out = append(out, pullRequest(pr))
	}
	return out, nil
}

// CreatePullRequest opens a pull request.
func (h Host) CreatePullRequest(ctx context.Context, repo publish.Repo, pr publish.NewPullRequest) (publish.PullRequest, error) {
	got, _, err := h.Client.PullRequests.Create(ctx, repo.Owner, repo.Name, &github.NewPullRequest{
		Title: github.String(pr.Title),
		Body:  github.String(pr.Body),
		Head:  github.String(pr.Head),
		Base:  github.String(pr.Base),
	})
	if err != nil {
		if exists(err) {
			return publish.PullRequest{}, fmt.Errorf("open pull request in %s: %w: %w", repo, publish.ErrExists, err)
		}
		return publish.PullRequest{}, wrap("open pull request", repo, err)
	}
	return pullRequest(got), nil
}

// exists reports whether err is GitHub's 422 for a head branch that has an
// open pull request already.
func exists(err error) bool {
	var ge *github.ErrorResponse
	if !errors.As(err, &ge) || ge.Response == nil || ge.Response.StatusCode != http.StatusUnprocessableEntity {
		return false
	}
	for _, e := range ge.Errors {
		if strings.HasPrefix(e.Message, "A pull request already exists") {
			return true
		}
	}
	return false
}

// EditPullRequest sets a pull request's title and body.
func (h Host) EditPullRequest(ctx context.Context, repo publish.Repo, number int, title, body string) error {
	_, _, err := h.Client.PullRequests.Edit(ctx, repo.Owner, repo.Name, number, &github.PullRequest{
		Title: github.String(title),
		Body:  github.String(body),
	})
	return wrap(fmt.Sprintf("edit pull request #%d", number), repo, err)
}

// ClosePullRequest closes a pull request without merging it.
func (h Host) ClosePullRequest(ctx context.Context, repo publish.Repo, number int) error {
	_, _, err := h.Client.PullRequests.Edit(ctx, repo.Owner, repo.Name, number, &github.PullRequest{State: github.String("closed")})
	return wrap(fmt.Sprintf("close pull request #%d", number), repo, err)
}

// Decorate adds labels, requests reviewers and adds assignees, one call
// each when there is something to add.
func (h Host) Decorate(ctx context.Context, repo publish.Repo, number int, labels, reviewers, assignees []string) error {
	var errs []error
	if len(labels) > 0 {
		if _, _, err := h.Client.Issues.AddLabelsToIssue(ctx, repo.Owner, repo.Name, number, labels); err != nil {
			errs = append(errs, wrap("add labels", repo, err))
		}
	}
	if len(reviewers) > 0 {
		var req github.ReviewersRequest
		for _, r := range reviewers {
			if _, team, ok := strings.Cut(r, "/"); ok {
				req.TeamReviewers = append(req.TeamReviewers, team)
			} else {
				req.Reviewers = append(req.Reviewers, r)
			}
		}
		if _, _, err := h.Client.PullRequests.RequestReviewers(ctx, repo.Owner, repo.Name, number, req); err != nil {
			errs = append(errs, wrap("request reviewers", repo, err))
		}
	}
	if len(assignees) > 0 {
		if _, _, err := h.Client.Issues.AddAssignees(ctx, repo.Owner, repo.Name, number, assignees); err != nil {
			errs = append(errs, wrap("add assignees", repo, err))
		}
	}
	return errors.Join(errs...)
}

// SyncComments makes the comments carrying marker equal to bodies.
func (h Host) SyncComments(ctx context.Context, repo publish.Repo, number int, marker string, bodies []string) error {
	var mine []*github.IssueComment
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for {
		page, resp, err := h.Client.Issues.ListComments(ctx, repo.Owner, repo.Name, number, opts)
		if err != nil {
			return wrap(fmt.Sprintf("list comments of #%d", number), repo, err)
		}
		for _, c := range page {
			if strings.Contains(c.GetBody(), marker) {
				mine = append(mine, c)
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	for i, body := range bodies {
		if i < len(mine) {
			if mine[i].GetBody() == body {
				continue
			}
			if _, _, err := h.Client.Issues.EditComment(ctx, repo.Owner, repo.Name, mine[i].GetID(), &github.IssueComment{Body: github.String(body)}); err != nil {
				return wrap(fmt.Sprintf("edit comment on #%d", number), repo, err)
			}
			continue
		}
		if err := h.Comment(ctx, repo, number, body); err != nil {
			return err
		}
	}
	for _, c := range mine[min(len(bodies), len(mine)):] {
		if _, err := h.Client.Issues.DeleteComment(ctx, repo.Owner, repo.Name, c.GetID()); err != nil {
			return wrap(fmt.Sprintf("delete comment on #%d", number), repo, err)
		}
	}
	return nil
}

// Comment adds a comment to an issue or pull request.
func (h Host) Comment(ctx context.Context, repo publish.Repo, number int, body string) error {
	_, _, err := h.Client.Issues.CreateComment(ctx, repo.Owner, repo.Name, number, &github.IssueComment{Body: github.String(body)})
	return wrap(fmt.Sprintf("comment on #%d", number), repo, err)
}

func pullRequest(pr *github.PullRequest) publish.PullRequest {
	return publish.PullRequest{
		Number: pr.GetNumber(),
		State:  pr.GetState(),
		Merged: pr.GetMerged() || pr.MergedAt != nil,
		Title:  pr.GetTitle(),
		Body:   pr.GetBody(),
		Head:   pr.GetHead().GetRef(),
		Base:   pr.GetBase().GetRef(),
		URL:    pr.GetHTMLURL(),
	}
}

// wrap names the call and the repository; a 404 also matches
// publish.ErrNotFound.
func wrap(op string, repo publish.Repo, err error) error {
	if err == nil {
		return nil
	}
	var ge *github.ErrorResponse
	if errors.As(err, &ge) && ge.Response != nil && ge.Response.StatusCode == http.StatusNotFound {
		return fmt.Errorf("%s in %s: %w: %w", op, repo, publish.ErrNotFound, err)
	}
	return fmt.Errorf("%s in %s: %w", op, repo, err)
}
