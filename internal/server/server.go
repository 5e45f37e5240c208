package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/kmend/kmend/internal/version"
)

// Defaults for Options and the http.Server.
const (
	DefaultAddr            = ":8080"
	DefaultShutdownTimeout = 30 * time.Second

	// ReadHeaderTimeout bounds reading a request's headers (slowloris).
	ReadHeaderTimeout = 10 * time.Second
	// ReadTimeout bounds reading a whole request, a 25 MiB webhook body
	// included.
	ReadTimeout = 60 * time.Second
	// WriteTimeout bounds writing a response.
	WriteTimeout = 60 * time.Second
	// IdleTimeout closes idle keep-alive connections.
	IdleTimeout = 120 * time.Second
	// MaxHeaderBytes bounds the request headers.
	MaxHeaderBytes = 64 << 10
)

// ErrNoWebhook is returned by New without Options.Webhook.
var ErrNoWebhook = errors.New("server: no webhook handler")

// Queue is what the server needs of the webhook queue (*webhook.Queue):
// whether it still accepts events, for /readyz, and a way to drain it on
// shutdown.
type Queue interface {
	Accepting() bool
	Shutdown(ctx context.Context) error
}

// queueDepth is implemented by queues that can say how full they are
// (*webhook.Queue does); the status page shows it.
type queueDepth interface {
	Len() int
	Cap() int
}

// Options configure a Server.
type Options struct {
	// Addr is the address to listen on, DefaultAddr when empty.
	Addr string
	// Listener, when set, is served instead of listening on Addr.
	Listener net.Listener
	// Webhook handles POST /webhook. Required.
	Webhook http.Handler
	// Queue is drained on shutdown and consulted by /readyz. Optional.
	Queue Queue
	// Ready reports whether kmend can do its work (for example: the
	// GitHub App's credentials are loaded). nil means always ready.
	Ready func(ctx context.Context) error
	// Metrics are served on /metrics; NewMetrics() when nil.
	Metrics *Metrics
	// Logger, slog's default when nil.
	Logger *slog.Logger
	// ShutdownTimeout bounds the graceful shutdown: the requests in
	// flight and the queue's drain together. DefaultShutdownTimeout when 0.
	ShutdownTimeout time.Duration
}

// Server serves kmend's HTTP endpoints.
type Server struct {
	opts     Options
	log      *slog.Logger
	metrics  *Metrics
	started  time.Time
	stopping atomic.Bool
	handler  http.Handler

	// httpStopped is closed once the listener is closed and the requests
	// in flight are done, before the queue is drained (tests wait on it).
	httpStopped chan struct{}
}

// New checks o and builds a Server; Run serves it.
func New(o Options) (*Server, error) {
	if o.Webhook == nil {
		return nil, ErrNoWebhook
	}
	if o.Addr == "" {
		o.Addr = DefaultAddr
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = DefaultShutdownTimeout
	}
	s := &Server{opts: o, log: o.Logger, metrics: o.Metrics, started: time.Now(), httpStopped: make(chan struct{})}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.metrics == nil {
		s.metrics = NewMetrics()
	}
	mux := http.NewServeMux()
	mux.Handle("/webhook", o.Webhook) // the receiver answers other methods with 405 itself
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", s.metrics.Handler())
	mux.HandleFunc("GET /{$}", s.status)
	s.handler = mux
	return s, nil
}

// Handler returns the mux, for tests and for embedding.
func (s *Server) Handler() http.Handler { return s.handler }

// Metrics returns the metrics the server exposes.
func (s *Server) Metrics() *Metrics { return s.metrics }

// Run serves until ctx ends or serving fails. On ctx's end it stops
// accepting connections, waits for the requests in flight, drains the
// webhook queue (all within Options.ShutdownTimeout) and returns nil, or
// what went wrong on the way.
func (s *Server) Run(ctx context.Context) error {
	ln := s.opts.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", s.opts.Addr); err != nil {
			return fmt.Errorf("listen on %s: %w", s.opts.Addr, err)
		}
	}
	srv := s.httpServer()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	s.log.Info("serving", "addr", ln.Addr().String(), "version", version.Version)

	var serveErr error
	select {
	case serveErr = <-served:
	case <-ctx.Done():
	}
	s.stopping.Store(true)
	s.log.Info("shutting down", "timeout", s.opts.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
	defer cancel()

	var errs []error
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		errs = append(errs, fmt.Errorf("serve: %w", serveErr))
	}
	if err := srv.Shutdown(sctx); err != nil {
		errs = append(errs, fmt.Errorf("http shutdown: %w", err))
		srv.Close()
	}
	close(s.httpStopped)
	if s.opts.Queue != nil {
		if err := s.opts.Queue.Shutdown(sctx); err != nil {
			errs = append(errs, fmt.Errorf("drain: %w", err))
		}
	}
	if serveErr == nil {
		<-served // http.ErrServerClosed once Shutdown has begun
	}
	if err := errors.Join(errs...); err != nil {
		s.log.Error("shutdown incomplete", "err", err)
		return err
	}
	s.log.Info("shut down")
	return nil
}

// Run builds a Server from o and runs it until ctx ends.
func Run(ctx context.Context, o Options) error {
	s, err := New(o)
	if err != nil {
		return err
	}
	return s.Run(ctx)
}

func (s *Server) httpServer() *http.Server {
	return &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	text(w, http.StatusOK, "ok")
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if err := s.ready(r.Context()); err != nil {
		text(w, http.StatusServiceUnavailable, "not ready: "+err.Error())
		return
	}
	text(w, http.StatusOK, "ready")
}

// ready returns why the server is not ready, or nil.
func (s *Server) ready(ctx context.Context) error {
	if s.stopping.Load() {
		return errors.New("shutting down")
	}
	if q := s.opts.Queue; q != nil && !q.Accepting() {
		return errors.New("webhook queue is shut down")
	}
	if s.opts.Ready != nil {
		return s.opts.Ready(ctx)
	}
	return nil
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	state := "ready"
	if err := s.ready(r.Context()); err != nil {
		state = "not ready: " + err.Error()
	}
	msg := fmt.Sprintf("kmend %s\nstatus: %s\nuptime: %s", version.Version, state, time.Since(s.started).Round(time.Second))
	if q, ok := s.opts.Queue.(queueDepth); ok {
		msg += fmt.Sprintf("\nqueue: %d of %d waiting", q.Len(), q.Cap())
	}
	text(w, http.StatusOK, msg)
}

func text(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	io.WriteString(w, msg+"\n")
}

func goVersion() string { return runtime.Version() }
