package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"
)

// Defaults for QueueOptions.
const (
	DefaultQueueSize  = 100
	DefaultWorkers    = 4
	DefaultJobTimeout = 15 * time.Minute
)

// Errors from Dispatch.
var (
	// ErrQueueFull means every slot of the queue is taken.
	ErrQueueFull = errors.New("webhook queue is full")
	// ErrShuttingDown means the queue no longer accepts events.
	ErrShuttingDown = errors.New("webhook queue is shutting down")
)

// QueueOptions configure a Queue.
type QueueOptions struct {
	// Size is how many events may wait for a worker; DefaultQueueSize
	// when 0.
	Size int
	// Workers is how many events are handled at once; DefaultWorkers
	// when 0.
	Workers int
	// JobTimeout bounds one handler call; DefaultJobTimeout when 0,
	// no limit when negative.
	JobTimeout time.Duration
	// Logger is used when an event has no logger of its own; slog's
	// default logger when nil.
	Logger *slog.Logger
	// Metrics counts jobs and reports the queue depth; none when nil.
	Metrics Metrics
}

// Queue is a bounded queue of events and the workers that handle them.
// Register the handlers, then give the queue to New as Options.Queue.
type Queue struct {
	opts QueueOptions
	log  *slog.Logger
	met  Metrics

	hmu      sync.RWMutex
	handlers map[string]Handler

	mu     sync.Mutex // guards closed and sending on jobs
	closed bool
	jobs   chan Event

	ctx    context.Context // parent of every job's context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	done   chan struct{} // closed when every worker has returned
}

// NewQueue starts the workers of a new queue.
func NewQueue(o QueueOptions) *Queue {
	if o.Size <= 0 {
		o.Size = DefaultQueueSize
	}
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.JobTimeout == 0 {
		o.JobTimeout = DefaultJobTimeout
	}
	q := &Queue{
		opts:     o,
		log:      o.Logger,
		met:      o.Metrics,
		handlers: make(map[string]Handler),
		jobs:     make(chan Event, o.Size),
		done:     make(chan struct{}),
	}
	if q.log == nil {
		q.log = slog.Default()
	}
	if q.met == nil {
		q.met = nopMetrics{}
	}
	q.ctx, q.cancel = context.WithCancel(context.Background())
	q.wg.Add(o.Workers)
	for range o.Workers {
		go q.work()
	}
	go func() {
		q.wg.Wait()
		close(q.done)
	}()
	return q
}

// Register makes h the handler of eventType ("pull_request",
// "issue_comment", ...). It panics when eventType already has a handler or
// h is nil, as http.ServeMux does: both are programming errors.
func (q *Queue) Register(eventType string, h Handler) {
	if h == nil {
		panic("webhook: nil handler for " + eventType)
	}
	q.hmu.Lock()
	defer q.hmu.Unlock()
	if _, ok := q.handlers[eventType]; ok {
		panic("webhook: handler for " + eventType + " registered twice")
	}
	q.handlers[eventType] = h
}

// Handles reports whether eventType has a handler.
func (q *Queue) Handles(eventType string) bool {
	return q.handler(eventType) != nil
}

func (q *Queue) handler(eventType string) Handler {
	q.hmu.RLock()
	defer q.hmu.RUnlock()
	return q.handlers[eventType]
}

// Dispatch queues ev without blocking. It returns ErrQueueFull when no slot
// is free and ErrShuttingDown after Shutdown.
func (q *Queue) Dispatch(ev Event) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return ErrShuttingDown
	}
	select {
	case q.jobs <- ev:
		q.met.QueueDepth(len(q.jobs))
		return nil
	default:
		return ErrQueueFull
	}
}

// Accepting reports whether Dispatch may still accept events.
func (q *Queue) Accepting() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return !q.closed
}

// Len reports how many events wait for a worker.
func (q *Queue) Len() int { return len(q.jobs) }

// Cap reports how many events may wait for a worker.
func (q *Queue) Cap() int { return cap(q.jobs) }

// Shutdown stops accepting events (Dispatch returns ErrShuttingDown), lets
// the workers handle every event already queued and waits for them. When
// ctx ends first, the contexts of the running handlers are cancelled and
// ctx's error is returned; the events still queued are dropped then. It is
// safe to call more than once.
func (q *Queue) Shutdown(ctx context.Context) error {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.jobs)
	}
	q.mu.Unlock()
	select {
	case <-q.done:
		q.cancel()
		return nil
	case <-ctx.Done():
		q.cancel()
		return fmt.Errorf("webhook queue: %d events not handled: %w", len(q.jobs), ctx.Err())
	}
}

func (q *Queue) work() {
	defer q.wg.Done()
	for ev := range q.jobs {
		q.met.QueueDepth(len(q.jobs))
		if q.ctx.Err() != nil {
			// Shutdown gave up: drop what is left, saying so.
			log := ev.Logger
			if log == nil {
				log = q.log.With(ev.logAttrs()...)
			}
			log.Warn("webhook event dropped: shutdown deadline passed before a worker took it")
			continue
		}
		q.run(ev)
	}
}

// run handles one event, turning a panic into a logged, counted failure so
// that the worker lives on.
func (q *Queue) run(ev Event) {
	log := ev.Logger
	if log == nil {
		log = q.log.With(ev.logAttrs()...)
	}
	ctx := q.ctx
	if q.opts.JobTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, q.opts.JobTimeout)
		defer cancel()
	}
	start := time.Now()
	result := JobOK
	defer func() {
		if p := recover(); p != nil {
			result = JobPanic
			log.Error("webhook handler panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		}
		took := time.Since(start)
		q.met.Job(ev.Type, result, took)
		if result == JobOK {
			log.Debug("webhook event handled", "took", took)
		}
	}()
	h := q.handler(ev.Type)
	if h == nil {
		log.Debug("no handler for webhook event; dropped")
		return
	}
	if err := h.Handle(ctx, ev); err != nil {
		result = JobError
		log.Error("webhook handler failed", "err", err, "took", time.Since(start))
	}
}
