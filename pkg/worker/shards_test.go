package worker

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"adly/pkg/keyspace"
	"adly/pkg/ledger"
	"adly/pkg/stream"
	"adly/pkg/streamid"
	"adly/pkg/testkit"
)

// shardEnv is the impressions of a test split over shard streams, on a real Redis (one node or the test
// cluster) and a real MariaDB.
type shardEnv struct {
	client  redis.UniversalClient
	names   keyspace.Names
	db      *sqlx.DB
	groups  []*stream.Group
	ledgers ledger.Shards
}

func newShardEnv(client redis.UniversalClient, names keyspace.Names, db *sqlx.DB) *shardEnv {
	s := &shardEnv{client: client, names: names, db: db}
	for _, name := range Impressions.Streams(names) {
		s.groups = append(s.groups, stream.NewGroup(client, name, names.ImpressionGroup()))
		s.ledgers = append(s.ledgers, ledger.NewCounter(db, ledger.Impressions, name, names.ImpressionGroup()))
	}
	return s
}

// newSingleNodeShards is a shardEnv of n shards on the test Redis.
func newSingleNodeShards(t *testing.T, n int) *shardEnv {
	t.Helper()
	k := testkit.NewEnv(t)
	return newShardEnv(k.Redis, k.Names.WithShards(n), k.DB)
}

func (s *shardEnv) groupList() []Group {
	out := make([]Group, len(s.groups))
	for i, g := range s.groups {
		out[i] = g
	}
	return out
}

// run runs one process's workers (Shards) until the test ends or stop is called.
func (s *shardEnv) run(t *testing.T, opts Options) (stop func(), reg *prometheus.Registry) {
	t.Helper()
	reg = prometheus.NewRegistry()
	w := NewShards(s.client, s.db, ledger.Impressions, Impressions.Streams(s.names), s.names.ImpressionGroup(),
		zaptest.NewLogger(t).Named(opts.Consumer), reg, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = w.Run(ctx); close(done) }()
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			cancel()
			<-done
		}
	}
	t.Cleanup(stop)
	return stop, reg
}

// publish adds event i to shard i mod n (as publishTraffic does to one stream) and returns the expected
// counts.
func (s *shardEnv) publish(t *testing.T, events []traffic, loc *time.Location) (map[key]int64, map[fkey]int64) {
	t.Helper()
	ctx := context.Background()
	valid, filtered := map[key]int64{}, map[fkey]int64{}
	pipe := s.client.Pipeline()
	for i, ev := range events {
		day, err := time.ParseInLocation(time.DateOnly, ev.date, loc)
		require.NoError(t, err)
		ts := day.Unix() + int64(i%86000)
		values := []any{"ad_id", ev.ad, "ts", ts}
		if ev.reason != "" {
			values = append(values, "ivt", ev.reason)
			filtered[fkey{ev.ad, DateOf(ts, loc), ev.reason}]++
		} else {
			valid[key{ev.ad, DateOf(ts, loc)}]++
		}
		pipe.XAdd(ctx, &redis.XAddArgs{Stream: s.groups[i%len(s.groups)].Stream(), Values: values})
		if pipe.Len() == 1000 {
			_, err := pipe.Exec(ctx)
			require.NoError(t, err)
		}
	}
	_, err := pipe.Exec(ctx)
	require.NoError(t, err)
	return valid, filtered
}

// drained waits until every shard's group has consumed and acknowledged everything added to its stream.
func (s *shardEnv) drained(t *testing.T, timeout time.Duration) {
	t.Helper()
	ctx := context.Background()
	require.Eventually(t, func() bool {
		for _, g := range s.groups {
			st, err := s.client.XInfoStream(ctx, g.Stream()).Result()
			if err != nil || st.EntriesAdded == 0 {
				return false
			}
			info, err := g.Info(ctx)
			if err != nil || info.Pending != 0 || info.LastDelivered.String() != st.LastGeneratedID {
				return false
			}
		}
		return true
	}, timeout, 20*time.Millisecond, "every shard's group consumed and acknowledged everything")
}

func (s *shardEnv) counts(t *testing.T) map[key]int64 {
	t.Helper()
	return (&env{counter: s.ledgers[0]}).counts(t)
}

func (s *shardEnv) filteredCounts(t *testing.T) map[fkey]int64 {
	t.Helper()
	return (&env{counter: s.ledgers[0]}).filteredCounts(t)
}

func (s *shardEnv) replay(t *testing.T, from string) ReplayResult {
	t.Helper()
	res, err := ReplayShards(context.Background(), s.groupList(), s.ledgers, from, time.UTC)
	require.NoError(t, err, "replay from %s", from)
	return res
}

// Every shard is counted exactly, each under its own lock row and ledger rows, with a metric series per
// shard.
func TestShardsCountExactly(t *testing.T) {
	t.Parallel()
	s := newSingleNodeShards(t, 4)
	ctx := context.Background()
	want, wantFiltered := s.publish(t, withReasons(threeDays(8000, 23), "", "", "crawler"), time.UTC)
	_, reg := s.run(t, testOptions("a"))
	s.drained(t, 30*time.Second)
	requireCounts(t, want, s.counts(t))
	requireCounts(t, wantFiltered, s.filteredCounts(t))

	var locks []string
	require.NoError(t, s.db.SelectContext(ctx, &locks, "SELECT stream FROM stream_locks ORDER BY stream"))
	var streams []string
	for _, g := range s.groups {
		streams = append(streams, g.Stream())
		require.Equal(t, 2000.0, testkit.Metric(t, reg, "adly_worker_events_counted_total", "stream", g.Stream()), "shard %s", g.Stream())
		rows, err := s.ledgers[len(streams)-1].LedgerRows(ctx)
		require.NoError(t, err)
		require.Positive(t, rows, "shard %s has its own ledger rows", g.Stream())
	}
	require.ElementsMatch(t, streams, locks, "one lock row per shard")
}

// A replay of a sharded kind recounts exactly: the daily rows are cleared once and every shard recounts its
// own entries. Replaying the shards one after another instead (each under its own lock, the workers
// running) loses counts: a shard's replay clears the rows another shard has already recounted into, and
// nothing counts those entries again.
func TestShardedReplayRecountsExactly(t *testing.T) {
	t.Parallel()
	s := newSingleNodeShards(t, 3)
	want, wantFiltered := s.publish(t, withReasons(threeDays(6000, 17), "", "", "", "prefetch"), time.UTC)
	s.run(t, testOptions("a"))
	s.run(t, testOptions("b"))
	s.drained(t, 30*time.Second)
	requireCounts(t, want, s.counts(t))

	for _, from := range []string{"2026-11-20", "2026-11-19", "2026-11-21"} {
		res := s.replay(t, from)
		require.Positive(t, res.ClearedRows)
		require.Len(t, res.Shards, 3)
		for _, sh := range res.Shards {
			require.Equal(t, res.Plan.ClearFrom, sh.Plan.ClearFrom)
		}
		s.drained(t, 30*time.Second)
		requireCounts(t, want, s.counts(t))
		requireCounts(t, wantFiltered, s.filteredCounts(t))
	}
}

// Replays while events keep arriving on every shard and two processes count them: exact at the end.
func TestShardedReplayWhileCounting(t *testing.T) {
	t.Parallel()
	s := newSingleNodeShards(t, 3)
	opts := testOptions("a")
	opts.BatchSize = 200
	s.run(t, opts)
	opts.Consumer = "b"
	s.run(t, opts)
	want, wantFiltered := map[key]int64{}, map[fkey]int64{}
	dates := []string{"2026-11-19", "2026-11-20", "2026-11-21"}
	for round := range 12 {
		v, f := s.publish(t, withReasons(threeDays(900, 11), "", "", "headless"), time.UTC)
		for k, n := range v {
			want[k] += n
		}
		for k, n := range f {
			wantFiltered[k] += n
		}
		s.replay(t, dates[round%3])
	}
	s.drained(t, 30*time.Second)
	requireCounts(t, want, s.counts(t))
	requireCounts(t, wantFiltered, s.filteredCounts(t))
}

// Shards whose counts were dated in zones that put the replay's first cleared date on different days
// cannot be replayed together: the replay refuses and changes nothing.
func TestShardedReplayRefusesDisagreeingZones(t *testing.T) {
	t.Parallel()
	s := newSingleNodeShards(t, 2)
	ctx := context.Background()
	ts := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC).Unix()
	for i, zone := range []string{"UTC", "America/New_York"} {
		require.NoError(t, s.groups[i].Ensure(ctx))
		id := fmt.Sprintf("%d-1", ts*1000)
		require.NoError(t, s.client.XAdd(ctx, &redis.XAddArgs{Stream: s.groups[i].Stream(), ID: id, Values: []any{"ad_id", 1, "ts", ts}}).Err())
		e := ledger.Entry{ID: streamid.MustParse(id), AdID: 1, TS: ts, Date: "2026-11-20"}
		_, err := s.ledgers[i].Commit(ctx, ledger.Batch{Entries: []ledger.Entry{e}, Zone: zone})
		require.NoError(t, err)
	}
	_, err := ReplayShards(ctx, s.groupList(), s.ledgers, "2026-11-20", time.UTC)
	require.ErrorIs(t, err, ErrReplayImpossible)
	require.ErrorContains(t, err, "dated in another zone")
	requireCounts(t, map[key]int64{{1, "2026-11-20"}: 2}, s.counts(t))
	var replays int
	require.NoError(t, s.db.GetContext(ctx, &replays, "SELECT COUNT(*) FROM stream_replays"))
	require.Zero(t, replays)
}

// SIGTERM (the context's end) while every shard has a batch in hand: each shard's batch is committed and
// acknowledged before Run returns.
func TestShardsShutdownFinishesEveryBatch(t *testing.T) {
	t.Parallel()
	s := newSingleNodeShards(t, 3)
	want, _ := s.publish(t, withReasons(threeDays(3000, 7), ""), time.UTC)
	shutdown, beginShutdown := context.WithCancel(context.Background())
	defer beginShutdown()
	var mu sync.Mutex
	entered := 0
	all := make(chan struct{})
	opts := testOptions("a")
	opts.Hooks.BeforeCommit = func() {
		mu.Lock()
		if entered++; entered == len(s.groups) {
			close(all)
		}
		mu.Unlock()
		<-shutdown.Done() // every shard's first batch waits for the shutdown
	}
	w := NewShards(s.client, s.db, ledger.Impressions, Impressions.Streams(s.names), s.names.ImpressionGroup(), zaptest.NewLogger(t), prometheus.NewRegistry(), opts)
	done := make(chan struct{})
	go func() { _ = w.Run(shutdown); close(done) }()
	select {
	case <-all:
	case <-time.After(20 * time.Second):
		t.Fatal("not every shard reached its first commit")
	}
	beginShutdown()
	<-done
	ctx := context.Background()
	for _, g := range s.groups {
		info, err := g.Info(ctx)
		require.NoError(t, err)
		require.Zero(t, info.Pending, "%s: the batch in hand was acknowledged before the worker stopped", g.Stream())
	}
	requireCounts(t, want, s.counts(t)) // each shard's 1000 entries were its one batch
	require.EqualValues(t, len(s.groups), entered, "one batch per shard, then nothing more was read")
}
