package worker

import (
	"context"
	"time"

	"go.uber.org/zap"
)

// reclaimLoop periodically takes over entries idle longer than ClaimMinIdle — left by dead consumers, or
// by stuck ones — and counts them like any re-delivered entry (the ledger keeps a slow original owner from
// counting them a second time).
func (w *Worker) reclaimLoop(ctx context.Context) {
	t := time.NewTicker(w.opts.ClaimInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := w.reclaim(ctx); err != nil && ctx.Err() == nil {
			w.fail("claim", "reclaim", err)
		}
	}
}

// reclaim scans the whole pending list once.
func (w *Worker) reclaim(ctx context.Context) error {
	next := "0-0"
	for ctx.Err() == nil {
		msgs, cursor, deleted, err := w.group.AutoClaim(ctx, w.opts.Consumer, w.opts.ClaimMinIdle, next, w.opts.BatchSize)
		readAt := time.Now()
		if err != nil {
			return err
		}
		if len(deleted) > 0 {
			w.metrics.deleted.Add(float64(len(deleted)))
			w.log.Warn("pending entries were deleted from the stream before being counted",
				zap.Int("count", len(deleted)), zap.Strings("first_ids", deleted[:min(len(deleted), 5)]))
		}
		if len(msgs) > 0 {
			w.metrics.reclaimed.Add(float64(len(msgs)))
			if err := w.boundedHandle(ctx, readAt, w.prepare(msgs, true), nil); err != nil {
				return err
			}
		}
		if cursor == "0-0" || cursor == "" {
			return nil
		}
		next = cursor
	}
	return nil
}
