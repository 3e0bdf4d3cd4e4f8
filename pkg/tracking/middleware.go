// Package tracking owns the path-hit middleware any Go service can wrap its mux with: each successful GET
// (status 200) counts one hit on its route pattern (Go 1.22+ Request.Pattern, e.g. "/checking/{slug}") or,
// when there is none or the option says so, on its URL path — the path-hits design's option A falling back to
// option B — in Redis under analytics:hit:<path>, normalised exactly as the API's /track/hit does.
//
// It fails open and never waits for Redis: a request only puts its path in a bounded queue, and a background
// flusher writes queued hits in one pipelined round trip bounded by a timeout. Redis down or slow never fails
// or delays the wrapped request; hits that cannot be written are dropped, counted in a metric and logged at
// most once per interval. It never touches MariaDB.
package tracking

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"adly/pkg/event"
	"adly/pkg/hits"
	"adly/pkg/logging"
	"adly/pkg/publish"
)

// PathSource chooses what a hit is counted on.
type PathSource int

const (
	// PatternThenPath counts on the route pattern when the mux matched one, else on the URL path (default).
	PatternThenPath PathSource = iota
	// URLPath always counts on the URL path.
	URLPath
)

// Options tune the middleware.
type Options struct {
	Source PathSource
	// Exclude lists path prefixes that are never counted (admin pages, health checks).
	Exclude []string
	// Timeout bounds one Redis write of queued hits. Default 20ms.
	Timeout time.Duration
	// QueueSize bounds the hits waiting to be written; beyond it hits are dropped. Default 10000.
	QueueSize int
	// LogEvery is the least time between two logged Redis errors. Default 1m.
	LogEvery time.Duration
	// Guard, when set, drops queued hits instead of writing them while it refuses (publish.MemoryGuard: Redis
	// is nearly full, so the memory left goes to the components that free it).
	Guard Guard
}

// Guard says whether writes must be refused now; asked once per flush, it must not wait for Redis.
type Guard interface {
	Refusing() bool
}

var _ Guard = (*publish.MemoryGuard)(nil)

// Counters is what the middleware uses of the hit counters in Redis (*hits.HitCounters): one pipelined write
// of the queued hits.
type Counters interface {
	Incr(ctx context.Context, counts map[string]int64) error
}

var _ Counters = (*hits.HitCounters)(nil)

// Middleware counts path hits.
type Middleware struct {
	hits    Counters
	log     *zap.Logger
	opts    Options
	queue   chan string
	metrics metrics
	errLog  *logging.Every
}

type metrics struct {
	queued      prometheus.Counter
	written     prometheus.Counter
	dropped     *prometheus.CounterVec
	flushSecond prometheus.Histogram
}

// New builds the middleware; call Run to write the hits.
func New(hits Counters, log *zap.Logger, reg prometheus.Registerer, opts Options) *Middleware {
	if opts.Timeout <= 0 {
		opts.Timeout = 20 * time.Millisecond
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 10000
	}
	if opts.LogEvery <= 0 {
		opts.LogEvery = time.Minute
	}
	m := &Middleware{hits: hits, log: log, opts: opts, queue: make(chan string, opts.QueueSize), errLog: logging.NewEvery(opts.LogEvery)}
	m.metrics = metrics{
		queued:  prometheus.NewCounter(prometheus.CounterOpts{Name: "adly_tracking_hits_queued_total", Help: "Hits counted by the middleware and queued for Redis."}),
		written: prometheus.NewCounter(prometheus.CounterOpts{Name: "adly_tracking_hits_written_total", Help: "Hits written to Redis."}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "adly_tracking_hits_dropped_total", Help: "Hits not written, by reason (queue_full, redis_error, invalid_path, memory_guard).",
		}, []string{"reason"}),
		flushSecond: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "adly_tracking_flush_seconds", Help: "Time of one Redis write of queued hits.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05},
		}),
	}
	for _, r := range []string{"queue_full", "redis_error", "invalid_path", "memory_guard"} {
		m.metrics.dropped.WithLabelValues(r)
	}
	reg.MustRegister(m.metrics.queued, m.metrics.written, m.metrics.dropped, m.metrics.flushSecond)
	return m
}

// Wrap counts the successful GETs that next serves.
func (m *Middleware) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || m.excluded(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status != 0 && sw.status != http.StatusOK {
			return
		}
		path, err := event.NormalizePath(m.pathOf(r))
		if err != nil {
			m.metrics.dropped.WithLabelValues("invalid_path").Inc()
			return
		}
		select {
		case m.queue <- path:
			m.metrics.queued.Inc()
		default:
			m.metrics.dropped.WithLabelValues("queue_full").Inc()
		}
	})
}

func (m *Middleware) excluded(path string) bool {
	for _, p := range m.opts.Exclude {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// pathOf is the route pattern without its method and host ("GET example.com/a/{id}" -> "/a/{id}"), or the
// URL path.
func (m *Middleware) pathOf(r *http.Request) string {
	if m.opts.Source == PatternThenPath && r.Pattern != "" {
		if i := strings.IndexByte(r.Pattern, '/'); i >= 0 {
			return r.Pattern[i:]
		}
	}
	return r.URL.Path
}

// Run writes queued hits until ctx ends, then writes what is still queued (within Timeout) and returns.
func (m *Middleware) Run(ctx context.Context) error {
	counts := map[string]int64{}
	for {
		select {
		case p := <-m.queue:
			counts[p]++
		case <-ctx.Done():
			m.drain(counts)
			m.flush(counts)
			return nil
		}
		m.drain(counts)
		m.flush(counts)
		clear(counts)
	}
}

// drain takes whatever else is queued, up to a round trip's worth.
func (m *Middleware) drain(counts map[string]int64) {
	for n := 0; n < 5000; n++ {
		select {
		case p := <-m.queue:
			counts[p]++
		default:
			return
		}
	}
}

func (m *Middleware) flush(counts map[string]int64) {
	if len(counts) == 0 {
		return
	}
	var total int64
	for _, n := range counts {
		total += n
	}
	if m.opts.Guard != nil && m.opts.Guard.Refusing() {
		m.metrics.dropped.WithLabelValues("memory_guard").Add(float64(total))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), m.opts.Timeout)
	defer cancel()
	start := time.Now()
	err := m.hits.Incr(ctx, counts)
	m.metrics.flushSecond.Observe(time.Since(start).Seconds())
	if err != nil {
		m.metrics.dropped.WithLabelValues("redis_error").Add(float64(total))
		if m.errLog.Allow() {
			m.log.Error("path hits not written to Redis (failing open; counted in adly_tracking_hits_dropped_total)", zap.Int64("hits", total), zap.Error(err))
		}
		return
	}
	m.metrics.written.Add(float64(total))
}

// statusWriter remembers the status the handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer (Flush, deadlines).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
