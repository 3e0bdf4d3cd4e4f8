package publish

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"adly/pkg/logging"
	"adly/pkg/redisconn"
)

// MemoryGuard tells writers to stop while Redis is nearly full: above Share of maxmemory (REDIS_MEMORY_GUARD).
// A noeviction Redis at maxmemory refuses the very writes that free memory (a syncer's lock, a new consumer
// group); stopping ingest a little earlier keeps room for them. It polls INFO memory in the background, so
// asking it costs one atomic load, never a round trip.
type MemoryGuard struct {
	client   redis.UniversalClient
	share    float64
	interval time.Duration
	log      *zap.Logger
	errLog   *logging.Every

	refusing atomic.Bool
	ratio    prometheus.Gauge
	active   prometheus.Gauge
}

// NewMemoryGuard builds a guard at share of maxmemory, polling every interval; a share of 0 or 1 turns it
// off (it never refuses). Its gauges are registered on reg.
func NewMemoryGuard(client redis.UniversalClient, share float64, interval time.Duration, log *zap.Logger, reg prometheus.Registerer) *MemoryGuard {
	g := &MemoryGuard{
		client: client, share: share, interval: interval, log: log, errLog: logging.NewEvery(time.Minute),
		ratio: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "adly_redis_memory_used_ratio",
			Help: "Redis used_memory / maxmemory at the last poll (0 when maxmemory is not set).",
		}),
		active: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "adly_redis_memory_guard_active",
			Help: "1 while Redis memory is above REDIS_MEMORY_GUARD of maxmemory and writes are refused.",
		}),
	}
	reg.MustRegister(g.ratio, g.active)
	return g
}

// Enabled reports whether the guard can ever refuse.
func (g *MemoryGuard) Enabled() bool { return g.share > 0 && g.share < 1 }

// Refusing reports whether writers should refuse now: one atomic load.
func (g *MemoryGuard) Refusing() bool { return g.refusing.Load() }

// Reason is the message a refused writer gives.
func (g *MemoryGuard) Reason() string {
	return fmt.Sprintf("redis is nearly full (memory above %g%% of maxmemory, REDIS_MEMORY_GUARD); nothing was stored, retry later", g.share*100)
}

// Check is for /readyz: an error while the guard refuses.
func (g *MemoryGuard) Check(context.Context) error {
	if g.Refusing() {
		return fmt.Errorf("%s", g.Reason())
	}
	return nil
}

// Run polls Redis until ctx ends. When INFO cannot be read the guard opens (the write itself will say
// whether Redis takes it) and the error is logged at most once a minute.
func (g *MemoryGuard) Run(ctx context.Context) error {
	if !g.Enabled() {
		return nil
	}
	t := time.NewTicker(g.interval)
	defer t.Stop()
	for {
		g.Poll(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Poll reads Redis's memory once and updates the guard (Run does it every interval).
func (g *MemoryGuard) Poll(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, max(g.interval, time.Second))
	defer cancel()
	m, err := redisconn.ReadMemory(ctx, g.client)
	if err != nil {
		if ctx.Err() == nil && g.errLog.Allow() {
			g.log.Warn("cannot read redis memory; the memory guard is open until it can", zap.Error(err))
		}
		g.set(false, m)
		return
	}
	g.ratio.Set(m.Ratio())
	g.set(g.Enabled() && m.Above(g.share), m)
}

func (g *MemoryGuard) set(refuse bool, m redisconn.Memory) {
	if g.refusing.Swap(refuse) == refuse {
		return
	}
	if refuse {
		g.active.Set(1)
		g.log.Warn("redis is nearly full: refusing writes until memory is below the guard",
			zap.Int64("used_memory", m.Used), zap.Int64("maxmemory", m.Max), zap.Float64("guard", g.share))
	} else {
		g.active.Set(0)
		g.log.Info("redis memory is below the guard again: accepting writes",
			zap.Int64("used_memory", m.Used), zap.Int64("maxmemory", m.Max), zap.Float64("guard", g.share))
	}
}
