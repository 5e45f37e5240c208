package ghapp

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/kmend/kmend/internal/githubfake"
	"github.com/kmend/kmend/internal/publish"
)

// setup starts the GitHub stand-in with one installed repository and an
// App whose waits are recorded instead of slept.
func setup(t *testing.T) (*githubfake.Fake, *App, int64, *[]time.Duration) {
	t.Helper()
	fake := githubfake.New(t, githubfake.Options{})
	fake.AddRepo("acme", "shop", map[string][]byte{"README.md": []byte("shop\n")})
	inst := fake.Install("acme", "shop")
	var waits []time.Duration
	tr := &Transport{Sleep: func(_ context.Context, d time.Duration) error {
		waits = append(waits, d)
		return nil
	}}
	app, err := New(Options{AppID: fake.App().ID, PrivateKey: fake.App().PrivateKeyPEM, APIURL: fake.URL(), Transport: tr})
	if err != nil {
		t.Fatal(err)
	}
	return fake, app, inst, &waits
}

func TestInstallationClientAndToken(t *testing.T) {
	fake, app, inst, _ := setup(t)
	ctx := context.Background()
	c := app.Installation(inst)
	repo, _, err := c.Repositories.Get(ctx, "acme", "shop")
	if err != nil {
		t.Fatal(err)
	}
	if repo.GetDefaultBranch() != "main" {
		t.Fatalf("default branch %q", repo.GetDefaultBranch())
	}
	tok, err := app.Token(ctx, inst)
	if err != nil || !fake.TokenAllows(tok, "acme", "shop", true) {
		t.Fatalf("token %q, %v: not one the fake issued for acme/shop", tok, err)
	}
	// The token is fetched once and reused.
	if _, _, err := c.Repositories.Get(ctx, "acme", "shop"); err != nil {
		t.Fatal(err)
	}
	if n := fake.Calls()["POST /app/installations/{installation_id}/access_tokens"]; n != 1 {
		t.Fatalf("%d token requests, want 1", n)
	}
	if _, _, err := app.Client().Apps.Get(ctx, ""); err != nil {
		t.Fatalf("app-level call: %v", err)
	}
}

func TestEnterpriseURL(t *testing.T) {
	fake, _, inst, _ := setup(t)
	base := strings.TrimSuffix(fake.EnterpriseURL(), "/api/v3")
	app, err := New(Options{AppID: fake.App().ID, PrivateKey: fake.App().PrivateKeyPEM, APIURL: EnterpriseAPIURL(base)})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := app.Installation(inst).Repositories.Get(context.Background(), "acme", "shop"); err != nil {
		t.Fatalf("through /api/v3/: %v", err)
	}
}

func TestNewRefusesBadCredentials(t *testing.T) {
	for _, o := range []Options{
		{AppID: 0, PrivateKey: []byte("x")},
		{AppID: 1, PrivateKey: []byte("not a key")},
		{AppID: 1, PrivateKey: nil, APIURL: "ftp://example.com/"},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) succeeded", o.APIURL)
		} else if strings.Contains(err.Error(), "not a key") {
			t.Errorf("error repeats the key: %v", err)
		}
	}
}

// A 5xx is retried with growing waits and nothing is lost.
func TestRetriesServerErrors(t *testing.T) {
	fake, app, inst, waits := setup(t)
	c := app.Installation(inst)
	ctx := context.Background()
	if _, _, err := c.Repositories.Get(ctx, "acme", "shop"); err != nil { // token fetched
		t.Fatal(err)
	}
	*waits = nil
	fake.FailNext(3, http.StatusBadGateway)
	var calls atomic.Int64
	if _, _, err := c.Repositories.Get(WithCallCounter(ctx, &calls), "acme", "shop"); err != nil {
		t.Fatalf("after three 502s: %v", err)
	}
	if len(*waits) != 3 || calls.Load() != 4 {
		t.Fatalf("waits %v, calls %d; want 3 waits and 4 calls", *waits, calls.Load())
	}
	if (*waits)[2] <= (*waits)[0] {
		t.Errorf("backoff does not grow: %v", *waits)
	}
	// More failures than retries: the last answer is returned.
	fake.FailNext(DefaultMaxRetries+1, http.StatusInternalServerError)
	_, resp, err := c.Repositories.Get(ctx, "acme", "shop")
	if err == nil || resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("want the 500 after %d retries, got %v", DefaultMaxRetries, err)
	}
}

// A POST that meets a 5xx is sent again with the same body.
func TestRetryReplaysBody(t *testing.T) {
	fake, app, inst, _ := setup(t)
	c := app.Installation(inst)
	ctx := context.Background()
	if _, _, err := c.Repositories.Get(ctx, "acme", "shop"); err != nil {
		t.Fatal(err)
	}
	fake.AddIssue("acme", "shop", "octocat", "an issue")
	fake.FailNext(1, http.StatusServiceUnavailable)
	if _, _, err := c.Issues.CreateComment(ctx, "acme", "shop", 1, &github.IssueComment{Body: github.String("hello")}); err != nil {
		t.Fatal(err)
	}
	cs := fake.Comments("acme", "shop", 1)
	if len(cs) != 1 || cs[0].Body != "hello" {
		t.Fatalf("comments %+v", cs)
	}
}

// A secondary rate limit waits as long as GitHub says, then goes on.
func TestSecondaryRateLimitWaits(t *testing.T) {
	fake, app, inst, waits := setup(t)
	c := app.Installation(inst)
	ctx := context.Background()
	if _, _, err := c.Repositories.Get(ctx, "acme", "shop"); err != nil {
		t.Fatal(err)
	}
	*waits = nil
	fake.SecondaryRateLimitNext(1, 7*time.Second)
	if _, _, err := c.Repositories.Get(ctx, "acme", "shop"); err != nil {
		t.Fatal(err)
	}
	if len(*waits) != 1 || (*waits)[0] != 7*time.Second {
		t.Fatalf("waits %v, want [7s]", *waits)
	}
	// Asked to wait longer than MaxWait: the error reaches the caller.
	app.Transport().MaxWait = time.Second
	fake.SecondaryRateLimitNext(1, time.Minute)
	_, _, err := c.Repositories.Get(ctx, "acme", "shop")
	var abuse *github.AbuseRateLimitError
	if !errors.As(err, &abuse) {
		t.Fatalf("want AbuseRateLimitError, got %v", err)
	}
}

// An exhausted primary limit is not hammered: the answer is returned when
// the reset is far away.
func TestPrimaryRateLimitExhausted(t *testing.T) {
	fake, app, inst, waits := setup(t)
	c := app.Installation(inst)
	ctx := context.Background()
	if _, _, err := c.Repositories.Get(ctx, "acme", "shop"); err != nil {
		t.Fatal(err)
	}
	*waits = nil
	fake.SetPrimaryRemaining(0)
	before := fake.TotalCalls()
	_, _, err := c.Repositories.Get(ctx, "acme", "shop")
	var rl *github.RateLimitError
	if !errors.As(err, &rl) {
		t.Fatalf("want RateLimitError, got %v", err)
	}
	if fake.TotalCalls()-before != 1 || len(*waits) != 0 {
		t.Fatalf("%d calls and waits %v after an exhausted limit; want one call, no wait", fake.TotalCalls()-before, *waits)
	}
}

// GETs are asked again with If-None-Match: the 304 is answered from the
// cache, and a change is seen.
func TestConditionalRequests(t *testing.T) {
	fake, app, inst, _ := setup(t)
	c := app.Installation(inst)
	ctx := context.Background()
	list := func() int {
		prs, _, err := c.PullRequests.List(ctx, "acme", "shop", &github.PullRequestListOptions{State: "all"})
		if err != nil {
			t.Fatal(err)
		}
		return len(prs)
	}
	if n := list(); n != 0 {
		t.Fatalf("%d pull requests", n)
	}
	_, _, remainingBefore := rateLimit(t, fake)
	if n := list(); n != 0 {
		t.Fatalf("from the cache: %d pull requests", n)
	}
	if _, _, remaining := rateLimit(t, fake); remaining != remainingBefore {
		t.Errorf("a 304 cost rate limit: %d → %d", remainingBefore, remaining)
	}
	fake.Push("acme", "shop", "feature", map[string][]byte{"a.txt": []byte("a\n")}, "a")
	if _, _, err := c.PullRequests.Create(ctx, "acme", "shop", &github.NewPullRequest{
		Title: github.String("t"), Head: github.String("feature"), Base: github.String("main"),
	}); err != nil {
		t.Fatal(err)
	}
	if n := list(); n != 1 {
		t.Fatalf("after a new pull request: %d", n)
	}
}

func rateLimit(t *testing.T, fake *githubfake.Fake) (int, time.Time, int) {
	t.Helper()
	limit, remaining, reset := fake.RateLimit()
	return limit, reset, remaining
}

// Host carries publish's calls to GitHub with plain types.
func TestHost(t *testing.T) {
	fake, app, inst, _ := setup(t)
	ctx := context.Background()
	h := Host{Client: app.Installation(inst)}
	repo := publish.Repo{Owner: "acme", Name: "shop"}
	fake.Push("acme", "shop", "kmend/x", map[string][]byte{"a.yaml": []byte("a: 1\n")}, "fix")
	fake.SetCollaborator("acme", "shop", "alice", "write")

	pr, err := h.CreatePullRequest(ctx, repo, publish.NewPullRequest{Title: "t", Body: "b", Head: "kmend/x", Base: "main"})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Decorate(ctx, repo, pr.Number, []string{"security"}, []string{"alice"}, []string{"alice"}); err != nil {
		t.Fatal(err)
	}
	if got := fake.Labels("acme", "shop", pr.Number); len(got) != 1 || got[0] != "security" {
		t.Errorf("labels %v", got)
	}
	if err := h.SyncComments(ctx, repo, pr.Number, "<!-- m -->", []string{"one <!-- m -->", "two <!-- m -->"}); err != nil {
		t.Fatal(err)
	}
	if err := h.SyncComments(ctx, repo, pr.Number, "<!-- m -->", []string{"one <!-- m -->"}); err != nil {
		t.Fatal(err)
	}
	if cs := fake.Comments("acme", "shop", pr.Number); len(cs) != 1 || cs[0].Body != "one <!-- m -->" {
		t.Fatalf("comments after sync: %+v", cs)
	}
	if err := h.EditPullRequest(ctx, repo, pr.Number, "t2", "b2"); err != nil {
		t.Fatal(err)
	}
	prs, err := h.PullRequests(ctx, repo, "kmend/x")
	if err != nil || len(prs) != 1 || prs[0].Title != "t2" || prs[0].Body != "b2" || prs[0].State != "open" {
		t.Fatalf("pull requests %+v, %v", prs, err)
	}
	if err := h.ClosePullRequest(ctx, repo, pr.Number); err != nil {
		t.Fatal(err)
	}
	if prs, _ := h.PullRequests(ctx, repo, "kmend/x"); prs[0].State != "closed" || prs[0].Merged {
		t.Fatalf("after close: %+v", prs[0])
	}
	if prs, err := h.PullRequests(ctx, repo, "kmend/other"); err != nil || len(prs) != 0 {
		t.Fatalf("another head: %+v, %v", prs, err)
	}
	err = h.EditPullRequest(ctx, publish.Repo{Owner: "acme", Name: "missing"}, 1, "t", "b")
	if !errors.Is(err, publish.ErrNotFound) {
		t.Fatalf("missing repository: %v", err)
	}
}
