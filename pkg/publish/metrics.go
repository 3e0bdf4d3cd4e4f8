package publish

import (
	"github.com/prometheus/client_golang/prometheus"

	"adly/pkg/event"
)

// PublisherMetrics are the Publisher's Prometheus collectors.
type PublisherMetrics struct {
	events       map[event.Type]prometheus.Counter
	duplicates   prometheus.Counter
	errors       *prometheus.CounterVec
	lostReplies  *prometheus.CounterVec
	wait         *prometheus.CounterVec
	writeSeconds prometheus.Histogram
	flushEvents  prometheus.Histogram
}

// NewPublisherMetrics registers the Publisher's collectors on reg.
func NewPublisherMetrics(reg prometheus.Registerer) *PublisherMetrics {
	eventsVec := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "adly_api_events_total",
		Help: "Events accepted, by type: stored in Redis, or found stored already by their event_id (adly_api_duplicate_events_total).",
	}, []string{"type"})
	m := &PublisherMetrics{
		events: map[event.Type]prometheus.Counter{},
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "adly_api_duplicate_events_total",
			Help: "Events not stored again because their event_id was stored within EVENT_ID_TTL; answered with the first write's stream ID.",
		}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "adly_api_redis_errors_total",
			Help: "Failed Redis writes, by reason (timeout, deadline, unconfirmed, lost_reply, unavailable, oom, rejected, queue_full, new_paths, not_replicated).",
		}, []string{"reason"}),
		lostReplies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "adly_api_redis_lost_replies_total",
			Help: "Writes whose reply was lost, by what the receipt check found (stored, not_stored, unknown).",
		}, []string{"outcome"}),
		wait: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "adly_api_redis_wait_total",
			Help: "Script calls followed by WAIT (REDIS_WAIT_REPLICAS > 0), by outcome: confirmed (enough replicas acknowledged), not_confirmed (fewer within REDIS_WAIT_TIMEOUT), unknown (WAIT failed or its reply was lost).",
		}, []string{"outcome"}),
		writeSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "adly_api_redis_write_seconds",
			Help:    "Latency of one Redis round trip that writes a flush of events.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}),
		flushEvents: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "adly_api_redis_flush_events",
			Help:    "Events written per Redis round trip.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 8),
		}),
	}
	for _, t := range []event.Type{event.Impression, event.Click, event.Hit} {
		m.events[t] = eventsVec.WithLabelValues(t.String())
	}
	for _, r := range []string{"timeout", "deadline", "unconfirmed", "lost_reply", "unavailable", "oom", "rejected", "queue_full", "new_paths", "not_replicated"} {
		m.errors.WithLabelValues(r)
	}
	for _, o := range []string{"stored", "not_stored", "unknown"} {
		m.lostReplies.WithLabelValues(o)
	}
	for _, o := range []string{"confirmed", "not_confirmed", "unknown"} {
		m.wait.WithLabelValues(o)
	}
	reg.MustRegister(eventsVec, m.duplicates, m.errors, m.lostReplies, m.wait, m.writeSeconds, m.flushEvents)
	return m
}
