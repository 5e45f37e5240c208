package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kmend/kmend/internal/version"
	"github.com/kmend/kmend/internal/webhook"
)

// Metrics are kmend's Prometheus metrics, in a registry of their own:
//
//	kmend_webhook_deliveries_total{event,result}        counter
//	kmend_webhook_queue_depth                           gauge
//	kmend_webhook_job_duration_seconds{event,result}    histogram
//	kmend_webhook_handler_errors_total{event,kind}      counter (kind: error, panic)
//	kmend_github_api_calls_total{status}                counter (status: HTTP code or "error")
//	kmend_build_info{version,goversion}                 gauge, always 1
//
// plus the Go runtime and process collectors. The methods are safe for
// concurrent use; a nil *Metrics records nothing.
type Metrics struct {
	reg           *prometheus.Registry
	deliveries    *prometheus.CounterVec
	queueDepth    prometheus.Gauge
	jobDuration   *prometheus.HistogramVec
	handlerErrors *prometheus.CounterVec
	githubCalls   *prometheus.CounterVec
}

var _ webhook.Metrics = (*Metrics)(nil)

// NewMetrics creates the metrics and their registry.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kmend_webhook_deliveries_total",
			Help: "Webhook deliveries received, by event type and result.",
		}, []string{"event", "result"}),
		queueDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kmend_webhook_queue_depth",
			Help: "Webhook events waiting for a worker.",
		}),
		jobDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kmend_webhook_job_duration_seconds",
			Help:    "Time spent handling one webhook event, by event type and result.",
			Buckets: prometheus.ExponentialBuckets(0.1, 2.5, 10), // 0.1 s to about 6 min
		}, []string{"event", "result"}),
		handlerErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kmend_webhook_handler_errors_total",
			Help: "Webhook handlers that returned an error or panicked, by event type and kind.",
		}, []string{"event", "kind"}),
		githubCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kmend_github_api_calls_total",
			Help: "GitHub API calls, by HTTP status (\"error\" when no response came).",
		}, []string{"status"}),
	}
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "kmend_build_info",
		Help: "kmend's version; always 1.",
	}, []string{"version", "goversion"})
	build.WithLabelValues(version.Version, goVersion()).Set(1)
	m.reg.MustRegister(m.deliveries, m.queueDepth, m.jobDuration, m.handlerErrors, m.githubCalls, build,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry returns the registry, for packages that add metrics of their
// own.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Delivery counts one webhook delivery.
func (m *Metrics) Delivery(event, result string) {
	if m == nil {
		return
	}
	m.deliveries.WithLabelValues(event, result).Inc()
}

// QueueDepth sets the number of events waiting for a worker.
func (m *Metrics) QueueDepth(n int) {
	if m == nil {
		return
	}
	m.queueDepth.Set(float64(n))
}

// Job records one handled event; results other than webhook.JobOK also
// count as handler errors.
func (m *Metrics) Job(event, result string, took time.Duration) {
	if m == nil {
		return
	}
	m.jobDuration.WithLabelValues(event, result).Observe(took.Seconds())
	if result != webhook.JobOK {
		m.handlerErrors.WithLabelValues(event, result).Inc()
	}
}

// GitHubCall counts one GitHub API call by its HTTP status; 0 counts a call
// that got no response.
func (m *Metrics) GitHubCall(status int) {
	if m == nil {
		return
	}
	label := "error"
	if status > 0 {
		label = strconv.Itoa(status)
	}
	m.githubCalls.WithLabelValues(label).Inc()
}

// InstrumentTransport wraps rt (http.DefaultTransport when nil) so that
// every round trip is counted with GitHubCall. Give it to the GitHub
// clients' http.Client.
func (m *Metrics) InstrumentTransport(rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		rt = http.DefaultTransport
	}
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := rt.RoundTrip(r)
		if err != nil {
			m.GitHubCall(0)
		} else {
			m.GitHubCall(resp.StatusCode)
		}
		return resp, err
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
