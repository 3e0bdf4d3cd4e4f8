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

func (w *Worker) prune(ctx context.Context) {
	n, err := w.counter.Prune(ctx, func(ctx context.Context) (streamid.ID, bool, error) {
		id, err := w.group.SafePoint(ctx)
		return id, err == nil, err
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
		if c.Name == w.opts.Consumer || c.Pending > 0 || c.Idle < w.opts.DeadConsumerAge {
			continue
		}
		if gone, err := w.group.DeleteIdleConsumer(ctx, c.Name, w.opts.DeadConsumerAge); err == nil && gone {
			w.metrics.consumersGone.Inc()
			w.log.Info("removed dead consumer", zap.String("consumer", c.Name), zap.Duration("idle", c.Idle))
		}
	}
}
