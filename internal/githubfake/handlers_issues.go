package githubfake

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// Comment is a snapshot of an issue or pull request comment.
type Comment struct {
	ID        int64
	Issue     int
	User      string
	Body      string
	CreatedAt time.Time
	UpdatedAt time.Time
	Reactions []Reaction
}

// Reaction is a reaction on a comment.
type Reaction struct {
	ID      int64
	User    string
	Content string
}

// Comments lists the comments on an issue or pull request, oldest first.
func (f *Fake) Comments(owner, repo string, issue int) []Comment {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.st.repo(owner, repo)
	if r == nil {
		return nil
	}
	var out []Comment
	for _, cm := range r.issueComments(issue) {
		c := Comment{ID: cm.id, Issue: cm.issue, User: cm.user, Body: cm.body, CreatedAt: cm.created, UpdatedAt: cm.updated}
		for _, rx := range cm.reactions {
			c.Reactions = append(c.Reactions, Reaction{ID: rx.id, User: rx.user, Content: rx.content})
		}
		out = append(out, c)
	}
	return out
}

// AddComment adds a comment by a user (a person typing a slash command, for
// example) and returns its ID. It sends no webhook: deliver one with
// Deliver if the test needs it.
func (f *Fake) AddComment(owner, repo string, issue int, user, body string) int64 {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.st.repo(owner, repo)
	if r == nil || r.issues[issue] == nil {
		f.t.Fatalf("githubfake: AddComment: no issue %s/%s#%d", owner, repo, issue)
	}
	now := f.now()
	cm := &commentState{id: f.st.id(), issue: issue, user: user, body: body, created: now, updated: now}
	r.comments = append(r.comments, cm)
	return cm.id
}

// AddIssue opens a plain issue and returns its number (issues and pull
// requests share numbers, as on GitHub).
func (f *Fake) AddIssue(owner, repo, user, title string) int {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.st.repo(owner, repo)
	if r == nil {
		f.t.Fatalf("githubfake: AddIssue: no repository %s/%s", owner, repo)
	}
	now := f.now()
	r.nextNumber++
	is := &issueState{id: f.st.id(), number: r.nextNumber, title: title, user: user, state: "open", created: now, updated: now}
	r.issues[is.number] = is
	return is.number
}

// Labels lists the labels on an issue or pull request.
func (f *Fake) Labels(owner, repo string, issue int) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.st.repo(owner, repo)
	if r == nil || r.issues[issue] == nil {
		return nil
	}
	return append([]string(nil), r.issues[issue].labels...)
}

// issueFor finds the {issue_number} of the call, answering 404 when missing.
func (c *call) issueFor() *issueState {
	is := c.repo.issues[int(c.intParam("issue_number"))]
	if is == nil {
		c.fail(http.StatusNotFound, "Not Found")
		return nil
	}
	return is
}

// commentFor finds the {comment_id} of the call, answering 404 when missing.
func (c *call) commentFor() *commentState {
	cm := c.repo.comment(c.intParam("comment_id"))
	if cm == nil {
		c.fail(http.StatusNotFound, "Not Found")
	}
	return cm
}

func (f *Fake) listComments(c *call) {
	is := c.issueFor()
	if is == nil {
		return
	}
	var since time.Time
	if s := c.query("since"); s != "" {
		since, _ = parseTime(s)
	}
	var list []*commentState
	for _, cm := range c.repo.issueComments(is.number) {
		if !cm.updated.Before(since) {
			list = append(list, cm)
		}
	}
	out := []obj{}
	for _, cm := range page(c, list) {
		out = append(out, c.comment(c.repo, cm))
	}
	c.json(http.StatusOK, out)
}

// maxBody is GitHub's limit on comment and pull request bodies, in
// characters.
const maxBody = 65536

// bodyFits answers 422 for a body over GitHub's limit.
func (c *call) bodyFits(resource, body string) bool {
	if utf8.RuneCountInString(body) > maxBody {
		c.unprocessable(resource, "body", "custom", "body is too long (maximum is 65536 characters)")
		return false
	}
	return true
}

type commentBody struct {
	Body *string `json:"body"`
}

func (f *Fake) createComment(c *call) {
	is := c.issueFor()
	if is == nil {
		return
	}
	var req commentBody
	if !c.decode(&req) {
		return
	}
	if req.Body == nil || *req.Body == "" {
		c.unprocessable("IssueComment", "body", "missing_field", "")
		return
	}
	if !c.bodyFits("IssueComment", *req.Body) {
		return
	}
	now := f.now()
	cm := &commentState{id: f.st.id(), issue: is.number, user: c.actor().name, body: *req.Body, created: now, updated: now}
	c.repo.comments = append(c.repo.comments, cm)
	out := c.comment(c.repo, cm)
	c.header.Set("Location", out["url"].(string))
	c.json(http.StatusCreated, out)
}

func (f *Fake) getComment(c *call) {
	if cm := c.commentFor(); cm != nil {
		c.json(http.StatusOK, c.comment(c.repo, cm))
	}
}

func (f *Fake) patchComment(c *call) {
	cm := c.commentFor()
	if cm == nil {
		return
	}
	var req commentBody
	if !c.decode(&req) {
		return
	}
	if req.Body == nil || *req.Body == "" {
		c.unprocessable("IssueComment", "body", "missing_field", "")
		return
	}
	if !c.bodyFits("IssueComment", *req.Body) {
		return
	}
	cm.body, cm.updated = *req.Body, f.now()
	c.json(http.StatusOK, c.comment(c.repo, cm))
}

func (f *Fake) deleteComment(c *call) {
	cm := c.commentFor()
	if cm == nil {
		return
	}
	r := c.repo
	for i, x := range r.comments {
		if x == cm {
			r.comments = append(r.comments[:i:i], r.comments[i+1:]...)
			break
		}
	}
	c.noContent(http.StatusNoContent)
}

func (f *Fake) listReactions(c *call) {
	cm := c.commentFor()
	if cm == nil {
		return
	}
	want := c.query("content")
	var list []*reactionState
	for _, rx := range cm.reactions {
		if want == "" || rx.content == want {
			list = append(list, rx)
		}
	}
	out := []obj{}
	for _, rx := range page(c, list) {
		out = append(out, c.reaction(rx))
	}
	c.json(http.StatusOK, out)
}

func (f *Fake) createReaction(c *call) {
	cm := c.commentFor()
	if cm == nil {
		return
	}
	var req struct {
		Content string `json:"content"`
	}
	if !c.decode(&req) {
		return
	}
	user := c.actor().name
	for _, rx := range cm.reactions {
		if rx.user == user && rx.content == req.Content {
			c.json(http.StatusOK, c.reaction(rx))
			return
		}
	}
	rx := &reactionState{id: f.st.id(), user: user, content: req.Content, created: f.now()}
	cm.reactions = append(cm.reactions, rx)
	c.json(http.StatusCreated, c.reaction(rx))
}

// labelNames reads the body of the labels endpoints: {"labels": [...]},
// where each label is a name or {"name": ...}, or (as GitHub also accepts
// and go-github sends) a bare array of names.
func labelNames(body []byte) ([]string, bool) {
	var items []json.RawMessage
	var wrapped struct {
		Labels []json.RawMessage `json:"labels"`
	}
	if err := json.Unmarshal(body, &items); err != nil {
		if err := json.Unmarshal(body, &wrapped); err != nil {
			return nil, false
		}
		items = wrapped.Labels
	}
	var names []string
	for _, it := range items {
		var s string
		if err := json.Unmarshal(it, &s); err == nil {
			names = append(names, s)
			continue
		}
		var o struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(it, &o); err != nil || o.Name == "" {
			return nil, false
		}
		names = append(names, o.Name)
	}
	return names, true
}

func (c *call) issueLabels(is *issueState) {
	c.json(http.StatusOK, c.labels(c.repo, is))
}

func (f *Fake) listLabels(c *call) {
	if is := c.issueFor(); is != nil {
		list := page(c, is.labels)
		out := []obj{}
		for _, name := range list {
			out = append(out, c.label(f.st.label(c.repo, name), c.repo))
		}
		c.json(http.StatusOK, out)
	}
}

func (f *Fake) addLabels(c *call) {
	is := c.issueFor()
	if is == nil {
		return
	}
	names, ok := labelNames(c.body)
	if !ok {
		c.unprocessable("Label", "labels", "invalid", "")
		return
	}
	for _, n := range names {
		l := f.st.label(c.repo, n)
		is.labels = addUnique(is.labels, []string{l.name})
	}
	is.updated = f.now()
	c.issueLabels(is)
}

func (f *Fake) setLabels(c *call) {
	is := c.issueFor()
	if is == nil {
		return
	}
	names, ok := labelNames(c.body)
	if !ok {
		c.unprocessable("Label", "labels", "invalid", "")
		return
	}
	is.labels = nil
	for _, n := range names {
		l := f.st.label(c.repo, n)
		is.labels = addUnique(is.labels, []string{l.name})
	}
	is.updated = f.now()
	c.issueLabels(is)
}

func (f *Fake) removeAllLabels(c *call) {
	is := c.issueFor()
	if is == nil {
		return
	}
	is.labels = nil
	is.updated = f.now()
	c.noContent(http.StatusNoContent)
}

func (f *Fake) addAssignees(c *call) {
	is := c.issueFor()
	if is == nil {
		return
	}
	var req struct {
		Assignees []json.RawMessage `json:"assignees"`
	}
	if !c.decode(&req) {
		return
	}
	for _, raw := range req.Assignees {
		var login string
		if err := json.Unmarshal(raw, &login); err != nil {
			var o struct {
				Login string `json:"login"`
			}
			_ = json.Unmarshal(raw, &o)
			login = o.Login
		}
		// GitHub silently skips people who cannot be assigned.
		if role := c.repo.perms[strings.ToLower(login)]; role != "" || strings.EqualFold(login, c.repo.owner) {
			is.assignees = addUnique(is.assignees, []string{login})
		}
	}
	is.updated = f.now()
	c.json(http.StatusCreated, c.issue(c.repo, is))
}

func (f *Fake) removeAssignees(c *call) {
	is := c.issueFor()
	if is == nil {
		return
	}
	var req struct {
		Assignees []string `json:"assignees"`
	}
	if !c.decode(&req) {
		return
	}
	is.assignees = removeAll(is.assignees, req.Assignees)
	is.updated = f.now()
	c.json(http.StatusOK, c.issue(c.repo, is))
}
