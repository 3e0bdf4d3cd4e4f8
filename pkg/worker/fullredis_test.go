package worker

import (
	"adly/pkg/keyspace"
	"adly/pkg/ledger"
	"adly/pkg/redisconn"
	"adly/pkg/stream"
	"adly/pkg/testkit"
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// newFullEnv is an env on a private redis-server with a small maxmemory (noeviction): the tests fill it,
// which the shared test Redis must never see.
func newFullEnv(t *testing.T, maxmemory string) (*env, *testkit.RedisServer) {
	t.Helper()
	rs := testkit.StartRedisServer(t, testkit.RedisServerOptions{MaxMemory: maxmemory})
	client := redisconn.NewClient(rs.Config(), redisconn.ClientOptions{NoRetries: true})
	t.Cleanup(func() { _ = client.Close() })
	names := keyspace.NewNames("full:")
	db, cfg := testkit.MariaDB(t)
	streamName, group := names.ImpressionsStream(), names.ImpressionGroup()
	return &env{
		client: client, names: names,
		group:   stream.NewGroup(client, streamName, group),
		counter: ledger.NewCounter(db, ledger.Impressions, streamName, group),
		dbName:  cfg.Name,
	}, rs
}

// fillStream adds valid impressions (one date, ten ads) until Redis refuses them for memory, and returns the
// counts of those it took.
func (e *env) fillStream(t *testing.T) map[key]int64 {
	t.Helper()
	ctx := context.Background()
	ts := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC).Unix()
	want := map[key]int64{}
	for i := 0; ; {
		pipe := e.client.Pipeline()
		cmds := make([]*redis.StringCmd, 500)
		for j := range cmds {
			cmds[j] = pipe.XAdd(ctx, &redis.XAddArgs{Stream: e.group.Stream(), Values: []any{"ad_id", (i+j)%10 + 1, "ts", ts}})
		}
		_, _ = pipe.Exec(ctx)
		for j, c := range cmds {
			if err := c.Err(); err != nil {
				require.True(t, redis.HasErrorPrefix(err, "OOM"), "xadd: %v", err)
				return want
			}
			want[key{int64((i+j)%10 + 1), DateOf(ts, time.UTC)}]++
		}
		i += len(cmds)
	}
}

// A worker started while Redis is full (maxmemory, noeviction) comes up, counts every entry exactly,
// dead-letters a poison one and — under memory pressure — trims consumed entries whatever RETAIN_ENTRIES
// says, until Redis is below the guard again. The group may already exist, or the stream may hold entries
// without a group yet.
func TestWorkerStartsAndFreesMemoryOnAFullRedis(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		groupBefore bool
	}{
		{"group exists", true},
		{"stream without group", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, rs := newFullEnv(t, "4mb")
			ctx := context.Background()
			if tt.groupBefore {
				require.NoError(t, e.group.Ensure(ctx))
			}
			poison, err := e.client.XAdd(ctx, &redis.XAddArgs{Stream: e.group.Stream(), Values: []any{"ad_id", "x", "ts", 1}}).Result()
			require.NoError(t, err)
			want := e.fillStream(t)
			rs.Fill(e.client, e.names.Prefix()+"probe:", 8) // the last bytes: Redis refuses writes now

			opts := testOptions("full") // RETAIN_ENTRIES 1,000,000: more than the stream holds
			opts.MemoryGuard = 0.9
			_, reg := e.start(t, opts)
			e.drained(t, 60*time.Second)
			requireCounts(t, want, e.counts(t))

			dead, err := e.client.XRange(ctx, stream.DeadLetterStream(e.group.Stream()), "-", "+").Result()
			require.NoError(t, err)
			require.Len(t, dead, 1, "the poison entry was dead-lettered on the full Redis")
			require.Equal(t, poison, dead[0].Values["original_id"])
			require.Equal(t, 1.0, testkit.Metric(t, reg, "adly_worker_dead_lettered_total", "reason", "poison"))

			require.Eventually(t, func() bool {
				m, err := redisconn.ReadMemory(ctx, e.client)
				return err == nil && !m.Above(0.9)
			}, 30*time.Second, 50*time.Millisecond, "trimming under pressure brought Redis below the guard")
			require.Positive(t, testkit.Metric(t, reg, "adly_worker_pressure_trimmed_entries_total"))
			var total int64
			for _, n := range want {
				total += n
			}
			require.Less(t, e.client.XLen(ctx, e.group.Stream()).Val(), total, "consumed entries were trimmed, though fewer than RETAIN_ENTRIES")
		})
	}
}

// With no stream at all on a full Redis there is nothing to consume: the worker keeps retrying, and starts
// once memory is freed.
func TestWorkerWaitsForMemoryWhenThereIsNoStream(t *testing.T) {
	t.Parallel()
	e, rs := newFullEnv(t, "4mb")
	ctx := context.Background()
	filled := rs.Fill(e.client, e.names.Prefix()+"filler:", 1000)
	_, reg := e.start(t, testOptions("full"))
	testkit.Wait(t, 10*time.Second, func() bool { return testkit.Metric(t, reg, "adly_worker_errors_total", "op", "read") >= 2 }, "the worker retries")
	require.Zero(t, e.client.Exists(ctx, e.group.Stream()).Val(), "no stream was created on the full Redis")

	for i := 0; i <= filled; i += 500 {
		keys := make([]string, 0, 500)
		for j := i; j < i+500; j++ {
			keys = append(keys, e.names.Prefix()+"filler:"+strconv.Itoa(j))
		}
		require.NoError(t, e.client.Del(ctx, keys...).Err())
	}
	want := e.publish(t, threeDays(3000, 7), time.UTC)
	e.drained(t, 30*time.Second)
	requireCounts(t, want, e.counts(t))
}
