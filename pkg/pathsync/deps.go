package pathsync

import (
	"context"
	"time"

	"adly/pkg/event"
	"adly/pkg/hits"
	"adly/pkg/keyspace"
	"adly/pkg/pathtable"
)

// Counters is what the syncer uses of the hit counters in Redis (*hits.HitCounters): the fenced sync lock,
// the scan, the move into staging, parking, and the staged chunks left pending.
type Counters interface {
	Names() keyspace.Names
	AcquireLock(ctx context.Context, token string, ttl time.Duration) (bool, error)
	ExtendLock(ctx context.Context, token string, ttl time.Duration) (bool, error)
	ReleaseLock(ctx context.Context, token string) error
	Scan(ctx context.Context, cursor uint64, count int64) ([]string, uint64, error)
	Move(ctx context.Context, token, syncID string, keys []string, into []event.PathCount) ([]event.PathCount, []hits.Parked, error)
	Park(ctx context.Context, token, key, path, syncID string) error
	Pending(ctx context.Context) ([]string, error)
	Staged(ctx context.Context, syncID string) ([]event.PathCount, error)
	Finish(ctx context.Context, token, syncID string) error
}

// Table is what the syncer uses of path_counters in MariaDB (*pathtable.PathCounts).
type Table interface {
	CommitChunk(ctx context.Context, syncID string, counts []event.PathCount, notAfter time.Time) (bool, error)
	PruneLog(ctx context.Context, age time.Duration) (int64, error)
}

var (
	_ Counters = (*hits.HitCounters)(nil)
	_ Table    = (*pathtable.PathCounts)(nil)
)
