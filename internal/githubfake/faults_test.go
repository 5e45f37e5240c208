package githubfake

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
)

func TestFailNext(t *testing.T) {
	f := New(t, Options{})
	f.AddRepo("acme", "shop", sampleFiles)
	gh := tokenClient(t, f, f.InstallationToken(f.Install("acme")))
	ctx := context.Background()
	f.FailNext(2, http.StatusInternalServerError)
	for i := 0; i < 2; i++ {
		if _, _, err := gh.Repositories.Get(ctx, "acme", "shop"); !isStatus(err, http.StatusInternalServerError) {
			t.Errorf("call %d: %v, want 500", i, err)
		}
	}
	if _, _, err := gh.Repositories.Get(ctx, "acme", "shop"); err != nil {
		t.Errorf("call after the faults: %v", err)
	}
	f.FailNext(1, http.StatusBadGateway)
	if _, _, err := gh.PullRequests.List(ctx, "acme", "shop", nil); !isStatus(err, http.StatusBadGateway) {
		t.Errorf("502: %v", err)
	}
	if got := f.Calls()["GET /repos/{owner}/{repo}"]; got != 3 {
		t.Errorf("faulted calls are counted too: %d, want 3", got)
	}
}

func TestSecondaryRateLimit(t *testing.T) {
	f := New(t, Options{})
	f.AddRepo("acme", "shop", sampleFiles)
	gh := tokenClient(t, f, f.InstallationToken(f.Install("acme")))
	ctx := context.Background()
	f.SecondaryRateLimitNext(1, 1500*time.Millisecond)
	_, _, err := gh.Issues.CreateComment(ctx, "acme", "shop", f.AddIssue("acme", "shop", "bob", "x"), &github.IssueComment{Body: github.String("hi")})
	var abuse *github.AbuseRateLimitError
	if !errors.As(err, &abuse) {
		t.Fatalf("error %T %v, want *github.AbuseRateLimitError", err, err)
	}
	if abuse.RetryAfter == nil || *abuse.RetryAfter != 2*time.Second {
		t.Errorf("RetryAfter %v, want 2s (rounded up)", abuse.RetryAfter)
	}
	if len(f.Comments("acme", "shop", 1)) != 0 {
		t.Errorf("the limited call created a comment")
	}
	// A new client (go-github remembers Retry-After) gets through.
	gh2 := tokenClient(t, f, f.InstallationToken(f.Install("acme")))
	if _, _, err := gh2.Issues.CreateComment(ctx, "acme", "shop", 1, &github.IssueComment{Body: github.String("hi")}); err != nil {
		t.Errorf("after the limit: %v", err)
	}
}

func TestPrimaryRateLimit(t *testing.T) {
	f := New(t, Options{RateLimit: 100})
	f.AddRepo("acme", "shop", sampleFiles)
	tok := f.InstallationToken(f.Install("acme"))
	gh := tokenClient(t, f, tok)
	ctx := context.Background()
	_, resp, err := gh.Repositories.Get(ctx, "acme", "shop")
	if err != nil {
		t.Fatal(err)
	}
	if resp.Rate.Limit != 100 || resp.Rate.Remaining != 99 || resp.Header.Get("X-RateLimit-Used") != "1" ||
		resp.Header.Get("X-RateLimit-Resource") != "core" || !resp.Rate.Reset.After(time.Now()) {
		t.Errorf("rate %+v, used %s", resp.Rate, resp.Header.Get("X-RateLimit-Used"))
	}

	f.SetPrimaryRemaining(0)
	_, _, err = gh.Repositories.Get(ctx, "acme", "shop")
	var rl *github.RateLimitError
	if !errors.As(err, &rl) || rl.Rate.Remaining != 0 {
		t.Fatalf("exhausted: %T %v, want *github.RateLimitError", err, err)
	}
	// Raw, as GitHub sends it.
	req, _ := http.NewRequest("GET", f.URL()+"/repos/acme/shop", nil)
	req.Header.Set("Authorization", "token "+tok)
	raw, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw.Body.Close()
	if raw.StatusCode != http.StatusForbidden || raw.Header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("exhausted raw: %d remaining %q", raw.StatusCode, raw.Header.Get("X-RateLimit-Remaining"))
	}
	// /rate_limit still answers and does not count.
	limits, _, err := tokenClient(t, f, tok).RateLimit.Get(ctx)
	if err != nil || limits.GetCore().Remaining != 0 || limits.GetCore().Limit != 100 {
		t.Errorf("rate_limit: %+v %v", limits, err)
	}

	// 429 when configured so.
	g := New(t, Options{RateLimitStatus: http.StatusTooManyRequests})
	g.AddRepo("acme", "shop", sampleFiles)
	g.SetPrimaryRemaining(0)
	req, _ = http.NewRequest("GET", g.URL()+"/repos/acme/shop", nil)
	req.Header.Set("Authorization", "token "+g.InstallationToken(g.Install("acme")))
	raw, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw.Body.Close()
	if raw.StatusCode != http.StatusTooManyRequests || raw.Header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("429 mode: %d remaining %q", raw.StatusCode, raw.Header.Get("X-RateLimit-Remaining"))
	}
}

func TestConditionalRequests(t *testing.T) {
	f := New(t, Options{})
	f.AddRepo("acme", "shop", sampleFiles)
	gh := tokenClient(t, f, f.InstallationToken(f.Install("acme")))
	ctx := context.Background()
	get := func(path, etag string) (*github.Response, error) {
		req, err := gh.NewRequest("GET", path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		var v any
		return gh.Do(ctx, req, &v)
	}
	for _, path := range []string{"repos/acme/shop/pulls", "repos/acme/shop/git/ref/heads/main"} {
		resp, err := get(path, "")
		if err != nil {
			t.Fatal(err)
		}
		etag := resp.Header.Get("ETag")
		remaining := resp.Rate.Remaining
		if etag == "" {
			t.Fatalf("%s: no ETag", path)
		}
		resp, err = get(path, etag)
		if !isStatus(err, http.StatusNotModified) {
			t.Errorf("%s with If-None-Match: %v, want 304", path, err)
		}
		if resp.Rate.Remaining != remaining {
			t.Errorf("%s: 304 used the rate limit: %d then %d", path, remaining, resp.Rate.Remaining)
		}
	}
	// A change gives a new ETag.
	resp, _ := get("repos/acme/shop/git/ref/heads/main", "")
	etag := resp.Header.Get("ETag")
	f.Push("acme", "shop", "main", map[string][]byte{"new.txt": []byte("n\n")}, "more")
	resp, err := get("repos/acme/shop/git/ref/heads/main", etag)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("after a push: %v, want 200", err)
	}
	if resp.Header.Get("ETag") == etag {
		t.Errorf("ETag did not change after a push")
	}
	if n, _ := strconv.Atoi(resp.Header.Get("X-RateLimit-Used")); n != 4 {
		t.Errorf("used %d calls, want 4 (two 304s free)", n)
	}
}
