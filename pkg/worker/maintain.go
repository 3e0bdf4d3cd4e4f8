package worker

import (
	"context"
	"time"

	"go.uber.org/zap"

	"adly/pkg/streamid"
)

// maintainLoop publishes the group's lag and pending gauges every 10 s, and every minute prunes the ledger
// and removes consumers that died long ago.
func (w *Worker) maintainLoop(ctx context.Context) {
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for tick := 0; ; tick++ {
		w.observe(ctx)
		if tick%6 == 0 {
			w.prune(ctx)
			w.removeDeadConsumers(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (w *Worker) observe(ctx context.Context) {
	info, err := w.group.Info(ctx)
	if err != nil {
		if ctx.Err() == nil {
			w.fail("observe", "read group info", err)
		}
		return
	}
	w.metrics.lag.Set(float64(info.Lag))
	w.metrics.pending.Set(float64(info.Pending))
	age := time.Duration(0)
	if info.Pending > 0 {
		if _, idle, ok, err := w.group.OldestPending(ctx); err == nil && ok {
			age = idle
		}
	}
	w.metrics.oldestPending.Set(age.Seconds())
}

// prune deletes ledger rows no entry can come back to: below the group's safe point (everything there was
// acknowledged) and below the stream's oldest entry. The second bound matters for replay: a replay moves the
// group back over entries still in the stream, and the rows vouching for their earlier-dated entries must
// still be there, or those entries would be counted twice.
func (w *Worker) prune(ctx context.Context) {
	n, err := w.counter.Prune(ctx, func(ctx context.Context) (streamid.ID, bool, error) {
		id, err := w.group.SafePoint(ctx)
		if err != nil {
			return id, false, err
		}
		first, ok, err := w.group.FirstEntry(ctx)
		if err != nil {
			return id, false, err
		}
		if ok && first.Less(id) {
			id = first
		}
		return id, true, nil
	})
	if err != nil {
		if ctx.Err() == nil {
			w.fail("prune", "prune ledger", err)
		}
		return
	}
	w.metrics.ledgerPruned.Add(float64(n))
}

// removeDeadConsumers deletes consumers with nothing pending that have been idle longer than
// DEAD_CONSUMER_IDLE, so the group does not collect the names of dead processes. A live consumer removed this
// way (idle because there was no traffic) is re-created by its next read.
func (w *Worker) removeDeadConsumers(ctx context.Context) {
	cs, err := w.group.Consumers(ctx)
	if err != nil {
		return
	}
	for _, c := range cs {
		if c.Name == w.opts.Consumer || c.Pending > 0 || c.Idle < w.opts.DeadConsumerIdle {
			continue
		}
		if gone, err := w.group.DeleteIdleConsumer(ctx, c.Name, w.opts.DeadConsumerIdle); err == nil && gone {
			w.metrics.consumersGone.Inc()
			w.log.Info("removed dead consumer", zap.String("consumer", c.Name), zap.Duration("idle", c.Idle))
		}
	}
}
