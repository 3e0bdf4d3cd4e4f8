package worker

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"adly/pkg/ledger"
	"adly/pkg/redisconn"
	"adly/pkg/stream"
	"adly/pkg/streamid"
)

// Group is what the worker and Replay use of a stream's consumer group in Redis (*stream.Group): reading,
// reclaiming, acknowledging under the replay epoch, dead letters, trimming and the group's state.
type Group interface {
	Stream() string
	Name() string
	Ensure(ctx context.Context) error
	Memory(ctx context.Context) (redisconn.Memory, error)
	Read(ctx context.Context, consumer, start string, count int, block time.Duration) ([]stream.Message, error)
	Epoch(ctx context.Context) (string, error)
	AckSince(ctx context.Context, epoch string, ids []string) error
	AutoClaim(ctx context.Context, consumer string, minIdle time.Duration, start string, count int) ([]stream.Message, string, []string, error)
	DeliveryCounts(ctx context.Context, consumer, lo, hi string, count int) (map[string]int64, error)
	DeadLetter(ctx context.Context, consumer string, m stream.Message, reason string) (bool, error)
	Info(ctx context.Context) (stream.GroupInfo, error)
	OldestPending(ctx context.Context) (streamid.ID, time.Duration, bool, error)
	SafePoint(ctx context.Context) (streamid.ID, error)
	Consumers(ctx context.Context) ([]redis.XInfoConsumer, error)
	DeleteIdleConsumer(ctx context.Context, consumer string, minIdle time.Duration) (bool, error)
	FirstEntry(ctx context.Context) (streamid.ID, bool, error)
	Trim(ctx context.Context, retain, spanCap int64) (int64, string, error)
	SetID(ctx context.Context, id string) error
	Retained(ctx context.Context) (stream.Retention, error)
}

// Ledger is what the worker and Replay use of a daily table, its filtered table and its ledger in MariaDB
// (*ledger.Counter).
type Ledger interface {
	Commit(ctx context.Context, b ledger.Batch) (ledger.Result, error)
	Prune(ctx context.Context, safe func(context.Context) (streamid.ID, bool, error)) (int64, error)
	Replay(ctx context.Context, plan func(ledger.ZoneHistory) (ledger.ReplayPlan, error), reset func(context.Context, ledger.ReplayPlan) error) (ledger.Cleared, error)
}

var (
	_ Group  = (*stream.Group)(nil)
	_ Ledger = (*ledger.Counter)(nil)
)
