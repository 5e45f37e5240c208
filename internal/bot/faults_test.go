package bot

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A push killed halfway (the git server reads half of it and hangs up)
// fails the handler and leaves no half state: no branch, no pull request,
// or the pull request as it was. The next event completes the work.
func TestKilledPushConverges(t *testing.T) {
	h := newHarness(t, map[string][]byte{"apps/storefront/storefront.yaml": fixture(t, "apps/storefront/storefront.yaml")})
	repo := repoRef{owner, name, h.inst}

	// Onboarding: the push of the onboarding branch dies.
	install := h.payload("installation.created", func(m map[string]any) {
		m["repositories"] = []any{map[string]any{"id": 1, "node_id": "R_1", "name": name, "full_name": owner + "/" + name, "private": false}}
	})
	h.git.BreakNextPush()
	if err := h.handleErr("installation", "d-install-1", install); err == nil {
		t.Fatal("the onboarding's broken push reported no error")
	}
	if prs := h.fake.PRs(owner, name); len(prs) != 0 {
		t.Fatalf("a broken push left pull requests: %+v", prs)
	}
	if _, err := h.fake.Branch(owner, name, "kmend/onboarding"); err == nil {
		t.Fatal("a broken push left the onboarding branch")
	}
	// GitHub redelivers (a new delivery ID): the onboarding completes.
	h.handle("installation", "d-install-2", install)
	if prs := h.fake.PRs(owner, name); len(prs) != 1 || prs[0].Head != "kmend/onboarding" {
		t.Fatalf("after the redelivery: %+v", prs)
	}

	// A first fix: the push dies, nothing is opened.
	pushes := h.git.Pushes()
	h.git.BreakNextPush()
	err := h.handleErr("push", "d-push-1", h.push("apps/storefront/storefront.yaml"))
	if err == nil || !strings.Contains(err.Error(), "publish branch") {
		t.Fatalf("broken push: error %v, want the branch's push failure", err)
	}
	if h.git.Pushes() != pushes+1 {
		t.Fatalf("%d pushes reached the git server, want 1", h.git.Pushes()-pushes)
	}
	if prs := h.fake.PRs(owner, name); len(prs) != 1 {
		t.Fatalf("a broken push opened a pull request: %+v", prs)
	}
	h.checkNoHalfState(repo)

	// The next event completes it.
	h.handle("push", "d-push-2", h.push("apps/storefront/storefront.yaml"))
	prs := h.fake.PRs(owner, name)
	if len(prs) != 2 || prs[1].State != "open" {
		t.Fatalf("after the next event: %+v", prs)
	}
	fix := prs[1]
	if b, err := h.fake.File(owner, name, fix.Head, "apps/storefront/storefront.yaml"); err != nil || !strings.Contains(string(b), "allowPrivilegeEscalation: false") {
		t.Fatalf("the branch is not fixed: %v\n%s", err, b)
	}
	h.checkNoHalfState(repo)

	// An update: a new finding on main, the push of the rebuilt branch
	// dies. The pull request keeps its branch and its text, which agree.
	h.fake.Push(owner, name, "main", map[string][]byte{"apps/payments/deployment.yaml": fixture(t, "apps/payments/deployment.yaml")}, "add payments")
	h.git.BreakNextPush()
	if err := h.handleErr("push", "d-push-3", h.push("apps/payments/deployment.yaml")); err == nil {
		t.Fatal("the update's broken push reported no error")
	}
	prs = h.fake.PRs(owner, name)
	if len(prs) != 2 || prs[1].HeadSHA != fix.HeadSHA || prs[1].Body != fix.Body {
		t.Fatalf("a broken push changed the pull request: %+v", prs[1])
	}
	if _, err := h.fake.File(owner, name, fix.Head, "apps/payments/deployment.yaml"); err == nil {
		t.Fatal("the branch has the new file although its push died")
	}
	h.checkNoHalfState(repo)

	// The next event: the branch and the text have the new finding.
	h.handle("push", "d-push-4", h.push("apps/payments/deployment.yaml"))
	prs = h.fake.PRs(owner, name)
	if len(prs) != 2 || prs[1].Number != fix.Number || prs[1].HeadSHA == fix.HeadSHA {
		t.Fatalf("after the next event: %+v", prs)
	}
	if !strings.Contains(prs[1].Body, "apps/payments/deployment.yaml") {
		t.Fatalf("the body lacks the new finding:\n%s", prs[1].Body)
	}
	for _, f := range []string{"apps/storefront/storefront.yaml", "apps/payments/deployment.yaml"} {
		b, err := h.fake.File(owner, name, fix.Head, f)
		if err != nil || !strings.Contains(string(b), "allowPrivilegeEscalation: false") {
			t.Fatalf("%s is not fixed on the branch: %v", f, err)
		}
	}
	h.checkNoHalfState(repo)
	if errs := h.fake.Errors(); len(errs) > 0 {
		t.Fatalf("the GitHub stand-in saw invalid calls: %v", errs)
	}
}

// isCreatePR reports whether req opens a pull request.
func isCreatePR(req *http.Request) bool {
	return req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/pulls")
}

// GitHub answering 500 while kmend opens the pull request: retried, one
// pull request, nothing lost.
func TestServerErrorsRetried(t *testing.T) {
	h := newHarness(t, map[string][]byte{"apps/storefront/storefront.yaml": fixture(t, "apps/storefront/storefront.yaml")})
	var armed atomic.Bool
	armed.Store(true)
	h.setIntercept(func(req *http.Request, next http.RoundTripper) (*http.Response, error) {
		if isCreatePR(req) && armed.CompareAndSwap(true, false) {
			h.fake.FailNext(2, http.StatusInternalServerError) // this call and its first retry
		}
		return next.RoundTrip(req)
	})
	h.fake.ResetCalls()
	h.handle("push", "d-1", h.push("apps/storefront/storefront.yaml"))
	prs := h.fake.PRs(owner, name)
	if len(prs) != 1 || prs[0].State != "open" || len(prs[0].Labels) != 2 {
		t.Fatalf("pull requests %+v, want one, open, labelled", prs)
	}
	if n := h.fake.Calls()["POST /repos/{owner}/{repo}/pulls"]; n != 3 {
		t.Errorf("POST /pulls reached GitHub %d times, want 3 (two 500s, then created)", n)
	}
	if w := h.transportWaits(); len(w) != 2 || w[0] <= 0 || w[1] <= w[0]/2 {
		t.Errorf("waits before the retries %v, want two growing backoffs", w)
	}
	h.checkNoHalfState(repoRef{owner, name, h.inst})
	if errs := h.fake.Errors(); len(errs) > 0 {
		t.Fatalf("the GitHub stand-in saw invalid calls: %v", errs)
	}
}

// GitHub's secondary rate limit while kmend updates the pull request: the
// transport waits what Retry-After says (the harness only records it) and
// retries; the update is not lost.
func TestSecondaryRateLimitRetried(t *testing.T) {
	h := newHarness(t, map[string][]byte{"apps/storefront/storefront.yaml": fixture(t, "apps/storefront/storefront.yaml")})
	h.handle("push", "d-1", h.push("apps/storefront/storefront.yaml"))
	before := h.fake.PRs(owner, name)
	if len(before) != 1 {
		t.Fatalf("%d pull requests", len(before))
	}

	h.fake.Push(owner, name, "main", map[string][]byte{"apps/payments/deployment.yaml": fixture(t, "apps/payments/deployment.yaml")}, "add payments")
	var armed atomic.Bool
	armed.Store(true)
	h.setIntercept(func(req *http.Request, next http.RoundTripper) (*http.Response, error) {
		if req.Method == http.MethodPatch && strings.Contains(req.URL.Path, "/pulls/") && armed.CompareAndSwap(true, false) {
			h.fake.SecondaryRateLimitNext(1, 90*time.Second)
		}
		return next.RoundTrip(req)
	})
	start := time.Now()
	h.handle("push", "d-2", h.push("apps/payments/deployment.yaml"))
	if took := time.Since(start); took > 60*time.Second {
		t.Fatalf("the handler really waited (%s): the transport's Sleep was not used", took)
	}
	if w := h.transportWaits(); len(w) != 1 || w[0] != 90*time.Second {
		t.Errorf("waits %v, want the Retry-After of 90s", w)
	}
	prs := h.fake.PRs(owner, name)
	if len(prs) != 1 || !strings.Contains(prs[0].Body, "apps/payments/deployment.yaml") || prs[0].HeadSHA == before[0].HeadSHA {
		t.Fatalf("the update was lost: %+v", prs)
	}
	h.checkNoHalfState(repoRef{owner, name, h.inst})
}

// GitHub opens the pull request but its answer is lost (a 502 from a
// proxy in front of it): the transport retries, GitHub says the pull
// request exists. kmend takes the existing one: no error, one pull
// request, labelled.
func TestLostAnswerToCreate(t *testing.T) {
	h := newHarness(t, map[string][]byte{"apps/storefront/storefront.yaml": fixture(t, "apps/storefront/storefront.yaml")})
	var armed atomic.Bool
	armed.Store(true)
	h.setIntercept(func(req *http.Request, next http.RoundTripper) (*http.Response, error) {
		resp, err := next.RoundTrip(req)
		if err == nil && isCreatePR(req) && resp.StatusCode == http.StatusCreated && armed.CompareAndSwap(true, false) {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return &http.Response{
				Status: "502 Bad Gateway", StatusCode: http.StatusBadGateway,
				Proto: resp.Proto, ProtoMajor: resp.ProtoMajor, ProtoMinor: resp.ProtoMinor,
				Header:  http.Header{"Content-Type": {"text/html"}},
				Body:    io.NopCloser(strings.NewReader("<html>502 Bad Gateway</html>")),
				Request: req,
			}, nil
		}
		return resp, err
	})
	h.handle("push", "d-1", h.push("apps/storefront/storefront.yaml"))
	prs := h.fake.PRs(owner, name)
	if len(prs) != 1 || prs[0].State != "open" {
		t.Fatalf("pull requests %+v, want one open", prs)
	}
	if len(prs[0].Labels) != 2 {
		t.Errorf("labels %v: the pull request taken over was not decorated", prs[0].Labels)
	}
	// The next event changes nothing.
	h.handle("push", "d-2", h.push("apps/storefront/storefront.yaml"))
	if again := h.fake.PRs(owner, name); len(again) != 1 || again[0].HeadSHA != prs[0].HeadSHA || again[0].Body != prs[0].Body {
		t.Fatalf("after the next event: %+v", again)
	}
}
