package webhook

import "time"

// Metrics receives the counts the webhook path produces. server.Metrics
// implements it with Prometheus; nil means no metrics.
type Metrics interface {
	// Delivery counts one HTTP delivery by event type and result (one of
	// the Result constants). event is "unverified" until the signature
	// has been checked, so that unauthenticated callers cannot create
	// label values.
	Delivery(event, result string)
	// QueueDepth reports how many events wait for a worker.
	QueueDepth(n int)
	// Job reports one handled event: result is JobOK, JobError or
	// JobPanic.
	Job(event, result string, took time.Duration)
}

// Delivery results.
const (
	ResultAccepted     = "accepted"      // queued, 202
	ResultIgnored      = "ignored"       // no handler for the event type, 202
	ResultPing         = "ping"          // 200
	ResultDuplicate    = "duplicate"     // delivery ID already queued, 200
	ResultUnauthorized = "unauthorized"  // bad or missing signature, 401
	ResultBadRequest   = "bad_request"   // 400
	ResultMethod       = "bad_method"    // 405
	ResultQueueFull    = "queue_full"    // 503
	ResultShutdown     = "shutting_down" // 503
)

// Job results.
const (
	JobOK    = "ok"
	JobError = "error"
	JobPanic = "panic"
)

// unverified is the event label used before the signature is checked.
const unverified = "unverified"

type nopMetrics struct{}

func (nopMetrics) Delivery(string, string)           {}
func (nopMetrics) QueueDepth(int)                    {}
func (nopMetrics) Job(string, string, time.Duration) {}
