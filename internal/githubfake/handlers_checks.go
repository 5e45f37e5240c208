package githubfake

import (
	"net/http"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
)

// CheckRun is a snapshot of a check run.
type CheckRun struct {
	ID         int64
	Name       string
	HeadSHA    string
	Status     string
	Conclusion string
	Title      string
	Summary    string
	Text       string
}

// CheckRuns lists a repository's check runs in creation order.
func (f *Fake) CheckRuns(owner, repo string) []CheckRun {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.st.repo(owner, repo)
	if r == nil {
		return nil
	}
	var out []CheckRun
	for _, cr := range r.checkRuns {
		out = append(out, CheckRun{
			ID: cr.id, Name: cr.name, HeadSHA: cr.headSHA, Status: cr.status, Conclusion: cr.conclusion,
			Title: cr.title, Summary: cr.summary, Text: cr.text,
		})
	}
	return out
}

type checkRunBody struct {
	Name        *string    `json:"name"`
	HeadSHA     string     `json:"head_sha"`
	DetailsURL  *string    `json:"details_url"`
	ExternalID  *string    `json:"external_id"`
	Status      *string    `json:"status"`
	Conclusion  *string    `json:"conclusion"`
	StartedAt   *string    `json:"started_at"`
	CompletedAt *string    `json:"completed_at"`
	Output      *checkBody `json:"output"`
}

type checkBody struct {
	Title       *string `json:"title"`
	Summary     *string `json:"summary"`
	Text        *string `json:"text"`
	Annotations []any   `json:"annotations"`
}

// apply copies what a create or update request sets.
func (cr *checkRunState) apply(req checkRunBody, now time.Time) {
	if req.Name != nil {
		cr.name = *req.Name
	}
	if req.DetailsURL != nil {
		cr.detailsURL = *req.DetailsURL
	}
	if req.ExternalID != nil {
		cr.externalID = *req.ExternalID
	}
	if req.Status != nil {
		cr.status = *req.Status
	}
	if req.StartedAt != nil {
		if t, err := parseTime(*req.StartedAt); err == nil {
			cr.started = t
		}
	}
	if req.Conclusion != nil {
		cr.conclusion = *req.Conclusion
		cr.status = "completed"
	}
	if req.CompletedAt != nil {
		if t, err := parseTime(*req.CompletedAt); err == nil {
			cr.completed = t
		}
	}
	if cr.status == "completed" && cr.completed.IsZero() {
		cr.completed = now
	}
	if cr.status != "queued" && cr.started.IsZero() {
		cr.started = now
	}
	if o := req.Output; o != nil {
		if o.Title != nil {
			cr.title = *o.Title
		}
		if o.Summary != nil {
			cr.summary = *o.Summary
		}
		if o.Text != nil {
			cr.text = *o.Text
		}
		cr.annotations += len(o.Annotations)
	}
}

// checkConclusion is GitHub's rule: completed needs a conclusion.
func (c *call) checkConclusion(cr *checkRunState) bool {
	if cr.status == "completed" && cr.conclusion == "" {
		c.unprocessable("CheckRun", "conclusion", "missing_field", "conclusion is required when status is completed")
		return false
	}
	return true
}

func (f *Fake) createCheckRun(c *call) {
	var req checkRunBody
	if !c.decode(&req) {
		return
	}
	g := c.git()
	if g == nil {
		return
	}
	if !plumbing.IsHash(req.HeadSHA) {
		c.unprocessable("CheckRun", "head_sha", "invalid", "No commit found for SHA: "+req.HeadSHA)
		return
	}
	if _, err := g.commit(plumbing.NewHash(req.HeadSHA)); err != nil {
		c.unprocessable("CheckRun", "head_sha", "invalid", "No commit found for SHA: "+req.HeadSHA)
		return
	}
	cr := &checkRunState{id: f.st.id(), headSHA: req.HeadSHA, status: "queued"}
	cr.apply(req, f.now())
	if !c.checkConclusion(cr) {
		return
	}
	c.repo.checkRuns = append(c.repo.checkRuns, cr)
	c.json(http.StatusCreated, c.checkRun(c.repo, cr))
}

func (c *call) checkRunFor() *checkRunState {
	id := c.intParam("check_run_id")
	for _, cr := range c.repo.checkRuns {
		if cr.id == id {
			return cr
		}
	}
	c.fail(http.StatusNotFound, "Not Found")
	return nil
}

func (f *Fake) getCheckRun(c *call) {
	if cr := c.checkRunFor(); cr != nil {
		c.json(http.StatusOK, c.checkRun(c.repo, cr))
	}
}

func (f *Fake) patchCheckRun(c *call) {
	cr := c.checkRunFor()
	if cr == nil {
		return
	}
	var req checkRunBody
	if !c.decode(&req) {
		return
	}
	next := *cr
	next.apply(req, f.now())
	if !c.checkConclusion(&next) {
		return
	}
	*cr = next
	c.json(http.StatusOK, c.checkRun(c.repo, cr))
}

func (f *Fake) listCheckRuns(c *call) {
	g := c.git()
	if g == nil {
		return
	}
	h, err := g.resolve(c.params["ref"])
	if err != nil {
		c.fail(http.StatusNotFound, "No commit found for SHA: "+c.params["ref"])
		return
	}
	sha := h.String()
	name, status := c.query("check_name"), c.query("status")
	latest := c.query("filter") != "all"
	var list []*checkRunState
	seen := map[string]bool{}
	for i := len(c.repo.checkRuns) - 1; i >= 0; i-- {
		cr := c.repo.checkRuns[i]
		if cr.headSHA != sha || (name != "" && cr.name != name) || (status != "" && cr.status != status) {
			continue
		}
		if latest && seen[cr.name] {
			continue
		}
		seen[cr.name] = true
		list = append(list, cr)
	}
	out := []obj{}
	for _, cr := range page(c, list) {
		out = append(out, c.checkRun(c.repo, cr))
	}
	c.json(http.StatusOK, obj{"total_count": len(list), "check_runs": out})
}
