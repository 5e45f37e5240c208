package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmend/kmend/internal/webhook"
)

var secret = []byte("server test secret")

// running is a Server run by a test on 127.0.0.1:0.
type running struct {
	srv    *Server
	url    string
	queue  *webhook.Queue
	cancel context.CancelFunc
	done   chan error // Run's result
}

// start runs a server with a real webhook receiver and queue. register
// adds handlers before the server starts.
func start(t *testing.T, ready func(context.Context) error, register func(q *webhook.Queue)) *running {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	m := NewMetrics()
	q := webhook.NewQueue(webhook.QueueOptions{Size: 10, Workers: 2, Metrics: m, Logger: logger})
	if register != nil {
		register(q)
	}
	rc, err := webhook.New(webhook.Options{Secret: secret, Queue: q, Metrics: m, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Listener: ln, Webhook: rc, Queue: q, Ready: ready, Metrics: m, Logger: logger, ShutdownTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{srv: s, url: "http://" + ln.Addr().String(), queue: q, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-r.done
	})
	return r
}

func get(t *testing.T, url string) (int, string) {
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
	return resp.StatusCode, string(b)
}

func postFixture(t *testing.T, url, event, id, file string) int {
	t.Helper()
	body, err := os.ReadFile("../../fixtures/github/webhooks/" + file)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, url+"/webhook", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhook.HeaderEvent, event)
	req.Header.Set(webhook.HeaderDelivery, id)
	req.Header.Set(webhook.HeaderSignature256, webhook.Sign(secret, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestHealthAndReady: /healthz answers while the process runs; /readyz
// follows the readiness check and the queue.
func TestHealthAndReady(t *testing.T) {
	var credentials atomic.Bool
	r := start(t, func(context.Context) error {
		if !credentials.Load() {
			return errors.New("GitHub App credentials not loaded")
		}
		return nil
	}, nil)

	if code, body := get(t, r.url+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	code, body := get(t, r.url+"/readyz")
	if code != 503 || !strings.Contains(body, "credentials not loaded") {
		t.Errorf("/readyz before credentials: %d %q, want 503 with the reason", code, body)
	}
	credentials.Store(true)
	if code, body := get(t, r.url+"/readyz"); code != 200 {
		t.Errorf("/readyz with credentials: %d %q, want 200", code, body)
	}
	if err := r.queue.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	code, body = get(t, r.url+"/readyz")
	if code != 503 || !strings.Contains(body, "queue is shut down") {
		t.Errorf("/readyz after queue shutdown: %d %q, want 503", code, body)
	}
	if code, _ := get(t, r.url+"/healthz"); code != 200 {
		t.Errorf("/healthz after queue shutdown: %d, want 200", code)
	}
}

// TestStatusAndRoutes: the status page, unknown paths and wrong methods.
func TestStatusAndRoutes(t *testing.T) {
	r := start(t, nil, nil)
	code, body := get(t, r.url+"/")
	if code != 200 || !strings.HasPrefix(body, "kmend ") || !strings.Contains(body, "status: ready") || !strings.Contains(body, "queue: 0 of 10 waiting") {
		t.Errorf("/: %d %q", code, body)
	}
	if code, _ := get(t, r.url+"/nothing-here"); code != 404 {
		t.Errorf("/nothing-here: %d, want 404", code)
	}
	if code, _ := get(t, r.url+"/webhook"); code != 405 {
		t.Errorf("GET /webhook: %d, want 405", code)
	}
	resp, err := http.Post(r.url+"/healthz", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Errorf("POST /healthz: %d, want 405", resp.StatusCode)
	}
}

// TestMetrics: after a delivery, /metrics shows it, the job's duration and
// error, and GitHub calls counted by the instrumented transport.
func TestMetrics(t *testing.T) {
	handled := make(chan struct{}, 2)
	r := start(t, nil, func(q *webhook.Queue) {
		q.Register("pull_request", webhook.HandlerFunc(func(ctx context.Context, ev webhook.Event) error {
			defer func() { handled <- struct{}{} }()
			if ev.Action == "closed" {
				return errors.New("cannot fix")
			}
			return nil
		}))
	})
	if code := postFixture(t, r.url, "pull_request", "m-1", "pull_request.opened.json"); code != 202 {
		t.Fatalf("delivery: %d", code)
	}
	if code := postFixture(t, r.url, "pull_request", "m-2", "pull_request.closed.json"); code != 202 {
		t.Fatalf("delivery: %d", code)
	}
	if code := postFixture(t, r.url, "pull_request", "m-1", "pull_request.opened.json"); code != 200 {
		t.Fatalf("replay: %d", code)
	}
	<-handled
	<-handled

	// A GitHub API call through the instrumented transport.
	gh := httptest.NewServer(http.NotFoundHandler())
	defer gh.Close()
	client := &http.Client{Transport: r.srv.Metrics().InstrumentTransport(nil)}
	resp, err := client.Get(gh.URL + "/repos/o/r")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	gh.Close()
	if _, err := client.Get(gh.URL + "/repos/o/r"); err == nil {
		t.Fatal("call to a closed server succeeded")
	}

	_, body := get(t, r.url+"/metrics")
	for _, want := range []string{
		`kmend_webhook_deliveries_total{event="pull_request",result="accepted"} 2`,
		`kmend_webhook_deliveries_total{event="pull_request",result="duplicate"} 1`,
		`kmend_webhook_job_duration_seconds_count{event="pull_request",result="ok"} 1`,
		`kmend_webhook_job_duration_seconds_count{event="pull_request",result="error"} 1`,
		`kmend_webhook_handler_errors_total{event="pull_request",kind="error"} 1`,
		`kmend_webhook_queue_depth 0`,
		`kmend_github_api_calls_total{status="404"} 1`,
		`kmend_github_api_calls_total{status="error"} 1`,
		`kmend_build_info{`,
		`go_goroutines `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestMetricsOwnRegistry: two Metrics can coexist (nothing is registered
// globally) and a nil *Metrics is a no-op.
func TestMetricsOwnRegistry(t *testing.T) {
	a, b := NewMetrics(), NewMetrics()
	a.Delivery("push", "accepted")
	w := httptest.NewRecorder()
	b.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if strings.Contains(w.Body.String(), "kmend_webhook_deliveries_total{") {
		t.Error("a delivery counted in one Metrics shows in another")
	}
	var none *Metrics
	none.Delivery("push", "accepted")
	none.Job("push", "ok", time.Second)
	none.QueueDepth(3)
	none.GitHubCall(200)
}

// TestGracefulShutdown: when the context ends, the server stops accepting
// connections, finishes the job in flight and the queued one, then Run
// returns nil.
func TestGracefulShutdown(t *testing.T) {
	started := make(chan string, 2)
	release := make(chan struct{})
	var finished atomic.Int32
	r := start(t, nil, func(q *webhook.Queue) {
		q.Register("pull_request", webhook.HandlerFunc(func(ctx context.Context, ev webhook.Event) error {
			started <- ev.DeliveryID
			<-release
			finished.Add(1)
			return nil
		}))
	})
	for _, id := range []string{"g-1", "g-2", "g-3"} {
		if code := postFixture(t, r.url, "pull_request", id, "pull_request.opened.json"); code != 202 {
			t.Fatalf("%s: %d", id, code)
		}
	}
	<-started
	<-started // both workers busy, g-3 queued

	r.cancel()
	<-r.srv.httpStopped
	if _, err := net.DialTimeout("tcp", strings.TrimPrefix(r.url, "http://"), time.Second); err == nil {
		t.Error("the server still accepts connections after shutdown began")
	}
	select {
	case err := <-r.done:
		t.Fatalf("Run returned (%v) before the queue was drained", err)
	default:
	}
	close(release)
	if err := <-r.done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	r.done <- nil // for the cleanup
	if n := finished.Load(); n != 3 {
		t.Errorf("%d jobs finished, want 3", n)
	}
}

// TestShutdownTimeout: a job that outlives ShutdownTimeout makes Run
// return an error instead of hanging.
func TestShutdownTimeout(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	q := webhook.NewQueue(webhook.QueueOptions{Workers: 1, Logger: logger})
	started := make(chan struct{})
	q.Register("push", webhook.HandlerFunc(func(ctx context.Context, ev webhook.Event) error {
		close(started)
		<-ctx.Done() // cancelled when the shutdown gives up
		return ctx.Err()
	}))
	rc, err := webhook.New(webhook.Options{Secret: secret, Queue: q, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Listener: ln, Webhook: rc, Queue: q, Logger: logger, ShutdownTimeout: 50 * time.Millisecond})
	}()
	if code := postFixture(t, "http://"+ln.Addr().String(), "push", "t-1", "push.json"); code != 202 {
		t.Fatalf("delivery: %d", code)
	}
	<-started
	cancel()
	if err := <-done; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run = %v, want a deadline error", err)
	}
}

// TestRunErrors: a bad address and a missing webhook handler are errors.
func TestRunErrors(t *testing.T) {
	if _, err := New(Options{}); !errors.Is(err, ErrNoWebhook) {
		t.Errorf("New without webhook: %v", err)
	}
	err := Run(context.Background(), Options{Addr: "256.0.0.1:bad", Webhook: http.NotFoundHandler(), Logger: slog.New(slog.DiscardHandler)})
	if err == nil || !strings.Contains(err.Error(), "listen on 256.0.0.1:bad") {
		t.Errorf("Run on a bad address: %v", err)
	}
}

// TestTimeouts: the http.Server is protected against slow clients.
func TestTimeouts(t *testing.T) {
	s, err := New(Options{Webhook: http.NotFoundHandler()})
	if err != nil {
		t.Fatal(err)
	}
	srv := s.httpServer()
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.WriteTimeout <= 0 || srv.IdleTimeout <= 0 || srv.MaxHeaderBytes <= 0 {
		t.Errorf("timeouts not set: %+v", srv)
	}
}
