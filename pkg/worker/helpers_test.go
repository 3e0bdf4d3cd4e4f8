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
	group   *stream.Group
	counter *ledger.Counter
	db      *sqlx.DB
	dbName  string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	k := testkit.NewEnv(t)
	streamName, group := k.Names.ImpressionsStream(), k.Names.ImpressionGroup()
	return &env{
		kit: k, client: k.Redis, names: k.Names,
		group:   stream.NewGroup(k.Redis, streamName, group),
		counter: ledger.NewCounter(k.DB, ledger.Impressions, streamName, group),
		db:      k.DB,
		dbName:  k.DBConfig.Name,
	}
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

// publish adds one entry per event with the given ts and returns the expected counts (UTC dates).
func (e *env) publish(t *testing.T, events []key, loc *time.Location) map[key]int64 {
	t.Helper()
	want := map[key]int64{}
	pipe := e.client.Pipeline()
	for i, ev := range events {
		ts, err := time.ParseInLocation(time.DateOnly, ev.date, loc)
		require.NoError(t, err)
		pipe.XAdd(context.Background(), &redis.XAddArgs{Stream: e.group.Stream(), Values: []any{"ad_id", ev.ad, "ts", ts.Unix() + int64(i%86000)}})
		want[key{ev.ad, DateOf(ts.Unix()+int64(i%86000), loc)}]++
		if pipe.Len() == 1000 {
			_, err := pipe.Exec(context.Background())
			require.NoError(t, err)
		}
	}
	_, err := pipe.Exec(context.Background())
	require.NoError(t, err)
	return want
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

// drained waits until every entry ever added to the stream was delivered to the group and none is pending
// (the entries themselves may be trimmed by then).
func (e *env) drained(t *testing.T, timeout time.Duration) {
	t.Helper()
	ctx := context.Background()
	require.Eventually(t, func() bool {
		stream, err := e.client.XInfoStream(ctx, e.group.Stream()).Result()
		if err != nil || stream.EntriesAdded == 0 {
			return false
		}
		info, err := e.group.Info(ctx)
		return err == nil && info.Pending == 0 && info.LastDelivered.String() == stream.LastGeneratedID
	}, timeout, 20*time.Millisecond, "the group consumed and acknowledged everything")
}

func requireCounts(t *testing.T, want, got map[key]int64) {
	t.Helper()
	if maps.Equal(want, got) {
		return
	}
	var diffs []string
	for k, w := range want {
		if got[k] != w {
			diffs = append(diffs, fmt.Sprintf("%d/%s want %d got %d", k.ad, k.date, w, got[k]))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%d/%s unexpected %d", k.ad, k.date, g))
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
