package bot

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/ghapp"
	"github.com/kmend/kmend/internal/githubfake"
	"github.com/kmend/kmend/internal/gittest"
	"github.com/kmend/kmend/internal/webhook"
)

// harness is the whole loop offline: the GitHub stand-in, the real git
// server on the same repositories, and kmend's webhook receiver, queue and
// bot.
type harness struct {
	t      *testing.T
	fake   *githubfake.Fake
	git    *gittest.Server
	hook   string // the receiver's URL
	done   chan string
	errs   chan error
	inst   int64
	serial atomic.Int64
}

const owner, name = "acme", "platform"

func newHarness(t *testing.T, files map[string][]byte) *harness {
	t.Helper()
	fake := githubfake.New(t, githubfake.Options{})
	gs := gittest.New(t, gittest.Options{Root: fake.GitRoot(), Authorize: fake.TokenAllows})
	fake.SetCloneBaseURL(gs.URL())
	fake.AddRepo(owner, name, files)
	h := &harness{t: t, fake: fake, git: gs, done: make(chan string, 16), errs: make(chan error, 16)}
	h.inst = fake.Install(owner, name)

	app, err := ghapp.New(ghapp.Options{AppID: fake.App().ID, PrivateKey: []byte(fake.App().PrivateKeyPEM), APIURL: fake.URL()})
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(Options{App: app, Controls: cat.All(), Slug: fake.App().Slug, BotUserID: 9, WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	q := webhook.NewQueue(webhook.QueueOptions{Size: 16, Workers: 1, Logger: log})
	for event, handler := range b.Handlers() {
		q.Register(event, webhook.HandlerFunc(func(ctx context.Context, ev webhook.Event) error {
			err := handler.Handle(ctx, ev)
			if err != nil {
				h.errs <- err
			}
			h.done <- ev.DeliveryID
			return err
		}))
	}
	recv, err := webhook.New(webhook.Options{Secret: []byte(fake.App().WebhookSecret), Queue: q, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(recv)
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = q.Shutdown(ctx)
	})
	h.hook = srv.URL
	return h
}

// payload is a real webhook payload from fixtures/github/webhooks, pointed
// at the harness's installation and repository.
func (h *harness) payload(file string, edit func(map[string]any)) []byte {
	h.t.Helper()
	var m map[string]any
	if err := json.Unmarshal(githubfake.Payload(h.t, file), &m); err != nil {
		h.t.Fatal(err)
	}
	if inst, ok := m["installation"].(map[string]any); ok {
		inst["id"] = h.inst
	}
	if repo, ok := m["repository"].(map[string]any); ok {
		repo["name"], repo["full_name"], repo["default_branch"], repo["master_branch"] = name, owner+"/"+name, "main", "main"
		o := repo["owner"].(map[string]any)
		o["login"], o["name"] = owner, owner
	}
	if edit != nil {
		edit(m)
	}
	b, err := json.Marshal(m)
	if err != nil {
		h.t.Fatal(err)
	}
	return b
}

// deliver posts a delivery signed with secret and returns the status.
func (h *harness) deliver(event, id string, body []byte, secret string) int {
	h.t.Helper()
	resp, err := githubfake.Deliver(context.Background(), h.hook, event, id, body, secret)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// handle delivers an event as GitHub would and waits until kmend has
// handled it.
func (h *harness) handle(event, id string, body []byte) {
	h.t.Helper()
	if code := h.deliver(event, id, body, h.fake.App().WebhookSecret); code != http.StatusAccepted {
		h.t.Fatalf("delivery %s: status %d, want 202", id, code)
	}
	select {
	case got := <-h.done:
		if got != id {
			h.t.Fatalf("handled %s, want %s", got, id)
		}
	case <-time.After(2 * time.Minute):
		h.t.Fatalf("delivery %s not handled", id)
	}
	select {
	case err := <-h.errs:
		h.t.Fatalf("delivery %s: %v", id, err)
	default:
	}
}

func (h *harness) push(files ...string) []byte {
	return h.payload("push", func(m map[string]any) {
		m["ref"] = "refs/heads/main"
		c := m["commits"].([]any)[0].(map[string]any)
		c["modified"] = files
		m["head_commit"].(map[string]any)["modified"] = files
	})
}

func fixture(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../fixtures/demo-repo/" + p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The loop end to end: installation → onboarding pull request; push →
// one fix pull request; the same delivery again → nothing; a new finding →
// the same pull request updated; merged → no new pull request; a forged
// signature → 401 and no call to GitHub.
func TestLoop(t *testing.T) {
	h := newHarness(t, map[string][]byte{
		"apps/storefront/storefront.yaml": fixture(t, "apps/storefront/storefront.yaml"),
		"README.md":                       []byte("# platform\n"),
	})

	// Installation: the onboarding pull request.
	h.handle("installation", "d-install", h.payload("installation.created", func(m map[string]any) {
		m["repositories"] = []any{map[string]any{"id": 1, "node_id": "R_1", "name": name, "full_name": owner + "/" + name, "private": false}}
	}))
	prs := h.fake.PRs(owner, name)
	if len(prs) != 1 || prs[0].Head != "kmend/onboarding" || !strings.Contains(prs[0].Body, "kmend:metadata") {
		t.Fatalf("after installation: %+v", prs)
	}
	if cfg, err := h.fake.File(owner, name, "kmend/onboarding", ".github/kmend.yaml"); err != nil || !strings.Contains(string(cfg), "version: 1") {
		t.Fatalf("onboarding branch's settings file: %q, %v", cfg, err)
	}

	// A push touching manifests: one fix pull request.
	h.fake.ResetCalls()
	h.handle("push", "d-push-1", h.push("apps/storefront/storefront.yaml"))
	prs = h.fake.PRs(owner, name)
	if len(prs) != 2 {
		t.Fatalf("after push: %d pull requests, want 2", len(prs))
	}
	fix := prs[1]
	if !strings.HasPrefix(fix.Head, "kmend/") || fix.Base != "main" || fix.State != "open" {
		t.Fatalf("fix pull request %+v", fix)
	}
	for _, want := range []string{"KM-002", "storefront", "apps/storefront/storefront.yaml", "```diff", "kubectl patch", "kmend:metadata"} {
		if !strings.Contains(fix.Body, want) {
			t.Errorf("body lacks %q", want)
		}
	}
	if got := fix.Labels; len(got) != 2 {
		t.Errorf("labels %v, want the default two", got)
	}
	fixed, err := h.fake.File(owner, name, fix.Head, "apps/storefront/storefront.yaml")
	if err != nil || !strings.Contains(string(fixed), "allowPrivilegeEscalation: false") {
		t.Fatalf("the branch's file is not fixed: %v\n%s", err, fixed)
	}
	calls := h.fake.TotalCalls()
	t.Logf("GitHub API calls for the push that opened the pull request: %d (%v)", calls, h.fake.Calls())
	if calls > 10 {
		t.Errorf("%d API calls for one pull request, want at most 10", calls)
	}

	// The same delivery again: refused as a duplicate before any work.
	h.fake.ResetCalls()
	if code := h.deliver("push", "d-push-1", h.push("apps/storefront/storefront.yaml"), h.fake.App().WebhookSecret); code != http.StatusOK {
		t.Fatalf("replayed delivery: %d, want 200", code)
	}
	if n := h.fake.TotalCalls(); n != 0 {
		t.Fatalf("a replayed delivery made %d API calls", n)
	}
	// The same event under a new delivery ID: handled, nothing changes.
	head := fix.HeadSHA
	h.handle("push", "d-push-2", h.push("apps/storefront/storefront.yaml"))
	prs = h.fake.PRs(owner, name)
	if len(prs) != 2 || prs[1].HeadSHA != head || prs[1].Body != fix.Body {
		t.Fatalf("an unchanged repository changed the pull request: %+v", prs)
	}

	// A new finding: the same pull request is updated.
	h.fake.Push(owner, name, "main", map[string][]byte{"apps/payments/deployment.yaml": fixture(t, "apps/payments/deployment.yaml")}, "add payments")
	h.handle("push", "d-push-3", h.push("apps/payments/deployment.yaml"))
	prs = h.fake.PRs(owner, name)
	if len(prs) != 2 {
		t.Fatalf("a new finding opened another pull request: %d", len(prs))
	}
	if !strings.Contains(prs[1].Body, "apps/payments/deployment.yaml") || prs[1].HeadSHA == head {
		t.Fatalf("the pull request was not updated with the new finding:\n%s", prs[1].Body)
	}

	// Merged: the findings are gone; no new pull request.
	h.fake.MergePR(owner, name, prs[1].Number)
	h.handle("push", "d-push-4", h.push("apps/storefront/storefront.yaml"))
	prs = h.fake.PRs(owner, name)
	if len(prs) != 2 {
		t.Fatalf("after the merge: %d pull requests, want still 2", len(prs))
	}

	// A forged signature: 401, and kmend calls nobody.
	h.fake.ResetCalls()
	if code := h.deliver("push", "d-forged", h.push("apps/storefront/storefront.yaml"), "not the secret"); code != http.StatusUnauthorized {
		t.Fatalf("forged delivery: %d, want 401", code)
	}
	select {
	case id := <-h.done:
		t.Fatalf("forged delivery %s was handled", id)
	case <-time.After(200 * time.Millisecond):
	}
	if n := h.fake.TotalCalls(); n != 0 {
		t.Fatalf("a forged delivery made %d API calls", n)
	}
}

// A pull request closed without merging declines its findings: the next
// push proposes nothing for them.
func TestClosedPullRequestDeclines(t *testing.T) {
	h := newHarness(t, map[string][]byte{"apps/storefront/storefront.yaml": fixture(t, "apps/storefront/storefront.yaml")})
	h.handle("push", "d-1", h.push("apps/storefront/storefront.yaml"))
	prs := h.fake.PRs(owner, name)
	if len(prs) != 1 {
		t.Fatalf("%d pull requests", len(prs))
	}
	h.fake.ClosePR(owner, name, prs[0].Number)
	h.handle("push", "d-2", h.push("apps/storefront/storefront.yaml"))
	if prs := h.fake.PRs(owner, name); len(prs) != 1 {
		t.Fatalf("a declined pull request was proposed again: %d pull requests", len(prs))
	}
	// A change of settings asks again.
	h.fake.Push(owner, name, "main", map[string][]byte{".github/kmend.yaml": []byte("version: 1\nlabels: [security]\n")}, "settings")
	h.handle("push", "d-3", h.push(".github/kmend.yaml"))
	prs = h.fake.PRs(owner, name)
	if len(prs) != 2 || prs[1].State != "open" {
		t.Fatalf("after a settings change: %+v", prs)
	}
}
