// Package ghapp talks to GitHub as kmend's GitHub App: app-level clients
// (JWT) and installation clients (installation tokens through
// ghinstallation), behind a transport that keeps GitHub's API manners.
//
// The transport ([Transport]) is where those manners live, so every call
// gets them whoever makes it:
//
//   - 5xx answers and network errors are retried with exponential backoff
//     and jitter, a bounded number of times; request bodies are replayed;
//   - secondary rate limits (403/429 with Retry-After) wait as long as
//     GitHub asks, up to a bound, then retry;
//   - an exhausted primary rate limit (X-RateLimit-Remaining: 0) waits
//     until X-RateLimit-Reset when that is near, else the answer is
//     returned so the caller sees go-github's RateLimitError;
//   - GET answers with an ETag are kept (a bounded cache keyed by URL and
//     credentials) and asked again with If-None-Match: a 304 costs no rate
//     limit on GitHub and is served from the cache;
//   - every call is counted, globally and per context ([WithCallCounter]),
//     so the bot can report and bound the calls it makes for one pull
//     request.
//
// Nothing here decides what to do on GitHub; the pull-request logic lives
// in package publish behind interfaces that carry no go-github types.
package ghapp
