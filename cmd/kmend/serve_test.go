package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kmend/kmend/internal/githubfake"
	"github.com/kmend/kmend/internal/gittest"
)

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// kmend serve against the GitHub stand-in (as a GitHub Enterprise Server)
// and the real git server: it gets ready, answers a push with a pull
// request, exposes the metrics, and stops gracefully.
func TestServe(t *testing.T) {
	fake := githubfake.New(t, githubfake.Options{})
	gs := gittest.New(t, gittest.Options{Root: fake.GitRoot(), Authorize: fake.TokenAllows})
	fake.SetCloneBaseURL(gs.URL())
	storefront, err := os.ReadFile("../../fixtures/demo-repo/apps/storefront/storefront.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fake.AddRepo("acme", "platform", map[string][]byte{"apps/storefront/storefront.yaml": storefront})
	inst := fake.Install("acme", "platform")

	dir := t.TempDir()
	write(t, dir, "app.pem", string(fake.App().PrivateKeyPEM))
	cfg := write(t, dir, "kmend.yaml", fmt.Sprintf("version: 1\nappID: %d\nprivateKeyPath: app.pem\nwebhookSecret: %q\ngithubURL: %s\n",
		fake.App().ID, fake.App().WebhookSecret, fake.URL()))

	srv := startServe(t, cfg)
	base, logs, exit := srv.base, &srv.logs, srv.exit
	body := pushPayload(t, inst)
	resp, err := githubfake.Deliver(context.Background(), base+"/webhook", "push", "serve-1", body, fake.App().WebhookSecret)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("push delivery: %d", resp.StatusCode)
	}
	waitFor(t, logs, regexp.MustCompile(`pull request created`), exit)
	prs := fake.PRs("acme", "platform")
	if len(prs) != 1 || !strings.Contains(prs[0].Body, "KM-002") {
		t.Fatalf("pull requests: %+v", prs)
	}
	// The commit is the App's bot's.
	log := gitLog(t, gs, prs[0].Head)
	slug := fake.App().Slug
	if want := fmt.Sprintf("%d+%s[bot]@users.noreply.github.com", fake.UserID(slug+"[bot]"), slug); !strings.Contains(log, want) {
		t.Errorf("commit author %q, want %s", log, want)
	}

	metrics := get(t, base+"/metrics")
	for _, want := range []string{`kmend_webhook_deliveries_total{event="push",result="accepted"} 1`, `kmend_github_api_calls_total{status="201"}`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(logs.String(), fake.App().WebhookSecret) {
		t.Error("the webhook secret is in the log")
	}

	srv.cancel()
	select {
	case code := <-exit:
		exit <- code // for the cleanup
		if code != exitOK {
			t.Fatalf("serve exited %d\n%s", code, logs.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("serve did not stop")
	}
	if !strings.Contains(logs.String(), "kmend serve stopped") {
		t.Errorf("no graceful stop in the log:\n%s", logs.String())
	}
}

// served is kmend serve running in the background.
type served struct {
	base   string
	logs   syncBuffer
	exit   chan int
	cancel context.CancelFunc
}

// startServe runs kmend serve with a configuration file until the test
// ends, and waits until it is ready.
func startServe(t *testing.T, cfg string) *served {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	saved := serveContext
	serveContext = func() (context.Context, context.CancelFunc) { return ctx, cancel }
	s := &served{exit: make(chan int, 1), cancel: cancel}
	go func() {
		s.exit <- run([]string{"serve", "--config", cfg, "--listen", "127.0.0.1:0", "--work-dir", t.TempDir()}, strings.NewReader(""), io.Discard, &s.logs)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-s.exit:
			s.exit <- code
		case <-time.After(time.Minute):
			t.Error("serve did not stop")
		}
		serveContext = saved
	})
	s.base = "http://" + waitFor(t, &s.logs, regexp.MustCompile(`serve listening" addr=(\S+)`), s.exit)
	waitReady(t, s.base+"/readyz")
	return s
}

func TestServeRefusesBadConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := write(t, dir, "kmend.yaml", "version: 1\nappID: 12\nprivateKeyPath: missing.pem\nwebhookSecret: \"\"\n")
	t.Setenv("KMEND_WEBHOOK_SECRET", "")
	code, _, errs := kmend(t, "", "serve", "--config", cfg)
	if code != exitError || !strings.Contains(errs, "missing.pem") {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	code, _, errs = kmend(t, "", "serve", "--config", cfg, "--log-level", "loud")
	if code != exitError || !strings.Contains(errs, "--log-level") {
		t.Fatalf("exit %d\n%s", code, errs)
	}
}

func waitFor(t *testing.T, logs *syncBuffer, re *regexp.Regexp, exit chan int) string {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(logs.String()); m != nil {
			if len(m) > 1 {
				return m[1]
			}
			return m[0]
		}
		select {
		case code := <-exit:
			t.Fatalf("serve exited %d before %s:\n%s", code, re, logs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("no %s in:\n%s", re, logs.String())
	return ""
}

func waitReady(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never ready", url)
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// pushPayload is GitHub's push payload, pointed at acme/platform's main.
func pushPayload(t *testing.T, inst int64) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(githubfake.Payload(t, "push"), &m); err != nil {
		t.Fatal(err)
	}
	m["ref"] = "refs/heads/main"
	m["installation"].(map[string]any)["id"] = inst
	repo := m["repository"].(map[string]any)
	repo["name"], repo["full_name"], repo["default_branch"], repo["master_branch"] = "platform", "acme/platform", "main", "main"
	owner := repo["owner"].(map[string]any)
	owner["login"], owner["name"] = "acme", "acme"
	m["head_commit"].(map[string]any)["added"] = []string{"apps/storefront/storefront.yaml"}
	m["commits"].([]any)[0].(map[string]any)["added"] = []string{"apps/storefront/storefront.yaml"}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// gitLog is the author of a branch's head commit on the git server.
func gitLog(t *testing.T, gs *gittest.Server, branch string) string {
	t.Helper()
	out, err := exec.Command("git", "--git-dir", gs.RepoPath("acme", "platform"), "log", "-1", "--format=%an <%ae>", branch).Output()
	if err != nil {
		t.Fatalf("git log: %v", err)
	}
	return strings.TrimSpace(string(out))
}
