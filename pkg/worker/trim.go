package worker

import (
	"context"
	"time"

	"go.uber.org/zap"

	"adly/pkg/logging"
)

// trimSpanCap bounds how many entries the trim script reads per group to count them: the delivered ones from
// its oldest pending entry on (Redis counts the undelivered ones itself), or everything the group needs when
// Redis cannot tell its lag (after a replay, until the group has caught up). More postpones trimming; a
// group is never trimmed under.
const trimSpanCap = 100000

// pressureCheckInterval is how often the trim loop reads Redis's memory when the guard is on: a full Redis
// should not wait TRIM_INTERVAL to get memory back.
const pressureCheckInterval = time.Second

// trimLoop trims the stream behind consumption every TrimInterval (trim.lua: atomic, keeps RETAIN_ENTRIES
// consumed entries for replay and every entry a group still needs).
//
// Under memory pressure — Redis's used memory above MemoryGuard of maxmemory, the share at which the API
// stops accepting — it trims every pressureCheckInterval keeping no consumed entry at all: retention for
// replay yields to ingest, or a Redis holding fewer than RETAIN_ENTRIES entries would never get below the
// guard and the API would refuse events for good. Unconsumed entries are still never trimmed (trim.lua keeps
// every entry a group needs whatever the retain).
func (w *Worker) trimLoop(ctx context.Context) {
	every := w.opts.TrimInterval
	if w.opts.MemoryGuard > 0 && w.opts.MemoryGuard < 1 {
		every = min(every, pressureCheckInterval)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	last := time.Now()
	warn := logging.NewEvery(time.Minute)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pressure := w.underPressure(ctx)
		if !pressure && time.Since(last) < w.opts.TrimInterval {
			continue
		}
		last = time.Now()
		retain := w.opts.RetainEntries
		if pressure {
			retain = 0
		}
		n, reason, err := w.group.Trim(ctx, retain, trimSpanCap)
		if err != nil {
			if ctx.Err() == nil {
				w.fail("trim", "trim", err)
			}
			continue
		}
		w.metrics.trimmed.Add(float64(n))
		switch {
		case pressure && n > 0:
			w.metrics.pressureTrimmed.Add(float64(n))
			if warn.Allow() {
				w.log.Warn("redis memory is above the guard: trimmed consumed entries regardless of RETAIN_ENTRIES; they can no longer be replayed",
					zap.Int64("entries", n), zap.Float64("guard", w.opts.MemoryGuard), zap.Int64("retain_entries", w.opts.RetainEntries))
			}
		case n > 0:
			w.log.Debug("trimmed", zap.Int64("entries", n))
		default:
			w.log.Debug("not trimmed", zap.String("reason", reason), zap.Bool("memory_pressure", pressure))
		}
	}
}

// underPressure reports whether Redis's used memory is above the guard's share of maxmemory. When memory
// cannot be read it says no: trimming then keeps RETAIN_ENTRIES, as without a guard.
func (w *Worker) underPressure(ctx context.Context) bool {
	if w.opts.MemoryGuard <= 0 || w.opts.MemoryGuard >= 1 {
		return false
	}
	m, err := w.group.Memory(ctx)
	if err != nil {
		if ctx.Err() == nil {
			w.fail("trim", "read redis memory", err)
		}
		return false
	}
	return m.Above(w.opts.MemoryGuard)
}
