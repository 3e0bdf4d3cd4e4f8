package pathsync

import (
	"context"
	"errors"
	"time"

	"go.uber.org/zap"
)

// Run syncs at start and then every interval until ctx ends. A sync in progress when ctx ends is finished
// (within shutdownTimeout) before Run returns.
func (s *Syncer) Run(ctx context.Context, every, shutdownTimeout time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout+every)
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
			if _, err := s.paths.PruneLog(ctx, 7*24*time.Hour); err != nil && ctx.Err() == nil {
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
