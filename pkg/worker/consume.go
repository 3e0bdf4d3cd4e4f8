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
// this shares the transaction's fixed cost and sums more entries per (ad_id, date) row). A read shorter than
// BatchSize (a moderate rate, not a backlog) waits BatchWait from its arrival and takes what came meanwhile
// with one more read, so that at moderate rates a worker commits about once per BatchWait instead of once
// per arrival. It returns the first error (the entries read ahead stay pending and are re-read by
// consumePending) or nil when ctx ends; every batch read before that is handled.
func (w *Worker) consumeNew(ctx context.Context, progressed func()) error {
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	merge := max(w.opts.MergeReads, 1)
	batches := make(chan read, merge)
	var readErr error
	go func() {
		defer close(batches)
		for rctx.Err() == nil {
			r, err := w.readNew(rctx)
			if r.items != nil { // taken until the channel is closed
				batches <- r
			}
			if err != nil {
				readErr = err // published by close(batches)
				return
			}
		}
	}()
	for r := range batches {
		items, ranges := r.items, r.spans
	more:
		for reads := 1; reads < merge; reads++ {
			select {
			case next, ok := <-batches:
				if !ok {
					break more
				}
				items = append(items, next.items...)
				ranges = append(ranges, next.spans...)
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

// read is what one or two '>' reads delivered, parsed (so reads waiting in hand hold no go-redis maps).
type read struct {
	items []item
	spans []ledger.Range // one contiguous run per XREADGROUP
	at    time.Time      // when the first read's reply arrived: the entries were delivered at most a round trip earlier
}

// readNew reads new entries, blocking up to Block; after a short read it waits BatchWait from the reply and
// reads what arrived meanwhile, up to BatchSize in all. What was delivered is returned even with an error
// (or when ctx ends during the wait): it is pending to this consumer either way, and is handled.
func (w *Worker) readNew(ctx context.Context) (read, error) {
	msgs, err := w.group.Read(ctx, w.opts.Consumer, ">", w.opts.BatchSize, w.opts.Block)
	r := read{at: time.Now()}
	if err != nil || len(msgs) == 0 {
		return r, err
	}
	r.items, r.spans = w.prepare(msgs, false), []ledger.Range{span(msgs)}
	if len(msgs) >= w.opts.BatchSize || w.opts.BatchWait <= 0 || !sleep(ctx, time.Until(r.at.Add(w.opts.BatchWait))) {
		return r, nil
	}
	more, err := w.group.Read(ctx, w.opts.Consumer, ">", w.opts.BatchSize-len(msgs), -1)
	if err != nil || len(more) == 0 {
		return r, err
	}
	r.items = append(r.items, w.prepare(more, false)...)
	r.spans = append(r.spans, span(more))
	return r, nil
}
