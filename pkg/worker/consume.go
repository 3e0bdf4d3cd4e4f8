package worker

import (
	"adly/pkg/ledger"
	"adly/pkg/stream"
	"context"
	"errors"
	"time"
)

// consume is the main loop: first the consumer's own pending entries (ID 0: delivered to it before a crash or
// an error), then new ones ('>') in batches, blocking briefly. After any error it backs off and goes back to
// its pending entries, so nothing delivered to it is left behind.
func (w *Worker) consume(ctx context.Context) {
	bo := backoff{min: 100 * time.Millisecond, max: 10 * time.Second}
	for ctx.Err() == nil {
		err := w.consumePending(ctx)
		if err == nil {
			err = w.consumeNew(ctx, bo.reset)
		}
		if err == nil || ctx.Err() != nil {
			continue
		}
		if errors.Is(err, stream.ErrReplayed) {
			// Not a failure: the batch's entries stay pending and are re-read at once (their ledger rows
			// were voided by the replay, so they are counted again, once).
			w.log.Info("a replay moved the group during a batch; re-reading its entries")
			continue
		}
		w.fail("read", "consume", err)
		if !sleep(ctx, bo.next()) {
			return
		}
	}
}

// consumePending handles the consumer's own pending entries until none is left.
func (w *Worker) consumePending(ctx context.Context) error {
	for ctx.Err() == nil {
		msgs, err := w.group.Read(ctx, w.opts.Consumer, "0", w.opts.BatchSize, -1)
		readAt := time.Now()
		if err != nil {
			return err
		}
		if len(msgs) == 0 {
			return nil
		}
		if err := w.boundedHandle(ctx, readAt, w.prepare(msgs, true), nil); err != nil {
			return err
		}
	}
	return nil
}

// consumeNew reads new entries ahead: while a batch is being counted in MariaDB, the next ones are already
// being read from Redis, and reads waiting in hand are counted together (up to MergeReads: under a backlog
// this shares the transaction's fixed cost and sums more entries per (ad_id, date) row; at rest every read
// goes alone, as soon as it arrives). It returns the first error (the entries read ahead stay pending and
// are re-read by consumePending) or nil when ctx ends; every batch read before that is handled.
func (w *Worker) consumeNew(ctx context.Context, progressed func()) error {
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	merge := max(w.opts.MergeReads, 1)
	type read struct {
		items []item
		span  ledger.Range
		at    time.Time // when the read's reply arrived
	}
	batches := make(chan read, merge)
	var readErr error
	go func() {
		defer close(batches)
		for rctx.Err() == nil {
			msgs, err := w.group.Read(rctx, w.opts.Consumer, ">", w.opts.BatchSize, w.opts.Block)
			at := time.Now() // the entries were delivered at most a round trip earlier
			if err != nil {
				readErr = err // published by close(batches)
				return
			}
			if len(msgs) > 0 { // parsed here, so reads waiting in hand hold no go-redis maps
				batches <- read{w.prepare(msgs, false), span(msgs), at} // taken until the channel is closed
			}
		}
	}()
	for r := range batches {
		items, ranges := r.items, []ledger.Range{r.span}
	more:
		for len(ranges) < merge {
			select {
			case next, ok := <-batches:
				if !ok {
					break more
				}
				items = append(items, next.items...)
				ranges = append(ranges, next.span)
			default:
				break more
			}
		}
		// Entries that arrived with the read are handled even if shutdown began meanwhile.
		if err := w.boundedHandle(ctx, r.at, items, ranges); err != nil {
			stop()
			for range batches { // drain: what was read ahead stays pending
			}
			return err
		}
		progressed()
	}
	if readErr != nil && !errors.Is(readErr, context.Canceled) {
		return readErr
	}
	return nil
}
