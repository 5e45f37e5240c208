package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
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
// bot. Every handled delivery is recorded, with its error.
type harness struct {
	t    testing.TB
	fake *githubfake.Fake
	git  *gittest.Server
	hook string // the receiver's URL
	bot  *Bot
	inst int64 // the installation of acme/platform (newHarness)
	rec  *recorder

	// intercept, when set, sees every request kmend sends to GitHub
	// (before the transport's retries are decided) and may answer it
	// itself; next sends it on.
	intercept atomic.Pointer[interceptor]
	// waits are the waits kmend's GitHub transport asked for (backoff,
	// Retry-After); the harness does not wait them.
	waitMu sync.Mutex
	waits  []time.Duration
}

type interceptor func(req *http.Request, next http.RoundTripper) (*http.Response, error)

// harnessOptions size the queue; zero values give one worker.
type harnessOptions struct {
	Workers   int
	QueueSize int
}

const owner, name = "acme", "platform"

// newHarness is the loop with one repository, acme/platform, holding
// files, and one worker.
func newHarness(t testing.TB, files map[string][]byte) *harness {
	t.Helper()
	h := startHarness(t, harnessOptions{})
	h.fake.AddRepo(owner, name, files)
	h.inst = h.fake.Install(owner, name)
	return h
}

// startHarness starts the loop with no repository.
func startHarness(t testing.TB, o harnessOptions) *harness {
	t.Helper()
	if o.Workers <= 0 {
		o.Workers = 1
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 16
	}
	fake := githubfake.New(t, githubfake.Options{})
	gs := gittest.New(t, gittest.Options{Root: fake.GitRoot(), Authorize: fake.TokenAllows})
	fake.SetCloneBaseURL(gs.URL())
	h := &harness{t: t, fake: fake, git: gs, rec: newRecorder()}

	tr := &ghapp.Transport{Base: roundTripper(h.roundTrip), Sleep: h.sleep}
	app, err := ghapp.New(ghapp.Options{AppID: fake.App().ID, PrivateKey: []byte(fake.App().PrivateKeyPEM), APIURL: fake.URL(), Transport: tr})
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
	h.bot = b
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	q := webhook.NewQueue(webhook.QueueOptions{Size: o.QueueSize, Workers: o.Workers, Logger: log})
	for event, handler := range b.Handlers() {
		q.Register(event, webhook.HandlerFunc(func(ctx context.Context, ev webhook.Event) error {
			err := handler.Handle(ctx, ev)
			h.rec.handled(ev, err)
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

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func (h *harness) roundTrip(req *http.Request) (*http.Response, error) {
	if f := h.intercept.Load(); f != nil {
		return (*f)(req, http.DefaultTransport)
	}
	return http.DefaultTransport.RoundTrip(req)
}

// setIntercept makes f see every request to GitHub; nil stops it.
func (h *harness) setIntercept(f interceptor) {
	if f == nil {
		h.intercept.Store(nil)
		return
	}
	h.intercept.Store(&f)
}

func (h *harness) sleep(ctx context.Context, d time.Duration) error {
	h.waitMu.Lock()
	h.waits = append(h.waits, d)
	h.waitMu.Unlock()
	return ctx.Err()
}

// transportWaits returns the waits asked for so far.
func (h *harness) transportWaits() []time.Duration {
	h.waitMu.Lock()
	defer h.waitMu.Unlock()
	return append([]time.Duration(nil), h.waits...)
}

// recorder records the deliveries the bot handled.
type recorder struct {
	mu      sync.Mutex
	changed chan struct{} // closed and replaced at every delivery handled
	times   map[string]int
	at      map[string]time.Time // when each delivery was first handled
	errs    map[string][]error
	total   int
}

func newRecorder() *recorder {
	return &recorder{changed: make(chan struct{}), times: map[string]int{}, at: map[string]time.Time{}, errs: map[string][]error{}}
}

func (r *recorder) handled(ev webhook.Event, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.times[ev.DeliveryID]++
	if _, ok := r.at[ev.DeliveryID]; !ok {
		r.at[ev.DeliveryID] = time.Now()
	}
	if err != nil {
		r.errs[ev.DeliveryID] = append(r.errs[ev.DeliveryID], err)
	}
	r.total++
	close(r.changed)
	r.changed = make(chan struct{})
}

// wait waits until cond holds of the recorder (called with its lock
// held) or the timeout passes.
func (r *recorder) wait(timeout time.Duration, cond func(*recorder) bool) bool {
	deadline := time.After(timeout)
	for {
		r.mu.Lock()
		ok, ch := cond(r), r.changed
		r.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-deadline:
			return false
		}
	}
}

// count is how many times a delivery was handled.
func (r *recorder) count(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.times[id]
}

// errors returns every handler error by delivery ID.
func (r *recorder) errors() map[string][]error {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string][]error, len(r.errs))
	for k, v := range r.errs {
		out[k] = append([]error(nil), v...)
	}
	return out
}

// repoRef is a repository of the harness and the installation it is in.
type repoRef struct {
	owner, name string
	inst        int64
}

func (r repoRef) String() string { return r.owner + "/" + r.name }

// payload is a real webhook payload from fixtures/github/webhooks, pointed
// at the harness's installation and repository.
func (h *harness) payload(file string, edit func(map[string]any)) []byte {
	return h.payloadFor(repoRef{owner, name, h.inst}, file, edit)
}

// payloadFor is a real webhook payload pointed at r.
func (h *harness) payloadFor(r repoRef, file string, edit func(map[string]any)) []byte {
	h.t.Helper()
	var m map[string]any
	if err := json.Unmarshal(githubfake.Payload(h.t, file), &m); err != nil {
		h.t.Fatal(err)
	}
	if inst, ok := m["installation"].(map[string]any); ok {
		inst["id"] = r.inst
	}
	if repo, ok := m["repository"].(map[string]any); ok {
		repo["name"], repo["full_name"], repo["default_branch"], repo["master_branch"] = r.name, r.String(), "main", "main"
		o := repo["owner"].(map[string]any)
		o["login"], o["name"] = r.owner, r.owner
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
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// handle delivers an event as GitHub would, waits until kmend has handled
// it and fails the test when the handler failed.
func (h *harness) handle(event, id string, body []byte) {
	h.t.Helper()
	if err := h.handleErr(event, id, body); err != nil {
		h.t.Fatalf("delivery %s: %v", id, err)
	}
}

// handleErr delivers an event, waits until kmend has handled it, and
// returns the handler's error.
func (h *harness) handleErr(event, id string, body []byte) error {
	h.t.Helper()
	before := h.rec.count(id)
	if code := h.deliver(event, id, body, h.fake.App().WebhookSecret); code != http.StatusAccepted {
		h.t.Fatalf("delivery %s: status %d, want 202", id, code)
	}
	if !h.rec.wait(2*time.Minute, func(r *recorder) bool { return r.times[id] > before }) {
		h.t.Fatalf("delivery %s not handled", id)
	}
	errs := h.rec.errors()[id]
	if len(errs) > 0 {
		return errs[len(errs)-1]
	}
	return nil
}

// push is a push payload for acme/platform's main that modified files.
func (h *harness) push(files ...string) []byte {
	return h.pushFor(repoRef{owner, name, h.inst}, "main", files...)
}

// pushFor is a push payload for a branch of r that modified files.
func (h *harness) pushFor(r repoRef, branch string, files ...string) []byte {
	if files == nil {
		files = []string{}
	}
	return h.payloadFor(r, "push", func(m map[string]any) {
		m["ref"] = "refs/heads/" + branch
		c := m["commits"].([]any)[0].(map[string]any)
		c["modified"] = files
		m["head_commit"].(map[string]any)["modified"] = files
	})
}

func fixture(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../fixtures/demo-repo/" + p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkNoHalfState fails the test when a pull request of r points at a
// branch that does not exist, or an open one's head is not its branch's
// tip.
func (h *harness) checkNoHalfState(r repoRef) {
	h.t.Helper()
	for _, pr := range h.fake.PRs(r.owner, r.name) {
		if pr.Merged {
			continue
		}
		sha, err := h.fake.Branch(r.owner, r.name, pr.Head)
		if err != nil {
			h.t.Errorf("%s#%d (%s): its branch %s is missing: %v", r, pr.Number, pr.State, pr.Head, err)
			continue
		}
		if pr.State == "open" && sha != pr.HeadSHA {
			h.t.Errorf("%s#%d: head %s, branch at %s", r, pr.Number, pr.HeadSHA, sha)
		}
	}
}

// deliveryID makes GUID-like delivery IDs from a prefix and a number.
func deliveryID(prefix string, n int) string {
	return fmt.Sprintf("%s-%08d", prefix, n)
}

// prSummary describes pull requests in one line each, for failures.
func prSummary(prs []githubfake.PR) string {
	var b strings.Builder
	for _, pr := range prs {
		fmt.Fprintf(&b, "\n  #%d %s merged=%v head=%s sha=%.8s title=%q", pr.Number, pr.State, pr.Merged, pr.Head, pr.HeadSHA, pr.Title)
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}

// gitOutput runs git on a bare repository and returns its trimmed output.
func gitOutput(gitDir string, args ...string) (string, error) {
	out, err := exec.Command("git", append([]string{"--git-dir", gitDir}, args...)...).Output()
	return strings.TrimSpace(string(out)), err
}
