package worker

import (
	"context"
	"time"

	"go.uber.org/zap"
)

// trimSpanCap bounds how many entries the trim script reads per group to count them: the delivered ones from
// its oldest pending entry on (Redis counts the undelivered ones itself), or everything the group needs when
// Redis cannot tell its lag (after a replay, until the group has caught up). More postpones trimming; a
// group is never trimmed under.
const trimSpanCap = 100000

// trimLoop trims the stream behind consumption every TrimInterval (trim.lua: atomic, keeps RETAIN_ENTRIES
// consumed entries for replay and every entry a group still needs).
func (w *Worker) trimLoop(ctx context.Context) {
	t := time.NewTicker(w.opts.TrimInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, reason, err := w.group.Trim(ctx, w.opts.RetainEntries, trimSpanCap)
		if err != nil {
			if ctx.Err() == nil {
				w.fail("trim", "trim", err)
			}
			continue
		}
		if n > 0 {
			w.metrics.trimmed.Add(float64(n))
			w.log.Debug("trimmed", zap.Int64("entries", n))
		} else {
			w.log.Debug("not trimmed", zap.String("reason", reason))
		}
	}
}
