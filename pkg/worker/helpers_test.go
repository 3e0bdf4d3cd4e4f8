package worker

import (
	"adly/pkg/keyspace"
	"adly/pkg/ledger"
	"adly/pkg/stream"
	"adly/pkg/testkit"
	"context"
	"fmt"
	"maps"
	"strconv"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"
)

// env is one test's real Redis (own prefix) and real MariaDB (own database).
type env struct {
	kit     *testkit.Env
	client  redis.UniversalClient
	names   keyspace.Names
	group   *stream.Group // the first shard's
	counter *ledger.Counter
	groups  []*stream.Group // every shard's (one but with newShardedEnv)
	db      *sqlx.DB
	dbName  string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newShardedEnv(t, 1)
}

// newShardedEnv is newEnv with the impressions split over shards (STREAM_SHARDS=shards for the binaries).
func newShardedEnv(t *testing.T, shards int) *env {
	t.Helper()
	k := testkit.NewEnv(t)
	names := k.Names.WithShards(shards)
	e := &env{kit: k, client: k.Redis, names: names, db: k.DB, dbName: k.DBConfig.Name}
	for _, name := range Impressions.Streams(names) {
		e.groups = append(e.groups, stream.NewGroup(k.Redis, name, names.ImpressionGroup()))
	}
	e.group = e.groups[0]
	e.counter = ledger.NewCounter(k.DB, ledger.Impressions, e.group.Stream(), e.group.Name())
	return e
}

func testOptions(consumer string) Options {
	return Options{
		Consumer: consumer, BatchSize: 1000, MergeReads: 4, Block: 200 * time.Millisecond, Location: time.UTC,
		ClaimMinIdle: time.Hour, ClaimInterval: time.Hour, MaxDeliveries: 10, RetainEntries: 1000000,
		TrimInterval: time.Hour, DeadConsumerIdle: time.Hour, BatchTimeout: 10 * time.Second,
	}
}

// start runs a worker until the test ends (or stop is called) and returns its metrics registry.
func (e *env) start(t *testing.T, opts Options) (stop func(), reg *prometheus.Registry) {
	t.Helper()
	return e.startUnder(t, context.Background(), opts)
}

// startUnder is start with the worker's context derived from parent: cancelling parent begins the worker's
// shutdown, which stop then waits for.
func (e *env) startUnder(t *testing.T, parent context.Context, opts Options) (stop func(), reg *prometheus.Registry) {
	t.Helper()
	reg = prometheus.NewRegistry()
	w := New(e.group, e.counter, zaptest.NewLogger(t).Named(opts.Consumer), NewMetrics(reg, e.group.Stream(), e.group.Name()), opts)
	ctx, cancel := context.WithCancel(parent)
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

type key struct {
	ad   int64
	date string
}

// fkey is the key of a filtered count: (ad_id, date, reason).
type fkey struct {
	ad     int64
	date   string
	reason string
}

// traffic is one event to publish: its ad and date, and its ivt reason ("" for valid traffic).
type traffic struct {
	key
	reason string
}

// withReasons gives event i the reason reasons[i % len(reasons)] ("" is valid traffic).
func withReasons(events []key, reasons ...string) []traffic {
	out := make([]traffic, len(events))
	for i, ev := range events {
		out[i] = traffic{ev, reasons[i%len(reasons)]}
	}
	return out
}

// publish adds one entry per event with the given ts and returns the expected counts (UTC dates).
func (e *env) publish(t *testing.T, events []key, loc *time.Location) map[key]int64 {
	t.Helper()
	valid, _ := e.publishTraffic(t, withReasons(events, ""), loc)
	return valid
}

// publishTraffic is publish for valid and filtered traffic: entries with a reason carry it in the field
// ivt. It returns the expected counts of the daily table and of its filtered table.
func (e *env) publishTraffic(t *testing.T, events []traffic, loc *time.Location) (map[key]int64, map[fkey]int64) {
	t.Helper()
	valid, filtered := map[key]int64{}, map[fkey]int64{}
	pipe := e.client.Pipeline()
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
		pipe.XAdd(context.Background(), &redis.XAddArgs{Stream: e.group.Stream(), Values: values})
		if pipe.Len() == 1000 {
			_, err := pipe.Exec(context.Background())
			require.NoError(t, err)
		}
	}
	_, err := pipe.Exec(context.Background())
	require.NoError(t, err)
	return valid, filtered
}

// counts reads the daily table.
func (e *env) counts(t *testing.T) map[key]int64 {
	t.Helper()
	rows, err := e.counter.Counts(context.Background())
	require.NoError(t, err)
	got := map[key]int64{}
	for _, r := range rows {
		got[key{r.AdID, r.Date}] = r.Count
	}
	return got
}

// filteredCounts reads the daily table's filtered table.
func (e *env) filteredCounts(t *testing.T) map[fkey]int64 {
	t.Helper()
	rows, err := e.counter.FilteredCounts(context.Background())
	require.NoError(t, err)
	got := map[fkey]int64{}
	for _, r := range rows {
		got[fkey{r.AdID, r.Date, r.Reason}] = r.Count
	}
	return got
}

// drained waits until every entry ever added to each shard's stream was delivered to its group and none is
// pending (the entries themselves may be trimmed by then).
func (e *env) drained(t *testing.T, timeout time.Duration) {
	t.Helper()
	ctx := context.Background()
	groups := e.groups
	if len(groups) == 0 { // an env built by hand names its one group only
		groups = []*stream.Group{e.group}
	}
	require.Eventually(t, func() bool {
		for _, g := range groups {
			stream, err := e.client.XInfoStream(ctx, g.Stream()).Result()
			if err != nil || stream.EntriesAdded == 0 {
				return false
			}
			info, err := g.Info(ctx)
			if err != nil || info.Pending != 0 || info.LastDelivered.String() != stream.LastGeneratedID {
				return false
			}
		}
		return true
	}, timeout, 20*time.Millisecond, "the group of every shard consumed and acknowledged everything")
}

func requireCounts[K comparable](t *testing.T, want, got map[K]int64) {
	t.Helper()
	if maps.Equal(want, got) {
		return
	}
	var diffs []string
	for k, w := range want {
		if got[k] != w {
			diffs = append(diffs, fmt.Sprintf("%v want %d got %d", k, w, got[k]))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%v unexpected %d", k, g))
		}
	}
	if len(diffs) > 10 {
		diffs = append(diffs[:10], strconv.Itoa(len(diffs)-10)+" more")
	}
	t.Fatalf("counts differ (%d keys wanted, %d got): %v", len(want), len(got), diffs)
}

func threeDays(n int, ads int64) []key {
	dates := []string{"2026-11-19", "2026-11-20", "2026-11-21"}
	out := make([]key, n)
	for i := range out {
		out[i] = key{ad: int64(i)%ads + 1, date: dates[i%3]}
	}
	return out
}
