package worker

import (
	"context"
	"time"
)

// consume is the main loop: first the consumer's own pending entries (ID 0: delivered to it before a crash or
// an error), then new ones ('>') in batches, blocking briefly. After any error it backs off and goes back to
// its pending entries, so nothing delivered to it is left behind.
func (w *Worker) consume(ctx context.Context) {
	bo := backoff{min: 100 * time.Millisecond, max: 10 * time.Second}
	pendingFirst := true
	for ctx.Err() == nil {
		start, block := ">", w.opts.Block
		if pendingFirst {
			start, block = "0", -1
		}
		msgs, err := w.group.Read(ctx, w.opts.Consumer, start, w.opts.BatchSize, block)
		if err == nil && pendingFirst && len(msgs) == 0 {
			pendingFirst = false
			continue
		}
		if err == nil {
			// Entries that arrived with the read are handled even if shutdown began meanwhile.
			err = w.boundedHandle(ctx, msgs, !pendingFirst)
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			w.fail("read", "consume", err)
			pendingFirst = true
			if !sleep(ctx, bo.next()) {
				return
			}
			continue
		}
		bo.reset()
	}
}
