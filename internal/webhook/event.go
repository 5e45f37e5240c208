package webhook

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"
)

// Handler handles one event type. It runs in a queue worker, never in the
// HTTP request. A returned error is logged with the event's logger and
// counted; GitHub is not told (it was answered 202 long before).
type Handler interface {
	Handle(ctx context.Context, ev Event) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, ev Event) error

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, ev Event) error { return f(ctx, ev) }

// Event is one verified, decoded delivery.
type Event struct {
	// Type is the X-GitHub-Event header: "pull_request", "issue_comment", ...
	Type string
	// Action is the payload's "action", empty for events without one (push).
	Action string
	// DeliveryID is the X-GitHub-Delivery header, unique per delivery.
	DeliveryID string
	// InstallationID is the GitHub App installation the event is for, 0
	// when the payload has none.
	InstallationID int64
	// Repo is "owner/name", empty when the payload has no repository.
	Repo string
	// PR is the pull request number when the event is about one: a
	// pull_request event, a comment on a pull request, or a check run or
	// suite attached to exactly one pull request. 0 otherwise.
	PR int
	// Payload is what github.ParseWebHook returned for Type, for example
	// *github.PullRequestEvent.
	Payload any
	// Received is when the delivery arrived.
	Received time.Time
	// Logger carries event, action, delivery, installation, repo and pr.
	Logger *slog.Logger
}

// meta is the part of any payload that routing and logging need. It is
// read from the raw JSON so that every event type is handled alike.
type meta struct {
	Action       string `json:"action"`
	Number       int    `json:"number"`
	Installation *struct {
		ID int64 `json:"id"`
	} `json:"installation"`
	Repository *struct {
		FullName string `json:"full_name"`
	} `json:"repository"`
	PullRequest *struct {
		Number int `json:"number"`
	} `json:"pull_request"`
	Issue *struct {
		Number      int              `json:"number"`
		PullRequest *json.RawMessage `json:"pull_request"`
	} `json:"issue"`
	CheckRun   *checkPRs `json:"check_run"`
	CheckSuite *checkPRs `json:"check_suite"`
}

type checkPRs struct {
	PullRequests []struct {
		Number int `json:"number"`
	} `json:"pull_requests"`
}

// readMeta fills ev's Action, InstallationID, Repo and PR from the payload.
func readMeta(body []byte, ev *Event) error {
	var m meta
	if err := json.Unmarshal(body, &m); err != nil {
		return err
	}
	ev.Action = m.Action
	if m.Installation != nil {
		ev.InstallationID = m.Installation.ID
	}
	if m.Repository != nil {
		ev.Repo = m.Repository.FullName
	}
	switch {
	case m.PullRequest != nil && m.PullRequest.Number != 0:
		ev.PR = m.PullRequest.Number
	case m.PullRequest != nil && m.Number != 0:
		ev.PR = m.Number
	case m.Issue != nil && m.Issue.PullRequest != nil && string(*m.Issue.PullRequest) != "null":
		ev.PR = m.Issue.Number
	case m.CheckRun != nil && len(m.CheckRun.PullRequests) == 1:
		ev.PR = m.CheckRun.PullRequests[0].Number
	case m.CheckSuite != nil && len(m.CheckSuite.PullRequests) == 1:
		ev.PR = m.CheckSuite.PullRequests[0].Number
	}
	return nil
}

// logAttrs are the attributes every log line about ev carries.
func (ev *Event) logAttrs() []any {
	attrs := []any{slog.String("event", ev.Type)}
	if ev.Action != "" {
		attrs = append(attrs, slog.String("action", ev.Action))
	}
	attrs = append(attrs, slog.String("delivery", ev.DeliveryID))
	if ev.InstallationID != 0 {
		attrs = append(attrs, slog.Int64("installation", ev.InstallationID))
	}
	if ev.Repo != "" {
		attrs = append(attrs, slog.String("repo", ev.Repo))
	}
	if ev.PR != 0 {
		attrs = append(attrs, slog.Int("pr", ev.PR))
	}
	return attrs
}
