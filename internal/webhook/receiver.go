package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
)

// DefaultMaxBody is GitHub's limit on a webhook payload: 25 MiB.
const DefaultMaxBody = 25 << 20

// DefaultRetryAfter is the Retry-After sent with a 503.
const DefaultRetryAfter = 30 * time.Second

// Headers GitHub sends with every delivery.
const (
	HeaderSignature256 = "X-Hub-Signature-256"
	HeaderEvent        = "X-GitHub-Event"
	HeaderDelivery     = "X-GitHub-Delivery"
)

// Errors.
var (
	// ErrEmptySecret is returned by New when Options.Secret is empty. An
	// empty secret would make every signature check pass.
	ErrEmptySecret = errors.New("webhook secret is empty: refusing to accept unsigned deliveries")
	// ErrNoQueue is returned by New when Options.Queue is nil.
	ErrNoQueue = errors.New("webhook: no queue to dispatch events to")
	// ErrNoSignature means the X-Hub-Signature-256 header is missing.
	ErrNoSignature = errors.New("missing " + HeaderSignature256 + " header")
	// ErrBadSignature means the signature is malformed or does not match.
	ErrBadSignature = errors.New("signature does not match")
)

// Dispatcher takes verified events. *Queue is the one kmend uses.
type Dispatcher interface {
	// Handles reports whether eventType has a handler; events without
	// one are answered 202 and dropped.
	Handles(eventType string) bool
	// Dispatch queues ev. It must not block: it returns ErrQueueFull or
	// ErrShuttingDown when it cannot take ev (the caller answers 503).
	Dispatch(ev Event) error
}

// Options configure a Receiver.
type Options struct {
	// Secret is the webhook secret the GitHub App was registered with.
	// Required.
	Secret []byte
	// Queue takes the verified events. Required.
	Queue Dispatcher
	// Logger is the parent of every event's logger; slog's default when
	// nil.
	Logger *slog.Logger
	// MaxBody is the largest body read, DefaultMaxBody when 0.
	MaxBody int64
	// Metrics counts deliveries; none when nil.
	Metrics Metrics
	// DedupeSize is how many delivery IDs are remembered,
	// DefaultDedupeSize when 0.
	DedupeSize int
	// DedupeTTL is how long a delivery ID is remembered, DefaultDedupeTTL
	// when 0.
	DedupeTTL time.Duration
	// RetryAfter is sent with 503 responses, DefaultRetryAfter when 0.
	RetryAfter time.Duration
	// Now returns the current time; time.Now when nil (tests set it).
	Now func() time.Time
}

// Receiver is the http.Handler of POST /webhook.
type Receiver struct {
	secret     []byte
	queue      Dispatcher
	log        *slog.Logger
	maxBody    int64
	met        Metrics
	seen       *seenSet
	retryAfter string
	now        func() time.Time
}

// New checks o and returns a Receiver. It fails with ErrEmptySecret when
// o.Secret is empty and with ErrNoQueue when o.Queue is nil.
func New(o Options) (*Receiver, error) {
	if len(o.Secret) == 0 {
		return nil, ErrEmptySecret
	}
	if o.Queue == nil {
		return nil, ErrNoQueue
	}
	r := &Receiver{
		secret:  append([]byte(nil), o.Secret...),
		queue:   o.Queue,
		log:     o.Logger,
		maxBody: o.MaxBody,
		met:     o.Metrics,
		now:     o.Now,
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	if r.maxBody <= 0 {
		r.maxBody = DefaultMaxBody
	}
	if r.met == nil {
		r.met = nopMetrics{}
	}
	if r.now == nil {
		r.now = time.Now
	}
	size, ttl := o.DedupeSize, o.DedupeTTL
	if size <= 0 {
		size = DefaultDedupeSize
	}
	if ttl <= 0 {
		ttl = DefaultDedupeTTL
	}
	r.seen = newSeenSet(size, ttl)
	ra := o.RetryAfter
	if ra <= 0 {
		ra = DefaultRetryAfter
	}
	r.retryAfter = strconv.Itoa(int((ra + time.Second - 1) / time.Second))
	return r, nil
}

// NewHandler is New returning the Receiver as an http.Handler.
func NewHandler(o Options) (http.Handler, error) {
	r, err := New(o)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// ServeHTTP answers one delivery; see the package documentation for the
// status codes.
func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		rc.reply(w, http.StatusMethodNotAllowed, unverified, ResultMethod, "method not allowed")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, rc.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		msg := "cannot read body"
		if errors.As(err, &tooBig) {
			msg = fmt.Sprintf("body larger than %d bytes", rc.maxBody)
		}
		rc.log.Warn("webhook delivery rejected", "reason", msg, "delivery", headerForLog(r, HeaderDelivery))
		rc.reply(w, http.StatusBadRequest, unverified, ResultBadRequest, msg)
		return
	}
	if err := VerifySignature(rc.secret, body, r.Header.Get(HeaderSignature256)); err != nil {
		rc.log.Warn("webhook delivery rejected", "reason", err.Error(),
			"delivery", headerForLog(r, HeaderDelivery), "remote", r.RemoteAddr)
		rc.reply(w, http.StatusUnauthorized, unverified, ResultUnauthorized, "bad signature")
		return
	}

	// The body is GitHub's from here on.
	eventType, delivery, err := eventHeaders(r.Header)
	if err != nil {
		rc.log.Warn("webhook delivery rejected", "reason", err.Error())
		rc.reply(w, http.StatusBadRequest, unverified, ResultBadRequest, err.Error())
		return
	}
	log := rc.log.With("event", eventType, "delivery", delivery)
	if eventType == "ping" {
		log.Info("webhook ping")
		rc.reply(w, http.StatusOK, eventType, ResultPing, "pong")
		return
	}
	if !rc.queue.Handles(eventType) {
		log.Debug("webhook event has no handler; dropped")
		rc.reply(w, http.StatusAccepted, eventType, ResultIgnored, "ignored")
		return
	}
	payload, err := jsonPayload(r.Header.Get("Content-Type"), body)
	if err != nil {
		log.Warn("webhook delivery rejected", "reason", err.Error())
		rc.reply(w, http.StatusBadRequest, eventType, ResultBadRequest, err.Error())
		return
	}
	ev := Event{Type: eventType, DeliveryID: delivery, Received: rc.now()}
	if err := readMeta(payload, &ev); err != nil {
		log.Warn("webhook delivery rejected", "reason", "payload is not a JSON object")
		rc.reply(w, http.StatusBadRequest, eventType, ResultBadRequest, "payload is not a JSON object")
		return
	}
	ev.Payload, err = github.ParseWebHook(eventType, payload)
	if err != nil {
		// go-github's errors quote no payload bytes; the event type is
		// already known to be one kmend handles.
		log.Warn("webhook delivery rejected", "reason", "cannot decode payload", "err", err)
		rc.reply(w, http.StatusBadRequest, eventType, ResultBadRequest, "cannot decode payload")
		return
	}
	ev.Logger = rc.log.With(ev.logAttrs()...)

	dup, err := rc.seen.claim(delivery, ev.Received, func() error { return rc.queue.Dispatch(ev) })
	switch {
	case dup:
		ev.Logger.Info("webhook delivery already accepted; not queued again")
		rc.reply(w, http.StatusOK, eventType, ResultDuplicate, "duplicate")
	case errors.Is(err, ErrQueueFull):
		ev.Logger.Warn("webhook queue full; delivery refused", "retry_after", rc.retryAfter)
		w.Header().Set("Retry-After", rc.retryAfter)
		rc.reply(w, http.StatusServiceUnavailable, eventType, ResultQueueFull, "queue full")
	case err != nil:
		ev.Logger.Warn("webhook queue not accepting; delivery refused", "err", err)
		w.Header().Set("Retry-After", rc.retryAfter)
		rc.reply(w, http.StatusServiceUnavailable, eventType, ResultShutdown, "shutting down")
	default:
		ev.Logger.Info("webhook event queued")
		rc.reply(w, http.StatusAccepted, eventType, ResultAccepted, "accepted")
	}
}

func (rc *Receiver) reply(w http.ResponseWriter, status int, event, result, msg string) {
	rc.met.Delivery(event, result)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	io.WriteString(w, msg+"\n")
}

// VerifySignature checks header, the value of X-Hub-Signature-256
// ("sha256=" and the hex HMAC-SHA256 of body keyed with secret), in
// constant time. It returns ErrNoSignature when header is empty and
// ErrBadSignature when it is malformed or does not match. An empty secret
// never verifies.
func VerifySignature(secret, body []byte, header string) error {
	if len(secret) == 0 {
		return ErrEmptySecret
	}
	if header == "" {
		return ErrNoSignature
	}
	hexSum, ok := strings.CutPrefix(header, "sha256=")
	if !ok || len(hexSum) != 2*sha256.Size {
		return ErrBadSignature
	}
	got, err := hex.DecodeString(hexSum)
	if err != nil {
		return ErrBadSignature
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return ErrBadSignature
	}
	return nil
}

// Sign returns the X-Hub-Signature-256 value GitHub sends for body.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// eventHeaders returns the event type and delivery ID, checked: GitHub's
// event names are lower-case words joined by "_", delivery IDs are GUIDs.
func eventHeaders(h http.Header) (eventType, delivery string, err error) {
	eventType = h.Get(HeaderEvent)
	delivery = h.Get(HeaderDelivery)
	switch {
	case eventType == "":
		return "", "", fmt.Errorf("missing %s header", HeaderEvent)
	case !validToken(eventType, false):
		return "", "", fmt.Errorf("malformed %s header", HeaderEvent)
	case delivery == "":
		return "", "", fmt.Errorf("missing %s header", HeaderDelivery)
	case !validToken(delivery, true):
		return "", "", fmt.Errorf("malformed %s header", HeaderDelivery)
	}
	return eventType, delivery, nil
}

// validToken reports whether s is 1 to 100 characters of [a-z_] (event
// names) or [A-Za-z0-9-] (delivery IDs).
func validToken(s string, delivery bool) bool {
	if len(s) == 0 || len(s) > 100 {
		return false
	}
	for _, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c == '_':
		case delivery && (c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// jsonPayload returns the JSON document of a delivery: the body itself, or
// its "payload" field when the hook sends form-encoded bodies.
func jsonPayload(contentType string, body []byte) ([]byte, error) {
	mt := "application/json"
	if contentType != "" {
		var err error
		if mt, _, err = mime.ParseMediaType(contentType); err != nil {
			return nil, fmt.Errorf("malformed Content-Type")
		}
	}
	switch mt {
	case "application/json":
		return body, nil
	case "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fmt.Errorf("malformed form body")
		}
		return []byte(form.Get("payload")), nil
	default:
		return nil, fmt.Errorf("unsupported Content-Type %q", mt)
	}
}

// headerForLog returns an unauthenticated header value fit for a log line:
// a delivery ID or nothing.
func headerForLog(r *http.Request, name string) string {
	v := r.Header.Get(name)
	if !validToken(v, true) {
		return ""
	}
	return v
}
