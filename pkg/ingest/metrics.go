package ingest

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"adly/pkg/event"
	"adly/pkg/screen"
)

// Metrics are the HTTP side's collectors; the Redis side's are publish.PublisherMetrics.
type Metrics struct {
	requests     *prometheus.CounterVec
	seconds      *prometheus.HistogramVec
	guardRefused prometheus.Counter
	rateLimited  prometheus.Counter
	// filteredBy holds adly_api_filtered_events_total's counters, resolved once, by type and reason.
	filteredBy map[event.Type]map[screen.Reason]prometheus.Counter
}

// NewMetrics registers the API's collectors on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "adly_api_requests_total",
			Help: "HTTP requests answered, by route and status code.",
		}, []string{"route", "code"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "adly_api_request_seconds",
			Help:    "Time to answer an HTTP request, by route.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}, []string{"route"}),
		guardRefused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "adly_api_memory_guard_refused_total",
			Help: "Requests answered 503 without writing because Redis memory was above REDIS_MEMORY_GUARD of maxmemory.",
		}),
	}
	m.rateLimited = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "adly_api_rate_limited_total",
		Help: "Tracking requests answered 429 because their client was over RATE_LIMIT (nothing stored).",
	})
	filtered := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "adly_api_filtered_events_total",
		Help: "Events answered as usual but labelled general invalid traffic, by type and reason (impressions and clicks are stored with the reason and counted apart; hits are counted here only).",
	}, []string{"type", "reason"})
	m.filteredBy = map[event.Type]map[screen.Reason]prometheus.Counter{}
	for _, t := range []event.Type{event.Impression, event.Click, event.Hit} {
		m.filteredBy[t] = map[screen.Reason]prometheus.Counter{}
		for _, r := range screen.Reasons {
			m.filteredBy[t][r] = filtered.WithLabelValues(t.String(), string(r))
		}
	}
	reg.MustRegister(m.requests, m.seconds, m.guardRefused, m.rateLimited, filtered)
	return m
}

// filtered counts n events of type t answered while labelled invalid for reason ("" counts nothing).
func (m *Metrics) filtered(t event.Type, reason screen.Reason, n int) {
	if reason == "" || n == 0 {
		return
	}
	if c, ok := m.filteredBy[t][reason]; ok {
		c.Add(float64(n))
	}
}

// codes are the statuses the API answers with; their counters are resolved once per route so the hot path
// does no label lookups.
var codes = []int{
	http.StatusOK, http.StatusNoContent, http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound,
	http.StatusMethodNotAllowed, http.StatusRequestEntityTooLarge, http.StatusTooManyRequests, http.StatusInternalServerError,
	http.StatusServiceUnavailable,
}

// route is one endpoint's view of the metrics.
type route struct {
	name    string
	byCode  map[int]prometheus.Counter
	seconds prometheus.Observer
	m       *Metrics
}

func (m *Metrics) route(name string) *route {
	r := &route{name: name, byCode: make(map[int]prometheus.Counter, len(codes)), seconds: m.seconds.WithLabelValues(name), m: m}
	for _, c := range codes {
		r.byCode[c] = m.requests.WithLabelValues(name, strconv.Itoa(c))
	}
	return r
}

func (r *route) observe(code int, start time.Time) {
	c, ok := r.byCode[code]
	if !ok {
		c = r.m.requests.WithLabelValues(r.name, strconv.Itoa(code))
	}
	c.Inc()
	r.seconds.Observe(time.Since(start).Seconds())
}
