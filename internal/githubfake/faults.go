package githubfake

import (
	"math"
	"net/http"
	"strconv"
	"time"
)

// SecondaryRateLimitDocURL is the documentation_url GitHub sends with a
// secondary rate limit; go-github recognises the error by it.
const SecondaryRateLimitDocURL = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"

// fault answers one API call in place of its handler.
type fault struct {
	status     int
	retryAfter time.Duration // secondary rate limit when > 0
}

func (ft fault) answer(c *call) {
	if ft.retryAfter > 0 {
		secs := int(math.Ceil(ft.retryAfter.Seconds()))
		c.header.Set("Retry-After", strconv.Itoa(secs))
		c.failDoc(http.StatusForbidden,
			"You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "+
				"If you reach out to GitHub Support for help, please include the request ID.",
			SecondaryRateLimitDocURL)
		return
	}
	msg := http.StatusText(ft.status)
	if ft.status == http.StatusInternalServerError {
		msg = "Server Error"
	}
	c.fail(ft.status, msg)
}

// FailNext answers the next n API calls with status, a 5xx, whatever they
// ask. Faults queue up in the order they are added.
func (f *Fake) FailNext(n int, status int) {
	if status < 500 || status > 599 {
		f.t.Errorf("githubfake: FailNext(%d, %d): status must be 5xx", n, status)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := 0; i < n; i++ {
		f.faults = append(f.faults, fault{status: status})
	}
}

// SecondaryRateLimitNext answers the next n API calls with GitHub's
// secondary rate limit: 403, Retry-After (whole seconds, rounded up) and the
// message and documentation URL GitHub sends.
func (f *Fake) SecondaryRateLimitNext(n int, retryAfter time.Duration) {
	if retryAfter <= 0 {
		retryAfter = time.Second
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := 0; i < n; i++ {
		f.faults = append(f.faults, fault{status: http.StatusForbidden, retryAfter: retryAfter})
	}
}

// rateState is the primary rate limit, one bucket for the whole fake.
type rateState struct {
	limit     int
	remaining int
	reset     time.Time
}

// SetPrimaryRemaining sets how many calls are left in the current hour.
// With 0, every further call is answered 403 (or Options.RateLimitStatus)
// with X-RateLimit-Remaining: 0 until the window resets.
func (f *Fake) SetPrimaryRemaining(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rollRate()
	f.rate.remaining = max(0, min(n, f.rate.limit))
}

// RateLimit reports the primary rate limit: limit, remaining, reset.
func (f *Fake) RateLimit() (limit, remaining int, reset time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rollRate()
	return f.rate.limit, f.rate.remaining, f.rate.reset
}

func (f *Fake) rollRate() {
	if now := f.now(); !now.Before(f.rate.reset) {
		f.rate.remaining = f.rate.limit
		f.rate.reset = now.Add(time.Hour)
	}
}

func (f *Fake) rateExhausted() bool {
	f.rollRate()
	return f.rate.remaining <= 0
}

func (f *Fake) useRate() {
	f.rollRate()
	if f.rate.remaining > 0 {
		f.rate.remaining--
	}
}

func (f *Fake) rateHeaders(h http.Header) {
	f.rollRate()
	h.Set("X-RateLimit-Limit", strconv.Itoa(f.rate.limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(f.rate.remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(f.rate.reset.Unix(), 10))
	h.Set("X-RateLimit-Used", strconv.Itoa(f.rate.limit-f.rate.remaining))
	h.Set("X-RateLimit-Resource", "core")
}
