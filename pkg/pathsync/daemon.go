package pathsync

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"
)

// Run syncs at start and then every interval until ctx ends. A sync in progress when ctx ends gets
// shutdownTimeout from that moment to finish; one that has not finished by then stops, and the next sync
// recovers what it staged. Nothing else bounds a sync: the interval does not (a sync longer than it delays
// the next tick), and while it keeps its lock it may take as long as the data needs.
func (s *Syncer) Run(ctx context.Context, every, shutdownTimeout time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		sctx, cancel := afterShutdown(ctx, shutdownTimeout)
		res, err := s.Sync(sctx)
		cancel()
		switch {
		case errors.Is(err, ErrLocked):
			s.log.Info("skipped: another sync is running")
		case err != nil:
			s.log.Error("sync failed; the next one finishes its work", zap.Error(err))
		default:
			s.log.Info("synced", zap.Int("paths", res.Paths), zap.Int64("hits", res.Hits),
				zap.Int("recovered_chunks", res.Recovered), zap.Int("errors", len(res.Errors)))
		}
		// Only after a sync that succeeded: it finished every chunk left pending, so no log row that a
		// recovery could still need is old enough to go (a Redis outage of a week must not let a committed,
		// unfinished chunk lose its row and be committed again).
		if err == nil {
			if _, err := s.paths.PruneLog(ctx, logRetention); err != nil && ctx.Err() == nil {
				s.log.Warn("prune sync log", zap.Error(err))
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// logRetention is how long a committed chunk's sync log row is kept; commitWindow is how long after its
// counts were read from Redis a chunk may still be committed (pathtable.CommitChunk's notAfter). A commit later
// than that is refused, so a syncer frozen for days cannot commit a chunk again after its row was pruned;
// the difference leaves room for clocks that disagree by up to days.
const (
	logRetention = 7 * 24 * time.Hour
	commitWindow = 24 * time.Hour
)

// errShutdownTimeout is why a sync cut off at shutdown stopped.
var errShutdownTimeout = errors.New("shutdown timeout")

// afterShutdown returns a context for one sync that ignores ctx's end (SIGTERM) for grace, and is then
// cancelled: the sync in progress at the signal finishes within grace of it, or stops. The returned cancel
// releases it.
func afterShutdown(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	sctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		time.AfterFunc(grace, func() {
			cancel(fmt.Errorf("%w (%s after the signal)", errShutdownTimeout, grace))
		})
	})
	return sctx, func() { stop(); cancel(context.Canceled) }
}
