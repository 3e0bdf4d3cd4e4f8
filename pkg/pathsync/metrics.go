package pathsync

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the syncer's collectors.
type Metrics struct {
	paths       prometheus.Counter
	hits        prometheus.Counter
	errors      prometheus.Counter
	parkedKeys  prometheus.Counter
	seconds     prometheus.Histogram
	lastSuccess prometheus.Gauge
}

// NewMetrics registers the collectors on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		paths:  prometheus.NewCounter(prometheus.CounterOpts{Name: "adly_syncer_paths_synced_total", Help: "Path counters added to path_counters (one per path per chunk)."}),
		hits:   prometheus.NewCounter(prometheus.CounterOpts{Name: "adly_syncer_hits_moved_total", Help: "Hits moved from Redis into path_counters."}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{Name: "adly_syncer_errors_total", Help: "Syncs that failed (Redis or MariaDB); the next one finishes their work."}),
		parkedKeys: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "adly_syncer_parked_keys_total", Help: "Hit keys that could not be synced and were parked under analytics:parked:.",
		}),
		seconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "adly_syncer_sync_seconds", Help: "Duration of a successful sync.", Buckets: prometheus.ExponentialBuckets(0.01, 3, 10),
		}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{Name: "adly_syncer_last_success_timestamp_seconds", Help: "Unix time of the last successful sync."}),
	}
	reg.MustRegister(m.paths, m.hits, m.errors, m.parkedKeys, m.seconds, m.lastSuccess)
	return m
}
