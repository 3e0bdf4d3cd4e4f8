package pathsync

import (
	"context"
	"time"

	"adly/pkg/event"
	"adly/pkg/hits"
	"adly/pkg/keyspace"
	"adly/pkg/pathtable"
)

// Counters is what the syncer uses of the hit counters in Redis (*hits.HitCounters): the sync lock, the
// claim of the staged state (its fence value and the chunks left pending), the scan, the fenced move into
// staging, parking and finish.
type Counters interface {
	Names() keyspace.Names
	AcquireLock(ctx context.Context, token string, ttl time.Duration) (bool, error)
	ExtendLock(ctx context.Context, token string, ttl time.Duration) (bool, error)
	ReleaseLock(ctx context.Context, token string) error
	Claim(ctx context.Context, token string) (string, []*hits.Chunk, error)
	Scan(ctx context.Context, count int64, page func(keys []string) error) error
	Move(ctx context.Context, fence string, c *hits.Chunk, keys []string, into []event.PathCount) ([]event.PathCount, []hits.Parked, error)
	Park(ctx context.Context, fence, key, path, syncID string) error
	ParkedKeyOf(key, path string) string
	Staged(ctx context.Context, c *hits.Chunk) ([]event.PathCount, error)
	Finish(ctx context.Context, fence string, c *hits.Chunk) error
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
