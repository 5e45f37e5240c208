// Package server is the HTTP wiring of `kmend serve`: one mux, one
// http.Server with timeouts, and a graceful shutdown.
//
//	POST /webhook  the GitHub webhook receiver (internal/webhook)
//	GET  /healthz  200 while the process runs
//	GET  /readyz   200 when the readiness check passes and the webhook
//	               queue still accepts events, 503 with the reason otherwise
//	GET  /metrics  Prometheus metrics from kmend's own registry
//	GET  /         a short plain-text status
//
// [Metrics] holds kmend's Prometheus metrics in a registry of its own (never
// the global one): webhook deliveries by event and result, the queue depth,
// the job duration histogram, handler errors and panics, and GitHub API
// calls by status. It implements webhook.Metrics, and
// [Metrics.InstrumentTransport] counts the calls of any http.Client.
//
// [Run] serves until its context ends, then stops accepting connections,
// waits for the requests in flight, drains the webhook queue and returns.
package server
