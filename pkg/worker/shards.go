package worker

import (
	"context"
	"sync"

	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"adly/pkg/ledger"
	"adly/pkg/stream"
)

// Shards are the Workers of one process, one per shard stream of its kind. Each is the whole consume loop of
// one shard (read, batch, commit, acknowledge, reclaim, trim, dead-letter, maintenance) in the kind's group,
// under the process's one consumer name, committing under its own shard's lock row; they share nothing but
// the process's Redis and MariaDB clients and its registry. Processes do not coordinate: every process reads
// every shard, and the group of each shard shares that shard's entries among them.
type Shards []*Worker

// NewShards builds one Worker per stream of streams, in group, counting into table through db. Each
// registers its own metrics on reg, labelled with its stream (the metric names are the same for all).
func NewShards(client redis.UniversalClient, db *sqlx.DB, table ledger.Table, streams []string, group string, log *zap.Logger, reg prometheus.Registerer, opts Options) Shards {
	out := make(Shards, 0, len(streams))
	for _, name := range streams {
		l := log
		if len(streams) > 1 {
			l = log.With(zap.String("stream", name))
		}
		out = append(out, New(stream.NewGroup(client, name, group), ledger.NewCounter(db, table, name, group), l, NewMetrics(reg, name, group), opts))
	}
	return out
}

// Run runs every shard's Worker until ctx ends; it returns when each has finished the batch it held (within
// BatchTimeout), so SIGTERM finishes every shard's batch.
func (s Shards) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, w := range s {
		wg.Go(func() { _ = w.Run(ctx) }) // Run returns nil: errors are retried inside, until ctx ends
	}
	wg.Wait()
	return nil
}

// Groups are the shards' consumer groups, in the order of the streams.
func (s Shards) Groups() []Group {
	out := make([]Group, len(s))
	for i, w := range s {
		out[i] = w.group
	}
	return out
}
