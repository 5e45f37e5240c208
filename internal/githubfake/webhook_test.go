package githubfake

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-github/v60/github"
)

func TestSign(t *testing.T) {
	// The example of GitHub's "Validating webhook deliveries" page.
	got := Sign([]byte("It's a Secret to Everybody"), []byte("Hello, World!"))
	want := "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	if got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

func TestDeliver(t *testing.T) {
	body := Payload(t, "pull_request.opened")
	const secret = "s3cret"
	var seen *http.Request
	var event any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r
		payload, err := github.ValidatePayload(r, []byte(secret))
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		event, err = github.ParseWebHook(github.WebHookType(r), payload)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()

	resp, err := Deliver(context.Background(), srv.URL, "pull_request", "d-1", body, secret)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("delivery: %d %s", resp.StatusCode, msg)
	}
	if pr, ok := event.(*github.PullRequestEvent); !ok || pr.GetAction() != "opened" {
		t.Errorf("event %T", event)
	}
	for h, want := range map[string]string{
		"X-GitHub-Event": "pull_request", "X-GitHub-Delivery": "d-1", "X-GitHub-Hook-ID": HookID,
		"Content-Type": "application/json",
	} {
		if got := seen.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if ua := seen.Header.Get("User-Agent"); len(ua) < 16 || ua[:16] != "GitHub-Hookshot/" {
		t.Errorf("User-Agent %q", ua)
	}

	// A wrong secret is refused by the receiver.
	resp, err = Deliver(context.Background(), srv.URL, "pull_request", "d-2", body, "other")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong secret: %d", resp.StatusCode)
	}
}

func TestFakeDeliverUsesAppSecret(t *testing.T) {
	f := New(t, Options{})
	secret := f.App().WebhookSecret
	body := Payload(t, "issue_comment.created")
	var ok bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := github.ValidatePayload(r, []byte(secret))
		ok = err == nil
	}))
	defer srv.Close()
	resp, err := f.Deliver(context.Background(), srv.URL, "issue_comment", "d-3", body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !ok {
		t.Errorf("payload signed with the App's secret did not validate")
	}
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil || v["action"] != "created" {
		t.Errorf("payload: %v %v", v["action"], err)
	}
}
