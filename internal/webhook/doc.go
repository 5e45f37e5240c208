// Package webhook receives GitHub webhook deliveries and hands them to one
// thin handler per event type, off the request path.
//
// A [Receiver] (the http.Handler behind POST /webhook) does only what must
// happen while GitHub waits: it reads the body (at most [Options.MaxBody]),
// checks the X-Hub-Signature-256 HMAC against the raw bytes in constant
// time, decodes the payload with go-github, drops replayed deliveries by
// their X-GitHub-Delivery ID and puts the [Event] on a [Queue]. Anything
// slow — cloning, scanning, calling GitHub — runs later in the queue's
// workers, which call the [Handler] registered for the event type.
//
// Status codes, as GitHub sees them:
//
//	405  not a POST
//	400  unreadable or oversized body, missing or malformed X-GitHub-Event /
//	     X-GitHub-Delivery, a payload go-github cannot decode
//	401  missing or wrong X-Hub-Signature-256 (the sha1 header alone is not
//	     accepted); nothing else is looked at
//	200  ping, or a delivery already accepted (body "duplicate")
//	202  accepted and queued, or verified but no handler is registered for
//	     the event type (dropped)
//	503  the queue is full or shutting down (Retry-After is set; GitHub
//	     redelivers when asked to)
//
// A delivery ID is remembered only once its event is queued, so a delivery
// refused with 503 can be redelivered. The remembered set is bounded
// (default 10,000 IDs, the oldest forgotten first) and forgets IDs after a
// TTL (default 24 hours). It lives in memory: replicas and restarts do not
// share it, so handlers should still be idempotent.
//
// Every event carries a *slog.Logger with the attributes event, action,
// delivery, installation, repo and pr. Secrets, tokens and payload bodies
// are never logged.
//
// New refuses an empty secret ([ErrEmptySecret]): go-github's
// ValidatePayload skips the check when the secret is empty, and an unsigned
// delivery must never be accepted.
package webhook
