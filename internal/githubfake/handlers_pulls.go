package githubfake

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
)

// PR is a snapshot of a pull request.
type PR struct {
	Number         int
	Title, Body    string
	State          string // open or closed
	Head, Base     string // branch names
	HeadSHA        string
	BaseSHA        string
	User           string
	Draft          bool
	Merged         bool
	MergedAt       time.Time
	MergeCommitSHA string
	ClosedAt       time.Time
	Labels         []string
	Assignees      []string
	Reviewers      []string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// PRs lists a repository's pull requests by number, with their head and
// base SHAs read from git.
func (f *Fake) PRs(owner, repo string) []PR {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.st.repo(owner, repo)
	if r == nil {
		return nil
	}
	g, _ := openGit(f.repoDir(owner, repo))
	var out []PR
	for _, is := range r.pulls() {
		if g != nil {
			refreshPR(g, is, f.now())
		}
		out = append(out, snapshotPR(is))
	}
	return out
}

func snapshotPR(is *issueState) PR {
	pr := is.pr
	return PR{
		Number:         is.number,
		Title:          is.title,
		Body:           is.body,
		State:          is.state,
		Head:           pr.head,
		Base:           pr.base,
		HeadSHA:        pr.headSHA,
		BaseSHA:        pr.baseSHA,
		User:           is.user,
		Draft:          pr.draft,
		Merged:         pr.merged,
		MergedAt:       pr.mergedAt,
		MergeCommitSHA: pr.mergeCommitSHA,
		ClosedAt:       is.closed,
		Labels:         append([]string(nil), is.labels...),
		Assignees:      append([]string(nil), is.assignees...),
		Reviewers:      append([]string(nil), pr.reviewers...),
		CreatedAt:      is.created,
		UpdatedAt:      is.updated,
	}
}

// refreshPR reads an open pull request's branch tips from git; a closed one
// keeps the tips it had when it closed. As on GitHub, deleting the head
// branch of an open pull request closes it.
func refreshPR(g *gitRepo, is *issueState, now time.Time) {
	if is.state != "open" {
		return
	}
	h, err := g.branch(is.pr.head)
	if errors.Is(err, errNotFound) {
		is.state, is.closed, is.updated = "closed", now, now
		return
	}
	if err == nil {
		is.pr.headSHA = h.String()
	}
	if h, err := g.branch(is.pr.base); err == nil {
		is.pr.baseSHA = h.String()
	}
}

// MergePR merges a pull request as GitHub's merge button does: a merge
// commit on the base branch (parents: base, head), the pull request closed
// and merged. It returns the merge commit's SHA and fails the test when the
// pull request cannot be merged.
func (f *Fake) MergePR(owner, repo string, n int) string {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	sha, err := f.mergePR(owner, repo, n, owner)
	if err != nil {
		f.t.Fatalf("githubfake: MergePR %s/%s#%d: %v", owner, repo, n, err)
	}
	return sha
}

func (f *Fake) mergePR(owner, repo string, n int, by string) (string, error) {
	r := f.st.repo(owner, repo)
	if r == nil {
		return "", fmt.Errorf("no repository")
	}
	is := r.issues[n]
	if is == nil || is.pr == nil {
		return "", fmt.Errorf("no pull request")
	}
	if is.state != "open" {
		return "", fmt.Errorf("pull request is %s", is.state)
	}
	g, err := openGit(f.repoDir(owner, repo))
	if err != nil {
		return "", err
	}
	refreshPR(g, is, f.now())
	pr := is.pr
	base := plumbing.NewHash(pr.baseSHA)
	head := plumbing.NewHash(pr.headSHA)
	tree, conflicts, err := g.merge3(base, head)
	if err != nil {
		return "", err
	}
	if len(conflicts) > 0 {
		return "", fmt.Errorf("%w in %s", errMergeConfl, strings.Join(conflicts, ", "))
	}
	now := f.now()
	gh := signature{name: "GitHub", email: "noreply@github.com", when: now}
	author := signature{name: by, email: by + "@users.noreply.github.com", when: now}
	msg := fmt.Sprintf("Merge pull request #%d from %s/%s\n\n%s\n", n, owner, pr.head, is.title)
	h, err := g.writeCommit(tree, []plumbing.Hash{base, head}, author, gh, msg, "")
	if err != nil {
		return "", err
	}
	if err := g.setRef("refs/heads/"+pr.base, h, &base); err != nil {
		return "", err
	}
	is.state = "closed"
	is.closed, is.updated = now, now
	pr.merged, pr.mergedAt, pr.mergedBy, pr.mergeCommitSHA = true, now, by, h.String()
	r.pushed = now
	return h.String(), nil
}

// ClosePR closes a pull request without merging it.
func (f *Fake) ClosePR(owner, repo string, n int) {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.st.repo(owner, repo)
	if r == nil || r.issues[n] == nil || r.issues[n].pr == nil {
		f.t.Fatalf("githubfake: ClosePR: no pull request %s/%s#%d", owner, repo, n)
	}
	is := r.issues[n]
	if g, err := openGit(f.repoDir(owner, repo)); err == nil {
		refreshPR(g, is, f.now())
	}
	now := f.now()
	is.state, is.closed, is.updated = "closed", now, now
}

// pullFor finds the {pull_number} of the call, answering 404 when missing.
func (c *call) pullFor() *issueState {
	is := c.repo.issues[int(c.intParam("pull_number"))]
	if is == nil || is.pr == nil {
		c.fail(http.StatusNotFound, "Not Found")
		return nil
	}
	return is
}

func (f *Fake) listPulls(c *call) {
	g := c.git()
	if g == nil {
		return
	}
	state := c.query("state")
	if state == "" {
		state = "open"
	}
	headOwner, headBranch, _ := strings.Cut(c.query("head"), ":")
	base := c.query("base")
	var list []*issueState
	for _, is := range c.repo.pulls() {
		refreshPR(g, is, f.now())
		if state != "all" && is.state != state {
			continue
		}
		if c.query("head") != "" {
			if !strings.EqualFold(headOwner, c.repo.owner) || (headBranch != "" && headBranch != is.pr.head) {
				continue
			}
		}
		if base != "" && base != is.pr.base {
			continue
		}
		list = append(list, is)
	}
	sortBy := c.query("sort")
	desc := c.query("direction") != "asc"
	if c.query("direction") == "" && sortBy == "long-running" {
		desc = false
	}
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i], list[j]
		var less bool
		switch sortBy {
		case "updated":
			less = a.updated.Before(b.updated) || (a.updated.Equal(b.updated) && a.number < b.number)
		default:
			less = a.number < b.number
		}
		if desc {
			return !less
		}
		return less
	})
	out := []obj{}
	for _, is := range page(c, list) {
		out = append(out, c.pullSimple(c.repo, is))
	}
	c.json(http.StatusOK, out)
}

type pullRequestBody struct {
	Title               *string `json:"title"`
	Head                string  `json:"head"`
	HeadRepo            string  `json:"head_repo"`
	Base                string  `json:"base"`
	Body                *string `json:"body"`
	Draft               bool    `json:"draft"`
	MaintainerCanModify *bool   `json:"maintainer_can_modify"`
	Issue               int     `json:"issue"`
	State               string  `json:"state"`
}

func (f *Fake) createPull(c *call) {
	var req pullRequestBody
	if !c.decode(&req) {
		return
	}
	if req.Body != nil && !c.bodyFits("PullRequest", *req.Body) {
		return
	}
	g := c.git()
	if g == nil {
		return
	}
	r := c.repo
	headBranch := req.Head
	if owner, branch, ok := strings.Cut(req.Head, ":"); ok {
		if !strings.EqualFold(owner, r.owner) {
			c.unprocessable("PullRequest", "head", "invalid", "")
			return
		}
		headBranch = branch
	}
	var issue *issueState
	if req.Issue != 0 {
		issue = r.issues[req.Issue]
		if issue == nil || issue.pr != nil {
			c.unprocessable("PullRequest", "issue", "invalid", "")
			return
		}
	}
	if (req.Title == nil || *req.Title == "") && issue == nil {
		c.unprocessable("PullRequest", "title", "missing_field", "")
		return
	}
	baseSHA, err := g.branch(req.Base)
	if err != nil {
		c.unprocessable("PullRequest", "base", "invalid", "")
		return
	}
	headSHA, err := g.branch(headBranch)
	if err != nil {
		c.unprocessable("PullRequest", "head", "invalid", "")
		return
	}
	if ok, err := g.isAncestor(headSHA, baseSHA); err == nil && ok {
		c.unprocessable("PullRequest", "", "custom", fmt.Sprintf("No commits between %s and %s", req.Base, headBranch))
		return
	}
	for _, is := range r.pulls() {
		if is.state == "open" && is.pr.head == headBranch && is.pr.base == req.Base {
			c.unprocessable("PullRequest", "", "custom", fmt.Sprintf("A pull request already exists for %s:%s.", r.owner, headBranch))
			return
		}
	}
	now := f.now()
	if issue == nil {
		r.nextNumber++
		issue = &issueState{id: f.st.id(), number: r.nextNumber, user: c.actor().name, created: now, state: "open"}
		r.issues[issue.number] = issue
	}
	if req.Title != nil && *req.Title != "" {
		issue.title = *req.Title
	}
	if req.Body != nil {
		issue.body = *req.Body
	}
	issue.updated = now
	issue.pr = &prState{
		id:                  f.st.id(),
		head:                headBranch,
		base:                req.Base,
		headSHA:             headSHA.String(),
		baseSHA:             baseSHA.String(),
		draft:               req.Draft,
		maintainerCanModify: req.MaintainerCanModify == nil || *req.MaintainerCanModify,
	}
	out, ok := f.fullPull(c, g, issue)
	if !ok {
		return
	}
	c.header.Set("Location", out["url"].(string))
	c.json(http.StatusCreated, out)
}

// fullPull renders a pull request with the numbers that come from git.
func (f *Fake) fullPull(c *call, g *gitRepo, is *issueState) (obj, bool) {
	refreshPR(g, is, f.now())
	pr := is.pr
	s := prStats{mergeableState: "unknown"}
	base := plumbing.NewHash(pr.baseSHA)
	head := plumbing.NewHash(pr.headSHA)
	commits, err := g.commitsBetween(base, head)
	if err != nil {
		c.internal(err)
		return nil, false
	}
	s.commits = len(commits)
	mb, err := g.mergeBase(base, head)
	if err != nil {
		c.internal(err)
		return nil, false
	}
	files, err := g.diffCommits(mb, head)
	if err != nil {
		c.internal(err)
		return nil, false
	}
	s.changedFiles = len(files)
	for _, fc := range files {
		s.additions += fc.additions
		s.deletions += fc.deletions
	}
	switch {
	case pr.merged:
		s.mergeable, s.mergeableState = nil, "unknown"
	case is.state == "open":
		_, conflicts, err := g.merge3(base, head)
		if err != nil {
			c.internal(err)
			return nil, false
		}
		s.mergeable = len(conflicts) == 0
		s.mergeableState = "clean"
		if len(conflicts) > 0 {
			s.mergeableState = "dirty"
		} else if pr.draft {
			s.mergeableState = "draft"
		}
	}
	return c.pull(c.repo, is, s), true
}

func (f *Fake) getPull(c *call) {
	is := c.pullFor()
	if is == nil {
		return
	}
	g := c.git()
	if g == nil {
		return
	}
	if out, ok := f.fullPull(c, g, is); ok {
		c.json(http.StatusOK, out)
	}
}

func (f *Fake) patchPull(c *call) {
	is := c.pullFor()
	if is == nil {
		return
	}
	var req pullRequestBody
	if !c.decode(&req) {
		return
	}
	if req.Body != nil && !c.bodyFits("PullRequest", *req.Body) {
		return
	}
	g := c.git()
	if g == nil {
		return
	}
	refreshPR(g, is, f.now())
	now := f.now()
	if req.Base != "" && req.Base != is.pr.base {
		if is.state != "open" {
			c.unprocessable("PullRequest", "base", "invalid", "Cannot change the base branch of a closed pull request.")
			return
		}
		if _, err := g.branch(req.Base); err != nil {
			c.unprocessable("PullRequest", "base", "invalid", "Proposed base branch '"+req.Base+"' was not found")
			return
		}
		is.pr.base = req.Base
		refreshPR(g, is, f.now())
	}
	switch req.State {
	case "closed":
		if is.state == "open" {
			is.state, is.closed = "closed", now
		}
	case "open":
		if is.state == "closed" {
			if is.pr.merged {
				c.unprocessable("PullRequest", "state", "invalid", "Cannot reopen a merged pull request.")
				return
			}
			if _, err := g.branch(is.pr.head); err != nil {
				c.unprocessable("PullRequest", "state", "invalid", "Cannot reopen a pull request whose head branch was deleted.")
				return
			}
			is.state, is.closed = "open", time.Time{}
			refreshPR(g, is, f.now())
		}
	}
	if req.Title != nil {
		is.title = *req.Title
	}
	if req.Body != nil {
		is.body = *req.Body
	}
	if req.MaintainerCanModify != nil {
		is.pr.maintainerCanModify = *req.MaintainerCanModify
	}
	is.updated = now
	if out, ok := f.fullPull(c, g, is); ok {
		c.json(http.StatusOK, out)
	}
}

func (f *Fake) pullCommits(c *call) {
	is := c.pullFor()
	if is == nil {
		return
	}
	g := c.git()
	if g == nil {
		return
	}
	refreshPR(g, is, f.now())
	commits, err := g.commitsBetween(plumbing.NewHash(is.pr.baseSHA), plumbing.NewHash(is.pr.headSHA))
	if err != nil {
		c.internal(err)
		return
	}
	if len(commits) > 250 {
		commits = commits[:250]
	}
	out := []obj{}
	for _, co := range page(c, commits) {
		out = append(out, c.commit(c.repo, co))
	}
	c.json(http.StatusOK, out)
}

func (f *Fake) pullFiles(c *call) {
	is := c.pullFor()
	if is == nil {
		return
	}
	g := c.git()
	if g == nil {
		return
	}
	refreshPR(g, is, f.now())
	head := plumbing.NewHash(is.pr.headSHA)
	mb, err := g.mergeBase(plumbing.NewHash(is.pr.baseSHA), head)
	if err != nil {
		c.internal(err)
		return
	}
	files, err := g.diffCommits(mb, head)
	if err != nil {
		c.internal(err)
		return
	}
	out := []obj{}
	for _, fc := range page(c, files) {
		blob := c.web + "/" + c.repo.fullName() + "/blob/" + is.pr.headSHA + "/" + fc.filename
		o := obj{
			"sha":          fc.sha,
			"filename":     fc.filename,
			"status":       fc.status,
			"additions":    fc.additions,
			"deletions":    fc.deletions,
			"changes":      fc.additions + fc.deletions,
			"blob_url":     blob,
			"raw_url":      c.web + "/raw/" + c.repo.fullName() + "/" + is.pr.headSHA + "/" + fc.filename,
			"contents_url": c.repoURL(c.repo) + "/contents/" + fc.filename + "?ref=" + is.pr.headSHA,
		}
		if !fc.binary {
			o["patch"] = fc.patch
		}
		if fc.previous != "" {
			o["previous_filename"] = fc.previous
		}
		out = append(out, o)
	}
	c.json(http.StatusOK, out)
}

func (f *Fake) updateBranch(c *call) {
	is := c.pullFor()
	if is == nil {
		return
	}
	var req struct {
		ExpectedHeadSHA string `json:"expected_head_sha"`
	}
	if !c.decode(&req) {
		return
	}
	g := c.git()
	if g == nil {
		return
	}
	refreshPR(g, is, f.now())
	pr := is.pr
	if is.state != "open" {
		c.unprocessable("PullRequest", "", "custom", "Pull request is closed.")
		return
	}
	if req.ExpectedHeadSHA != "" && req.ExpectedHeadSHA != pr.headSHA {
		c.unprocessable("PullRequest", "expected_head_sha", "invalid", "expected head sha didn't match current head ref.")
		return
	}
	head := plumbing.NewHash(pr.headSHA)
	base := plumbing.NewHash(pr.baseSHA)
	if ok, err := g.isAncestor(base, head); err != nil {
		c.internal(err)
		return
	} else if ok {
		c.unprocessable("PullRequest", "", "custom", "There are no new commits on the base branch.")
		return
	}
	tree, conflicts, err := g.merge3(head, base)
	if err != nil {
		c.internal(err)
		return
	}
	if len(conflicts) > 0 {
		c.unprocessable("PullRequest", "", "custom", "merge conflict between base and head")
		return
	}
	who := c.actor()
	h, err := g.writeCommit(tree, []plumbing.Hash{head, base}, who, who,
		fmt.Sprintf("Merge branch '%s' into %s\n", pr.base, pr.head), "")
	if err != nil {
		c.internal(err)
		return
	}
	if err := g.setRef("refs/heads/"+pr.head, h, &head); err != nil {
		if errors.Is(err, errRefChanged) {
			c.unprocessable("PullRequest", "", "custom", "head branch was modified. Review and try the merge again.")
			return
		}
		c.internal(err)
		return
	}
	pr.headSHA = h.String()
	is.updated = f.now()
	c.json(http.StatusAccepted, obj{
		"message": "Updating pull request branch.",
		"url":     c.web + "/" + c.repo.fullName() + "/pull/" + strconv.Itoa(is.number),
	})
}

func (f *Fake) listReviewers(c *call) {
	is := c.pullFor()
	if is == nil {
		return
	}
	c.json(http.StatusOK, obj{"users": c.users(is.pr.reviewers), "teams": c.teams(c.repo, is.pr.teamReviewers)})
}

type reviewersBody struct {
	Reviewers     []string `json:"reviewers"`
	TeamReviewers []string `json:"team_reviewers"`
}

func (f *Fake) requestReviewers(c *call) {
	is := c.pullFor()
	if is == nil {
		return
	}
	var req reviewersBody
	if !c.decode(&req) {
		return
	}
	r := c.repo
	for _, login := range req.Reviewers {
		if strings.EqualFold(login, is.user) {
			c.unprocessable("PullRequest", "", "custom", "Review cannot be requested from pull request author.")
			return
		}
		if r.perms[strings.ToLower(login)] == "" && !strings.EqualFold(login, r.owner) {
			c.unprocessable("PullRequest", "", "custom", fmt.Sprintf("Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the %s repository.", r.fullName()))
			return
		}
	}
	is.pr.reviewers = addUnique(is.pr.reviewers, req.Reviewers)
	is.pr.teamReviewers = addUnique(is.pr.teamReviewers, req.TeamReviewers)
	is.updated = f.now()
	c.json(http.StatusCreated, c.pullSimple(r, is))
}

func (f *Fake) removeReviewers(c *call) {
	is := c.pullFor()
	if is == nil {
		return
	}
	var req reviewersBody
	if !c.decode(&req) {
		return
	}
	is.pr.reviewers = removeAll(is.pr.reviewers, req.Reviewers)
	is.pr.teamReviewers = removeAll(is.pr.teamReviewers, req.TeamReviewers)
	is.updated = f.now()
	c.json(http.StatusOK, c.pullSimple(c.repo, is))
}

func addUnique(list, add []string) []string {
	for _, a := range add {
		found := false
		for _, l := range list {
			if strings.EqualFold(l, a) {
				found = true
			}
		}
		if !found {
			list = append(list, a)
		}
	}
	return list
}

func removeAll(list, rm []string) []string {
	var out []string
	for _, l := range list {
		keep := true
		for _, r := range rm {
			if strings.EqualFold(l, r) {
				keep = false
			}
		}
		if keep {
			out = append(out, l)
		}
	}
	return out
}
