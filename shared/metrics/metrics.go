// Package metrics holds IGE MOJI's Prometheus collectors. Each process
// builds one Metrics on its own registry (no global state) and serves it
// at /metrics; server and worker fill the parts they own.
package metrics

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the collectors, registered on Registry.
type Metrics struct {
	Registry *prometheus.Registry

	HTTPRequests *prometheus.CounterVec   // route, method, code
	HTTPDuration *prometheus.HistogramVec // route, method

	TasksSubmitted prometheus.Counter
	TasksFinished  *prometheus.CounterVec   // outcome: done, failed, gave_up
	TaskDuration   prometheus.Histogram     // submission to the end, done tasks
	StageDuration  *prometheus.HistogramVec // stage
	Inference      *prometheus.HistogramVec // model

	WSConnections prometheus.Gauge
	WSDropped     prometheus.Counter
}

// New registers the collectors, with the Go runtime's and the process's.
func New() *Metrics {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f := func(c prometheus.Collector) { r.MustRegister(c) }
	// Latency buckets from 1 ms to 60 s: API calls at the low end, whole
	// tasks on large photos at the high end.
	buckets := prometheus.ExponentialBuckets(0.001, 2.5, 14)
	m := &Metrics{
		Registry: r,
		HTTPRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "igemoji_http_requests_total", Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		HTTPDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "igemoji_http_request_duration_seconds", Help: "HTTP request durations by route pattern and method.", Buckets: buckets,
		}, []string{"route", "method"}),
		TasksSubmitted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "igemoji_tasks_submitted_total", Help: "Tasks accepted by the API.",
		}),
		TasksFinished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "igemoji_tasks_finished_total", Help: "Tasks finished by workers, by outcome (done, failed, gave_up).",
		}, []string{"outcome"}),
		TaskDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "igemoji_task_duration_seconds", Help: "Time from submission to result, done tasks.", Buckets: buckets,
		}),
		StageDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "igemoji_task_stage_duration_seconds", Help: "Time spent in each pipeline stage.", Buckets: buckets,
		}, []string{"stage"}),
		Inference: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "igemoji_inference_duration_seconds", Help: "Model run time by model.", Buckets: prometheus.ExponentialBuckets(0.0002, 2, 16),
		}, []string{"model"}),
		WSConnections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "igemoji_websocket_connections", Help: "Open WebSocket connections.",
		}),
		WSDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "igemoji_websocket_dropped_total", Help: "WebSocket clients dropped for being too slow.",
		}),
	}
	f(m.HTTPRequests)
	f(m.HTTPDuration)
	f(m.TasksSubmitted)
	f(m.TasksFinished)
	f(m.TaskDuration)
	f(m.StageDuration)
	f(m.Inference)
	f(m.WSConnections)
	f(m.WSDropped)
	// Every outcome exists from the start at 0, so that "none finished
	// lately" is a 0 to compare, not an absent series (which no alert sees).
	for _, o := range []string{"done", "failed", "gave_up"} {
		m.TasksFinished.WithLabelValues(o)
	}
	return m
}

// Observe returns a function that records model run times, for
// vision.Config.Observe.
func (m *Metrics) Observe() func(model string, d time.Duration) {
	return func(model string, d time.Duration) { m.Inference.WithLabelValues(model).Observe(d.Seconds()) }
}

// Gauge registers a gauge read on each scrape from f, which is given a
// short deadline: a slow dependency must not stall the scrape.
func (m *Metrics) Gauge(name, help string, f func(ctx context.Context) (float64, error)) {
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		v, err := f(ctx)
		if err != nil {
			return -1 // visibly wrong rather than a plausible 0
		}
		return v
	}))
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}
