package worker

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"adly/pkg/stream"
	"adly/pkg/testkit"
)

// On the real Redis Cluster, six shards (two on each master), two processes: every count is exact, a
// poison entry is dead-lettered beside its shard, the streams are trimmed behind consumption, and a replay
// of every shard recounts exactly.
func TestClusterShards(t *testing.T) {
	c, names := testkit.Cluster(t)
	db, _ := testkit.MariaDB(t)
	s := newShardEnv(c, names.WithShards(6).OnCluster(), db)
	require.Len(t, s.groups, 6)
	ctx := context.Background()

	want, wantFiltered := s.publish(t, withReasons(threeDays(6000, 19), "", "", "", "link_preview"), time.UTC)
	poisoned := s.groups[4].Stream()
	require.NoError(t, c.XAdd(ctx, &redis.XAddArgs{Stream: poisoned, Values: []any{"ad_id", "not-a-number", "ts", 1795300000}}).Err())

	opts := testOptions("a")
	opts.BatchSize, opts.TrimInterval = 300, 100*time.Millisecond
	stopA, regA := s.run(t, opts)
	opts.Consumer = "b"
	stopB, regB := s.run(t, opts)
	s.drained(t, 60*time.Second)
	requireCounts(t, want, s.counts(t))
	requireCounts(t, wantFiltered, s.filteredCounts(t))

	dead, err := c.XRange(ctx, stream.DeadLetterStream(poisoned), "-", "+").Result()
	require.NoError(t, err)
	require.Len(t, dead, 1)
	require.Contains(t, dead[0].Values["reason"], "malformed ad_id")
	require.Equal(t, 1.0, testkit.Metric(t, regA, "adly_worker_dead_lettered_total", "stream", poisoned, "reason", "poison")+
		testkit.Metric(t, regB, "adly_worker_dead_lettered_total", "stream", poisoned, "reason", "poison"))
	for _, g := range s.groups {
		if g.Stream() != poisoned {
			require.Zero(t, c.XLen(ctx, stream.DeadLetterStream(g.Stream())).Val())
		}
	}

	for _, from := range []string{"2026-11-21", "2026-11-20"} {
		res := s.replay(t, from)
		require.Positive(t, res.ClearedRows)
		s.drained(t, 60*time.Second)
		requireCounts(t, want, s.counts(t))
		requireCounts(t, wantFiltered, s.filteredCounts(t))
	}

	// Trimmed behind consumption once the retention is short (trim.lua on every shard).
	stopA()
	stopB()
	opts.Consumer, opts.RetainEntries = "c", 500
	s.run(t, opts)
	testkit.Wait(t, 10*time.Second, func() bool {
		for _, g := range s.groups {
			if c.XLen(ctx, g.Stream()).Val() > 1000 {
				return false
			}
		}
		return true
	}, "every shard trimmed to about RETAIN_ENTRIES")
	requireCounts(t, want, s.counts(t))
}
