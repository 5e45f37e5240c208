package bot

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

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
	if !strings.Contains(prs[0].Body, "Posture score: **") || strings.Contains(prs[0].Body, "**100 / 100**") {
		t.Errorf("onboarding body without the repository's score:\n%s", prs[0].Body)
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
	time.Sleep(200 * time.Millisecond)
	if n := h.rec.count("d-forged"); n != 0 {
		t.Fatalf("forged delivery was handled %d times", n)
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
