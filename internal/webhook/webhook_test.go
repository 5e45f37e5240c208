package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
)

var testSecret = []byte("It's a Secret to Everybody")

const fixtureDir = "../../fixtures/github/webhooks"

// fixture reads one of the real payloads in fixtures/github/webhooks.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// delivery builds a request as GitHub sends it, signed with secret.
func delivery(secret []byte, event, id string, body []byte) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("User-Agent", "GitHub-Hookshot/044aadd")
	r.Header.Set(HeaderEvent, event)
	r.Header.Set(HeaderDelivery, id)
	if secret != nil {
		r.Header.Set(HeaderSignature256, Sign(secret, body))
	}
	return r
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// recorder is a Handler that keeps what it was given.
type recorder struct {
	mu     sync.Mutex
	events []Event
	got    chan Event // receives every event when not nil
}

func (h *recorder) Handle(_ context.Context, ev Event) error {
	h.mu.Lock()
	h.events = append(h.events, ev)
	h.mu.Unlock()
	if h.got != nil {
		h.got <- ev
	}
	return nil
}

func (h *recorder) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.events)
}

// fakeMetrics counts what it is told.
type fakeMetrics struct {
	mu         sync.Mutex
	deliveries map[string]int // "event/result"
	jobs       map[string]int // "event/result"
}

func newFakeMetrics() *fakeMetrics {
	return &fakeMetrics{deliveries: map[string]int{}, jobs: map[string]int{}}
}

func (m *fakeMetrics) Delivery(event, result string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.deliveries[event+"/"+result]++
}

func (m *fakeMetrics) QueueDepth(int) {}

func (m *fakeMetrics) Job(event, result string, _ time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.jobs[event+"/"+result]++
}

func (m *fakeMetrics) delivery(key string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.deliveries[key]
}

func (m *fakeMetrics) job(key string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.jobs[key]
}

// lockedBuffer is a bytes.Buffer safe for the workers' concurrent logging.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

type setup struct {
	q   *Queue
	rc  *Receiver
	met *fakeMetrics
	log *lockedBuffer
}

// newSetup builds a queue and a receiver logging JSON at debug level.
func newSetup(t *testing.T, qo QueueOptions, o Options) *setup {
	t.Helper()
	s := &setup{met: newFakeMetrics(), log: &lockedBuffer{}}
	logger := slog.New(slog.NewJSONHandler(s.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	qo.Logger, qo.Metrics = logger, s.met
	s.q = NewQueue(qo)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.q.Shutdown(ctx)
	})
	if o.Secret == nil {
		o.Secret = testSecret
	}
	o.Queue, o.Logger, o.Metrics = s.q, logger, s.met
	rc, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	s.rc = rc
	return s
}

func (s *setup) shutdown(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.q.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestFixtures posts every real payload, signed as GitHub signs it, and
// checks the status, that each handled event is handled exactly once, and
// what the Event carries.
func TestFixtures(t *testing.T) {
	want := map[string]struct {
		action       string
		installation int64
		repo         string
		pr           int
		payload      any
	}{
		"check_run.rerequested.json":           {"rerequested", 1, "github/hello-world", 0, &github.CheckRunEvent{}},
		"check_suite.requested.json":           {"requested", 957387, "Codertocat/Hello-World", 0, &github.CheckSuiteEvent{}},
		"installation.created.json":            {"created", 957387, "", 0, &github.InstallationEvent{}},
		"installation.deleted.json":            {"deleted", 2, "", 0, &github.InstallationEvent{}},
		"installation_repositories.added.json": {"added", 957387, "", 0, &github.InstallationRepositoriesEvent{}},
		"issue_comment.created.json":           {"created", 1, "Codertocat/Hello-World", 1, &github.IssueCommentEvent{}},
		"issue_comment.edited.json":            {"edited", 1, "Codertocat/Hello-World", 1, &github.IssueCommentEvent{}},
		"ping.json":                            {},
		"pull_request.closed.json":             {"closed", 1, "Codertocat/Hello-World", 2, &github.PullRequestEvent{}},
		"pull_request.opened.json":             {"opened", 1, "Codertocat/Hello-World", 2, &github.PullRequestEvent{}},
		"pull_request.synchronize.json":        {"synchronize", 1, "Codertocat/Hello-World", 2, &github.PullRequestEvent{}},
		"push.json":                            {"", 1, "Codertocat/Hello-World", 0, &github.PushEvent{}},
	}
	files, err := filepath.Glob(filepath.Join(fixtureDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(want) {
		t.Fatalf("%d fixtures, want %d: %v", len(files), len(want), files)
	}
	s := newSetup(t, QueueOptions{}, Options{})
	h := &recorder{}
	for _, typ := range []string{"check_run", "check_suite", "installation", "installation_repositories", "issue_comment", "pull_request", "push"} {
		s.q.Register(typ, h)
	}
	for i, f := range files {
		name := filepath.Base(f)
		typ, _, _ := strings.Cut(name, ".")
		id := fmt.Sprintf("72d3162e-cc78-11e3-81ab-4c9367dc%04d", i)
		w := serve(s.rc, delivery(testSecret, typ, id, fixture(t, name)))
		wantStatus := http.StatusAccepted
		if typ == "ping" {
			wantStatus = http.StatusOK
		}
		if w.Code != wantStatus {
			t.Errorf("%s: status %d (%s), want %d", name, w.Code, w.Body, wantStatus)
		}
	}
	s.shutdown(t)

	if got := h.count(); got != len(want)-1 {
		t.Fatalf("handled %d events, want %d", got, len(want)-1)
	}
	seen := map[string]bool{}
	for _, ev := range h.events {
		name := ev.Type + "." + ev.Action + ".json"
		if ev.Type == "push" {
			name = "push.json"
		}
		if seen[name] {
			t.Errorf("%s handled twice", name)
		}
		seen[name] = true
		w, ok := want[name]
		if !ok {
			t.Errorf("unexpected event %s", name)
			continue
		}
		if ev.InstallationID != w.installation || ev.Repo != w.repo || ev.PR != w.pr {
			t.Errorf("%s: installation %d repo %q pr %d, want %d %q %d", name, ev.InstallationID, ev.Repo, ev.PR, w.installation, w.repo, w.pr)
		}
		if reflect.TypeOf(ev.Payload) != reflect.TypeOf(w.payload) {
			t.Errorf("%s: payload %T, want %T", name, ev.Payload, w.payload)
		}
		if ev.Logger == nil || ev.DeliveryID == "" || ev.Received.IsZero() {
			t.Errorf("%s: logger %v, delivery %q, received %v", name, ev.Logger, ev.DeliveryID, ev.Received)
		}
	}
	if pr, ok := findEvent(h.events, "pull_request", "opened").Payload.(*github.PullRequestEvent); !ok || pr.GetPullRequest().GetTitle() != "Update the README with new information." {
		t.Errorf("pull_request payload not decoded: %+v", pr)
	}
	if got := s.met.delivery("pull_request/accepted"); got != 3 {
		t.Errorf("metrics: %d pull_request deliveries accepted, want 3", got)
	}
	if got := s.met.job("pull_request/ok"); got != 3 {
		t.Errorf("metrics: %d pull_request jobs ok, want 3", got)
	}
	if got := s.met.delivery("ping/ping"); got != 1 {
		t.Errorf("metrics: %d pings, want 1", got)
	}
}

func findEvent(evs []Event, typ, action string) Event {
	for _, ev := range evs {
		if ev.Type == typ && ev.Action == action {
			return ev
		}
	}
	return Event{}
}

// TestBadSignature: a delivery that is not signed with the secret is
// refused with 401 and never reaches a handler.
func TestBadSignature(t *testing.T) {
	body := fixture(t, "pull_request.opened.json")
	tampered := bytes.Replace(body, []byte(`"opened"`), []byte(`"closed"`), 1)
	if bytes.Equal(tampered, body) {
		t.Fatal("tampering changed nothing")
	}
	good := Sign(testSecret, body)
	tests := []struct {
		name   string
		body   []byte
		set    map[string]string
		remove []string
	}{
		{name: "wrong secret", body: body, set: map[string]string{HeaderSignature256: Sign([]byte("not the secret"), body)}},
		{name: "tampered body", body: tampered, set: map[string]string{HeaderSignature256: good}},
		{name: "missing header", body: body, remove: []string{HeaderSignature256}},
		{name: "sha1 only", body: body, remove: []string{HeaderSignature256},
			set: map[string]string{"X-Hub-Signature": "sha1=0123456789abcdef0123456789abcdef01234567"}},
		{name: "sha1 prefix", body: body, set: map[string]string{HeaderSignature256: "sha1=" + strings.TrimPrefix(good, "sha256=")}},
		{name: "no prefix", body: body, set: map[string]string{HeaderSignature256: strings.TrimPrefix(good, "sha256=")}},
		{name: "upper-case prefix", body: body, set: map[string]string{HeaderSignature256: "SHA256=" + strings.TrimPrefix(good, "sha256=")}},
		{name: "truncated", body: body, set: map[string]string{HeaderSignature256: good[:len(good)-2]}},
		{name: "not hex", body: body, set: map[string]string{HeaderSignature256: good[:len(good)-2] + "zz"}},
		{name: "empty digest", body: body, set: map[string]string{HeaderSignature256: "sha256="}},
		{name: "empty body signed with empty key", body: body, set: map[string]string{HeaderSignature256: Sign(nil, body)}},
	}
	s := newSetup(t, QueueOptions{}, Options{})
	h := &recorder{}
	s.q.Register("pull_request", h)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := delivery(testSecret, "pull_request", fmt.Sprintf("bad-%d", i), tt.body)
			for _, k := range tt.remove {
				r.Header.Del(k)
			}
			for k, v := range tt.set {
				r.Header.Set(k, v)
			}
			if w := serve(s.rc, r); w.Code != http.StatusUnauthorized {
				t.Errorf("status %d (%s), want 401", w.Code, w.Body)
			}
		})
	}
	s.shutdown(t)
	if n := h.count(); n != 0 {
		t.Errorf("handler called %d times for unsigned deliveries", n)
	}
	if got := s.met.delivery("unverified/unauthorized"); got != len(tests) {
		t.Errorf("metrics: %d unauthorized, want %d", got, len(tests))
	}
	if strings.Contains(s.log.String(), string(testSecret)) {
		t.Error("the secret is in the log")
	}
}

// TestEmptySecret: a receiver without a secret cannot be built, and the
// signature check never passes without one.
func TestEmptySecret(t *testing.T) {
	q := NewQueue(QueueOptions{})
	defer q.Shutdown(context.Background())
	for _, secret := range [][]byte{nil, {}} {
		if _, err := New(Options{Secret: secret, Queue: q}); !errors.Is(err, ErrEmptySecret) {
			t.Errorf("New(secret %q) = %v, want ErrEmptySecret", secret, err)
		}
		if _, err := NewHandler(Options{Secret: secret, Queue: q}); !errors.Is(err, ErrEmptySecret) {
			t.Errorf("NewHandler(secret %q) = %v, want ErrEmptySecret", secret, err)
		}
		body := []byte(`{}`)
		if err := VerifySignature(secret, body, Sign(secret, body)); err == nil {
			t.Errorf("VerifySignature with secret %q passed", secret)
		}
	}
	if _, err := New(Options{Secret: testSecret}); !errors.Is(err, ErrNoQueue) {
		t.Errorf("New without a queue = %v, want ErrNoQueue", err)
	}
}

// TestBadRequests covers 405 and the 400s.
func TestBadRequests(t *testing.T) {
	body := fixture(t, "pull_request.opened.json")
	s := newSetup(t, QueueOptions{}, Options{MaxBody: int64(len(body))})
	h := &recorder{}
	s.q.Register("pull_request", h)

	get := httptest.NewRequest(http.MethodGet, "/webhook", nil)
	if w := serve(s.rc, get); w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != http.MethodPost {
		t.Errorf("GET: status %d Allow %q, want 405 POST", w.Code, w.Header().Get("Allow"))
	}

	tests := []struct {
		name   string
		r      *http.Request
		status int
	}{
		{"missing event", withHeader(delivery(testSecret, "pull_request", "d1", body), HeaderEvent, ""), 400},
		{"missing delivery", withHeader(delivery(testSecret, "pull_request", "d2", body), HeaderDelivery, ""), 400},
		{"malformed event", withHeader(delivery(testSecret, "pull_request", "d3", body), HeaderEvent, "Pull Request"), 400},
		{"malformed delivery", withHeader(delivery(testSecret, "pull_request", "d4", body), HeaderDelivery, "a b\x01"), 400},
		{"oversized body", delivery(testSecret, "pull_request", "d5", append(body, ' ')), 400},
		{"not JSON", delivery(testSecret, "pull_request", "d6", []byte("{not json")), 400},
		{"JSON array", delivery(testSecret, "pull_request", "d7", []byte("[1,2]")), 400},
		{"wrong types", delivery(testSecret, "pull_request", "d8", []byte(`{"action":"opened","number":"two"}`)), 400},
		{"unsupported content type", withHeader(delivery(testSecret, "pull_request", "d9", body), "Content-Type", "text/plain"), 400},
		{"unreadable body", unreadable(), 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if w := serve(s.rc, tt.r); w.Code != tt.status {
				t.Errorf("status %d (%s), want %d", w.Code, w.Body, tt.status)
			}
		})
	}
	s.shutdown(t)
	if n := h.count(); n != 0 {
		t.Errorf("handler called %d times for bad requests", n)
	}
}

func withHeader(r *http.Request, k, v string) *http.Request {
	if v == "" {
		r.Header.Del(k)
	} else {
		r.Header.Set(k, v)
	}
	return r
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func unreadable() *http.Request {
	r := delivery(testSecret, "pull_request", "d10", nil)
	r.Body = io.NopCloser(failingReader{})
	return r
}

// TestFormEncoded: hooks configured with application/x-www-form-urlencoded
// send the JSON in a "payload" field; the signature covers the raw body.
func TestFormEncoded(t *testing.T) {
	s := newSetup(t, QueueOptions{}, Options{})
	h := &recorder{}
	s.q.Register("pull_request", h)
	body := []byte("payload=" + urlEscape(fixture(t, "pull_request.opened.json")))
	r := delivery(testSecret, "pull_request", "form-1", body)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if w := serve(s.rc, r); w.Code != http.StatusAccepted {
		t.Fatalf("status %d (%s), want 202", w.Code, w.Body)
	}
	s.shutdown(t)
	if h.count() != 1 || h.events[0].PR != 2 {
		t.Errorf("handled %d events: %+v", h.count(), h.events)
	}
}

func urlEscape(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			sb.WriteByte(c)
		} else {
			fmt.Fprintf(&sb, "%%%02X", c)
		}
	}
	return sb.String()
}

// TestUnhandledEvent: a verified event without a handler gets 202 and is
// dropped.
func TestUnhandledEvent(t *testing.T) {
	s := newSetup(t, QueueOptions{}, Options{})
	h := &recorder{}
	s.q.Register("pull_request", h)
	w := serve(s.rc, delivery(testSecret, "push", "push-1", fixture(t, "push.json")))
	if w.Code != http.StatusAccepted || strings.TrimSpace(w.Body.String()) != "ignored" {
		t.Errorf("status %d (%s), want 202 ignored", w.Code, w.Body)
	}
	s.shutdown(t)
	if h.count() != 0 || s.met.delivery("push/ignored") != 1 {
		t.Errorf("handled %d, ignored %d; want 0 and 1", h.count(), s.met.delivery("push/ignored"))
	}
	if !strings.Contains(s.log.String(), `"level":"DEBUG","msg":"webhook event has no handler; dropped"`) {
		t.Errorf("drop not logged at debug:\n%s", s.log)
	}
}

// TestReplay: a delivery ID seen before is answered 200 "duplicate" and not
// handled again; a new ID with the same body is handled.
func TestReplay(t *testing.T) {
	s := newSetup(t, QueueOptions{}, Options{})
	h := &recorder{}
	s.q.Register("pull_request", h)
	body := fixture(t, "pull_request.opened.json")
	for i, want := range []int{http.StatusAccepted, http.StatusOK, http.StatusOK} {
		w := serve(s.rc, delivery(testSecret, "pull_request", "same-id", body))
		if w.Code != want {
			t.Errorf("post %d: status %d (%s), want %d", i, w.Code, w.Body, want)
		}
		if want == http.StatusOK && strings.TrimSpace(w.Body.String()) != "duplicate" {
			t.Errorf("post %d: body %q, want duplicate", i, w.Body)
		}
	}
	if w := serve(s.rc, delivery(testSecret, "pull_request", "other-id", body)); w.Code != http.StatusAccepted {
		t.Errorf("new delivery ID: status %d, want 202", w.Code)
	}
	s.shutdown(t)
	if n := h.count(); n != 2 {
		t.Errorf("handled %d times, want 2", n)
	}
}

// TestReplayConcurrent: 100 goroutines post one delivery over real HTTP at
// once; it is queued and handled exactly once.
func TestReplayConcurrent(t *testing.T) {
	s := newSetup(t, QueueOptions{Size: 200}, Options{})
	h := &recorder{}
	s.q.Register("issue_comment", h)
	srv := httptest.NewServer(s.rc)
	defer srv.Close()
	body := fixture(t, "issue_comment.created.json")
	sig := Sign(testSecret, body)

	const n = 100
	var accepted, duplicate, other atomic.Int32
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(HeaderEvent, "issue_comment")
			req.Header.Set(HeaderDelivery, "d0d9e1a0-0000-11ee-8000-000000000001")
			req.Header.Set(HeaderSignature256, sig)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			switch resp.StatusCode {
			case http.StatusAccepted:
				accepted.Add(1)
			case http.StatusOK:
				duplicate.Add(1)
			default:
				other.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	s.shutdown(t)
	if accepted.Load() != 1 || duplicate.Load() != n-1 || other.Load() != 0 {
		t.Errorf("accepted %d, duplicate %d, other %d; want 1, %d, 0", accepted.Load(), duplicate.Load(), other.Load(), n-1)
	}
	if c := h.count(); c != 1 {
		t.Errorf("handled %d times, want 1", c)
	}
}

// blocker is a handler that signals when it starts and waits for release.
type blocker struct {
	started chan string
	release chan struct{}
	handled atomic.Int32
}

func newBlocker(n int) *blocker {
	return &blocker{started: make(chan string, n), release: make(chan struct{})}
}

func (b *blocker) Handle(ctx context.Context, ev Event) error {
	b.started <- ev.DeliveryID
	select {
	case <-b.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	b.handled.Add(1)
	return nil
}

// TestQueueFull: with the worker busy and the queue full, a delivery gets
// 503 with Retry-After and is not remembered, so its redelivery is
// accepted once there is room.
func TestQueueFull(t *testing.T) {
	s := newSetup(t, QueueOptions{Size: 1, Workers: 1}, Options{RetryAfter: 90 * time.Second})
	b := newBlocker(10)
	s.q.Register("pull_request", b)
	body := fixture(t, "pull_request.synchronize.json")

	if w := serve(s.rc, delivery(testSecret, "pull_request", "job-1", body)); w.Code != http.StatusAccepted {
		t.Fatalf("job-1: status %d", w.Code)
	}
	if got := <-b.started; got != "job-1" { // the worker holds job-1
		t.Fatalf("started %s", got)
	}
	if w := serve(s.rc, delivery(testSecret, "pull_request", "job-2", body)); w.Code != http.StatusAccepted {
		t.Fatalf("job-2: status %d", w.Code) // waits in the queue
	}
	w := serve(s.rc, delivery(testSecret, "pull_request", "job-3", body))
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "90" {
		t.Fatalf("job-3: status %d Retry-After %q, want 503 and 90", w.Code, w.Header().Get("Retry-After"))
	}
	if !strings.Contains(s.log.String(), `"msg":"webhook queue full; delivery refused"`) {
		t.Errorf("queue full not logged:\n%s", s.log)
	}
	if s.met.delivery("pull_request/queue_full") != 1 {
		t.Error("queue_full not counted")
	}

	close(b.release)
	if got := <-b.started; got != "job-2" {
		t.Fatalf("started %s, want job-2", got)
	}
	// job-2 has left the queue: the redelivery of job-3 fits.
	if w := serve(s.rc, delivery(testSecret, "pull_request", "job-3", body)); w.Code != http.StatusAccepted {
		t.Fatalf("job-3 redelivered: status %d (%s), want 202", w.Code, w.Body)
	}
	s.shutdown(t)
	if n := b.handled.Load(); n != 3 {
		t.Errorf("handled %d, want 3", n)
	}
}

// TestShutdownDrains: every accepted event is handled before Shutdown
// returns, and deliveries after Shutdown began get 503.
func TestShutdownDrains(t *testing.T) {
	const n = 20
	s := newSetup(t, QueueOptions{Size: n, Workers: 2}, Options{})
	b := newBlocker(n)
	s.q.Register("pull_request", b)
	body := fixture(t, "pull_request.opened.json")
	for i := range n {
		if w := serve(s.rc, delivery(testSecret, "pull_request", fmt.Sprintf("drain-%d", i), body)); w.Code != http.StatusAccepted {
			t.Fatalf("drain-%d: status %d", i, w.Code)
		}
	}
	done := make(chan error, 1)
	go func() { done <- s.q.Shutdown(context.Background()) }()
	for s.q.Accepting() {
		runtime.Gosched()
	}
	w := serve(s.rc, delivery(testSecret, "pull_request", "late", body))
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Errorf("delivery during shutdown: status %d, want 503 with Retry-After", w.Code)
	}
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned (%v) while handlers were blocked", err)
	default:
	}
	close(b.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := b.handled.Load(); got != n {
		t.Errorf("handled %d of %d accepted events", got, n)
	}
	if err := s.q.Dispatch(Event{Type: "pull_request"}); !errors.Is(err, ErrShuttingDown) {
		t.Errorf("Dispatch after Shutdown = %v", err)
	}
}

// TestShutdownDeadline: when the context ends first, Shutdown returns its
// error and the running handlers' contexts are cancelled.
func TestShutdownDeadline(t *testing.T) {
	s := newSetup(t, QueueOptions{Size: 5, Workers: 1}, Options{})
	b := newBlocker(5)
	s.q.Register("pull_request", b)
	body := fixture(t, "pull_request.opened.json")
	for i := range 3 {
		serve(s.rc, delivery(testSecret, "pull_request", fmt.Sprintf("slow-%d", i), body))
	}
	<-b.started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.q.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Shutdown = %v, want context.Canceled", err)
	}
	// The blocked handler sees its context end; the queued ones are dropped.
	if err := s.q.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := b.handled.Load(); got != 0 {
		t.Errorf("%d handlers finished normally, want 0", got)
	}
	if got := s.met.job("pull_request/error"); got != 1 {
		t.Errorf("%d cancelled jobs counted, want 1", got)
	}
	if got := strings.Count(s.log.String(), "webhook event dropped"); got != 2 {
		t.Errorf("%d dropped events logged, want 2", got)
	}
}

// TestHandlerPanic: a panicking handler is logged and counted, and its
// worker handles the next event.
func TestHandlerPanic(t *testing.T) {
	s := newSetup(t, QueueOptions{Workers: 1}, Options{})
	var calls atomic.Int32
	s.q.Register("pull_request", HandlerFunc(func(ctx context.Context, ev Event) error {
		if calls.Add(1) == 1 {
			var m map[string]int
			m["boom"]++ // nil map write: a runtime panic
		}
		return nil
	}))
	body := fixture(t, "pull_request.opened.json")
	for _, id := range []string{"panic-1", "panic-2"} {
		if w := serve(s.rc, delivery(testSecret, "pull_request", id, body)); w.Code != http.StatusAccepted {
			t.Fatalf("%s: status %d", id, w.Code)
		}
	}
	s.shutdown(t)
	if calls.Load() != 2 {
		t.Fatalf("handler called %d times, want 2", calls.Load())
	}
	if s.met.job("pull_request/panic") != 1 || s.met.job("pull_request/ok") != 1 {
		t.Errorf("jobs: %v", s.met.jobs)
	}
	logs := s.log.String()
	if !strings.Contains(logs, `"msg":"webhook handler panicked"`) || !strings.Contains(logs, `"delivery":"panic-1"`) {
		t.Errorf("panic not logged with its delivery:\n%s", logs)
	}
}

// TestLogs: the event's logger carries delivery, installation, repo and
// PR; handler errors are logged with it; the secret and the payload never
// appear in the log.
func TestLogs(t *testing.T) {
	s := newSetup(t, QueueOptions{}, Options{})
	s.q.Register("pull_request", HandlerFunc(func(ctx context.Context, ev Event) error {
		ev.Logger.Info("handler says hello")
		return errors.New("remediation failed")
	}))
	body := fixture(t, "pull_request.opened.json")
	serve(s.rc, delivery(testSecret, "pull_request", "3f1c5b2a-log-0001", body))
	serve(s.rc, delivery([]byte("wrong"), "pull_request", "3f1c5b2a-log-0002", body))
	s.shutdown(t)
	logs := s.log.String()

	var hello, failed string
	for _, l := range strings.Split(logs, "\n") {
		switch {
		case strings.Contains(l, "handler says hello"):
			hello = l
		case strings.Contains(l, "webhook handler failed"):
			failed = l
		}
	}
	for _, l := range []string{hello, failed} {
		for _, want := range []string{`"delivery":"3f1c5b2a-log-0001"`, `"installation":1`, `"repo":"Codertocat/Hello-World"`, `"pr":2`, `"event":"pull_request"`, `"action":"opened"`} {
			if !strings.Contains(l, want) {
				t.Errorf("log line lacks %s: %s", want, l)
			}
		}
	}
	if !strings.Contains(failed, `"err":"remediation failed"`) || !strings.Contains(failed, `"level":"ERROR"`) {
		t.Errorf("handler error not logged at error level: %s", failed)
	}
	if s.met.job("pull_request/error") != 1 {
		t.Error("handler error not counted")
	}
	if !strings.Contains(logs, `"delivery":"3f1c5b2a-log-0002"`) {
		t.Errorf("rejected delivery not logged:\n%s", logs)
	}
	for _, secret := range []string{string(testSecret), "wrong", Sign(testSecret, body)[7:]} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains secret material %q", secret)
		}
	}
	for _, content := range []string{"Update the README with new information", "This is a pretty simple change"} {
		if strings.Contains(logs, content) {
			t.Errorf("log contains payload content %q", content)
		}
	}
}

// TestSeenSet: the remembered IDs are bounded and expire.
func TestSeenSet(t *testing.T) {
	s := newSeenSet(3, time.Hour)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ok := func() error { return nil }
	claim := func(id string, at time.Time) bool {
		dup, err := s.claim(id, at, ok)
		if err != nil {
			t.Fatal(err)
		}
		return dup
	}
	for _, id := range []string{"a", "b", "c"} {
		if claim(id, now) {
			t.Fatalf("%s: duplicate on first claim", id)
		}
	}
	if !claim("a", now) {
		t.Error("a: not a duplicate")
	}
	claim("d", now.Add(time.Minute)) // evicts a, the oldest
	if s.len() != 3 {
		t.Errorf("len %d, want 3", s.len())
	}
	if claim("a", now.Add(time.Minute)) {
		t.Error("a: still remembered past the size bound")
	}
	// b, c and d expire an hour after they were added.
	if !claim("d", now.Add(time.Hour)) {
		t.Error("d: forgotten before its TTL")
	}
	if claim("b", now.Add(time.Hour)) {
		t.Error("b: remembered past its TTL")
	}
	// A refused claim is not remembered.
	refuse := errors.New("full")
	if _, err := s.claim("e", now.Add(time.Hour), func() error { return refuse }); err != refuse {
		t.Errorf("claim error %v", err)
	}
	if claim("e", now.Add(time.Hour)) {
		t.Error("e: remembered although refused")
	}
}

// TestRegister: registering twice or a nil handler panics.
func TestRegister(t *testing.T) {
	q := NewQueue(QueueOptions{})
	defer q.Shutdown(context.Background())
	q.Register("push", &recorder{})
	if !q.Handles("push") || q.Handles("pull_request") {
		t.Error("Handles is wrong")
	}
	for name, f := range map[string]func(){
		"twice": func() { q.Register("push", &recorder{}) },
		"nil":   func() { q.Register("pull_request", nil) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
