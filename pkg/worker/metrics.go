package worker

import "github.com/prometheus/client_golang/prometheus"

// Metrics are a worker's collectors.
type Metrics struct {
	batches       prometheus.Counter
	counted       prometheus.Counter
	filtered      prometheus.Counter
	duplicates    prometheus.Counter
	reclaimed     prometheus.Counter
	deadLettered  *prometheus.CounterVec
	deleted       prometheus.Counter
	errors        *prometheus.CounterVec
	trimmed       prometheus.Counter
	ledgerPruned  prometheus.Counter
	consumersGone prometheus.Counter
	batchSeconds  prometheus.Histogram
	upsertSeconds prometheus.Histogram
	lag           prometheus.Gauge
	pending       prometheus.Gauge
	oldestPending prometheus.Gauge

	// pressureTrimmed counts the entries trimmed while Redis was above the memory guard.
	pressureTrimmed prometheus.Counter
}

// NewMetrics registers the collectors, labelled with the stream and group.
func NewMetrics(reg prometheus.Registerer, stream, group string) *Metrics {
	labels := prometheus.Labels{"stream": stream, "group": group}
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: labels})
	}
	gauge := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: labels})
	}
	buckets := []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	m := &Metrics{
		batches:    counter("adly_worker_batches_total", "Batches committed."),
		counted:    counter("adly_worker_events_counted_total", "Entries added to the daily counts (valid and filtered traffic)."),
		filtered:   counter("adly_worker_events_filtered_total", "Entries of filtered traffic (with ivt) added to the filtered daily counts; part of adly_worker_events_counted_total."),
		duplicates: counter("adly_worker_duplicates_skipped_total", "Entries delivered again but already counted (the ledger vouched for them)."),
		reclaimed:  counter("adly_worker_reclaimed_total", "Entries taken over from idle consumers with XAUTOCLAIM."),
		deadLettered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "adly_worker_dead_lettered_total", Help: "Entries moved to the dead-letter stream, by reason.", ConstLabels: labels,
		}, []string{"reason"}),
		deleted: counter("adly_worker_deleted_entries_total", "Pending entries whose data Redis no longer had (trimmed or deleted)."),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "adly_worker_errors_total", Help: "Failed operations, by operation; the work is retried.", ConstLabels: labels,
		}, []string{"op"}),
		trimmed:       counter("adly_worker_trimmed_entries_total", "Entries trimmed from the stream behind consumption."),
		ledgerPruned:  counter("adly_worker_ledger_pruned_total", "Ledger rows deleted by pruning."),
		consumersGone: counter("adly_worker_consumers_deleted_total", "Dead consumers removed from the group."),
		batchSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "adly_worker_batch_seconds", Help: "Time to handle one batch, read to acknowledgement.", ConstLabels: labels, Buckets: buckets,
		}),
		upsertSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "adly_worker_upsert_seconds", Help: "Time of the MariaDB transaction (ledger check, upsert, ledger rows).", ConstLabels: labels, Buckets: buckets,
		}),
		lag:           gauge("adly_worker_stream_lag", "Entries in the stream not yet delivered to the group."),
		pending:       gauge("adly_worker_pending", "Entries delivered to the group and not yet acknowledged."),
		oldestPending: gauge("adly_worker_oldest_pending_seconds", "Idle time of the oldest pending entry."),
	}
	m.pressureTrimmed = counter("adly_worker_pressure_trimmed_entries_total",
		"Entries trimmed while Redis memory was above REDIS_MEMORY_GUARD of maxmemory, when trimming keeps no consumed entry for replay.")
	for _, r := range []string{"poison", "max_deliveries"} {
		m.deadLettered.WithLabelValues(r)
	}
	for _, op := range []string{"read", "commit", "ack", "claim", "dead_letter", "trim", "prune", "observe"} {
		m.errors.WithLabelValues(op)
	}
	reg.MustRegister(m.batches, m.counted, m.filtered, m.duplicates, m.reclaimed, m.deadLettered, m.deleted, m.errors,
		m.trimmed, m.pressureTrimmed, m.ledgerPruned, m.consumersGone, m.batchSeconds, m.upsertSeconds, m.lag, m.pending, m.oldestPending)
	return m
}
