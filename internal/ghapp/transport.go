package ghapp

import (
	"bytes"
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// Defaults of a Transport.
const (
	DefaultMaxRetries = 4
	DefaultMaxWait    = 2 * time.Minute
	defaultCacheSize  = 512
	maxCachedBody     = 1 << 20
)

// Observer is told about every answer GitHub gives (after retries are
// decided, one call per HTTP exchange); status is 0 for a network error.
type Observer func(method string, status int)

// Transport is an http.RoundTripper that keeps GitHub's API manners; see
// the package documentation. The zero value is usable.
type Transport struct {
	// Base does the HTTP exchanges; http.DefaultTransport when nil.
	Base http.RoundTripper
	// MaxRetries bounds retries of one request (5xx, network errors,
	// secondary rate limits); DefaultMaxRetries when 0, none when < 0.
	MaxRetries int
	// MaxWait is the longest single wait for a rate limit; DefaultMaxWait
	// when 0.
	MaxWait time.Duration
	// Backoff is the first wait after a 5xx (doubled each time, with 50 %
	// jitter); 500 ms when 0.
	Backoff time.Duration
	// Sleep waits d or until ctx ends; tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock used for X-RateLimit-Reset; time.Now when nil.
	Now func() time.Time
	// Observe, when set, is told about every exchange.
	Observe Observer
	// NoCache turns off the ETag cache.
	NoCache bool

	calls atomic.Int64
	once  sync.Once
	cache *etagCache
}

// Calls is the number of HTTP exchanges made so far (304s included).
func (t *Transport) Calls() int64 { return t.calls.Load() }

type counterKey struct{}

// WithCallCounter returns a context whose GitHub calls are added to n, so
// a caller can count the calls one job makes.
func WithCallCounter(ctx context.Context, n *atomic.Int64) context.Context {
	return context.WithValue(ctx, counterKey{}, n)
}

func (t *Transport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}

func (t *Transport) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

func (t *Transport) sleep(ctx context.Context, d time.Duration) error {
	if t.Sleep != nil {
		return t.Sleep(ctx, d)
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.once.Do(func() {
		if !t.NoCache {
			t.cache = newETagCache(defaultCacheSize)
		}
	})
	ctx := req.Context()
	body, err := replayable(req)
	if err != nil {
		return nil, err
	}
	retries := t.MaxRetries
	if retries == 0 {
		retries = DefaultMaxRetries
	}
	maxWait := t.MaxWait
	if maxWait == 0 {
		maxWait = DefaultMaxWait
	}
	first := t.Backoff
	if first == 0 {
		first = 500 * time.Millisecond
	}
	backoff := wait.Backoff{Duration: first, Factor: 2, Jitter: 0.5, Steps: retries + 1, Cap: maxWait}

	key, cached := t.cacheLookup(req)
	for attempt := 0; ; attempt++ {
		try := req.Clone(ctx)
		if body != nil {
			try.Body = io.NopCloser(bytes.NewReader(body))
			try.ContentLength = int64(len(body))
		}
		if cached != nil && try.Header.Get("If-None-Match") == "" {
			try.Header.Set("If-None-Match", cached.etag)
		}
		resp, err := t.base().RoundTrip(try)
		t.count(ctx, req.Method, resp)
		wait, retry := t.decide(resp, err, &backoff, maxWait)
		if !retry || attempt >= retries || ctx.Err() != nil {
			if err != nil {
				return nil, err
			}
			return t.fromCache(req, key, cached, resp)
		}
		if resp != nil {
			drain(resp)
		}
		if err := t.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// decide says whether to retry an exchange and how long to wait first.
func (t *Transport) decide(resp *http.Response, err error, b *wait.Backoff, maxWait time.Duration) (time.Duration, bool) {
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return 0, false
		}
		return b.Step(), true
	}
	switch {
	case resp.StatusCode >= 500:
		return b.Step(), true
	case resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusTooManyRequests:
		if s := resp.Header.Get("Retry-After"); s != "" {
			secs, perr := strconv.Atoi(s)
			if perr != nil || secs < 0 {
				return b.Step(), true
			}
			d := time.Duration(secs) * time.Second
			if d > maxWait {
				return 0, false
			}
			return d, true
		}
		if resp.Header.Get("X-RateLimit-Remaining") == "0" {
			reset, perr := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64)
			if perr != nil {
				return 0, false
			}
			d := time.Unix(reset, 0).Sub(t.now()) + time.Second
			if d > maxWait {
				return 0, false
			}
			if d < 0 {
				d = 0
			}
			return d, true
		}
	}
	return 0, false
}

func (t *Transport) count(ctx context.Context, method string, resp *http.Response) {
	t.calls.Add(1)
	if n, ok := ctx.Value(counterKey{}).(*atomic.Int64); ok {
		n.Add(1)
	}
	if t.Observe != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Observe(method, status)
	}
}

// replayable reads a request's body once so that retries can send it
// again.
func replayable(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	if req.GetBody != nil {
		rc, err := req.GetBody()
		if err != nil {
			return nil, fmt.Errorf("%s %s: read body: %w", req.Method, req.URL.Path, err)
		}
		defer rc.Close()
		return io.ReadAll(rc)
	}
	defer req.Body.Close()
	b, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: read body: %w", req.Method, req.URL.Path, err)
	}
	return b, nil
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// The ETag cache.

type cachedAnswer struct {
	etag   string
	status int
	header http.Header
	body   []byte
}

func (t *Transport) cacheLookup(req *http.Request) (string, *cachedAnswer) {
	if t.cache == nil || req.Method != http.MethodGet || req.Header.Get("Range") != "" {
		return "", nil
	}
	// The key includes the credentials, so that one installation never
	// sees an answer given to another.
	h := sha256.New()
	h.Write([]byte(req.URL.String()))
	h.Write([]byte{0})
	h.Write([]byte(req.Header.Get("Authorization")))
	h.Write([]byte{0})
	h.Write([]byte(req.Header.Get("Accept")))
	key := hex.EncodeToString(h.Sum(nil))
	return key, t.cache.get(key)
}

func (t *Transport) fromCache(req *http.Request, key string, cached *cachedAnswer, resp *http.Response) (*http.Response, error) {
	if key == "" {
		return resp, nil
	}
	if resp.StatusCode == http.StatusNotModified && cached != nil {
		drain(resp)
		out := &http.Response{
			Status:        fmt.Sprintf("%d %s", cached.status, http.StatusText(cached.status)),
			StatusCode:    cached.status,
			Proto:         resp.Proto,
			ProtoMajor:    resp.ProtoMajor,
			ProtoMinor:    resp.ProtoMinor,
			Header:        cached.header.Clone(),
			Body:          io.NopCloser(bytes.NewReader(cached.body)),
			ContentLength: int64(len(cached.body)),
			Request:       req,
		}
		// The rate-limit headers of the 304 are the current ones.
		for _, h := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-RateLimit-Used", "X-RateLimit-Resource"} {
			if v := resp.Header.Get(h); v != "" {
				out.Header.Set(h, v)
			}
		}
		return out, nil
	}
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != http.StatusOK || etag == "" || resp.ContentLength > maxCachedBody {
		return resp, nil
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxCachedBody+1))
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("GET %s: read answer: %w", req.URL.Path, err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	if len(b) <= maxCachedBody {
		t.cache.put(key, &cachedAnswer{etag: etag, status: resp.StatusCode, header: resp.Header.Clone(), body: b})
	}
	return resp, nil
}

// etagCache is a small LRU of GET answers.
type etagCache struct {
	mu    sync.Mutex
	size  int
	order *list.List
	items map[string]*list.Element
}

type cacheEntry struct {
	key string
	val *cachedAnswer
}

func newETagCache(size int) *etagCache {
	return &etagCache{size: size, order: list.New(), items: map[string]*list.Element{}}
}

func (c *etagCache) get(key string) *cachedAnswer {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		c.order.MoveToFront(e)
		return e.Value.(*cacheEntry).val
	}
	return nil
}

func (c *etagCache) put(key string, v *cachedAnswer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		e.Value.(*cacheEntry).val = v
		c.order.MoveToFront(e)
		return
	}
	c.items[key] = c.order.PushFront(&cacheEntry{key: key, val: v})
	for c.order.Len() > c.size {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(*cacheEntry).key)
	}
}
