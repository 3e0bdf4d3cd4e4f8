package worker

import (
	"adly/pkg/stream"
	"adly/pkg/testkit"
	"context"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

func TestCountsEveryEntryOnceAcrossDates(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	want := e.publish(t, threeDays(5000, 37), time.UTC) // published before the group exists: counted from the start
	_, reg := e.start(t, testOptions("a"))
	e.drained(t, 20*time.Second)
	requireCounts(t, want, e.counts(t))
	require.Equal(t, 5000.0, testkit.Metric(t, reg, "adly_worker_events_counted_total"))
	require.Equal(t, 0.0, testkit.Metric(t, reg, "adly_worker_duplicates_skipped_total"))
}

func TestDateOf(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	require.NoError(t, err)
	ts := time.Date(2026, 11, 21, 2, 30, 0, 0, time.UTC).Unix() // 21:30 on the 20th in New York, 11:30 on the 21st in Tokyo
	tests := []struct {
		loc  *time.Location
		want string
	}{
		{time.UTC, "2026-11-21"},
		{ny, "2026-11-20"},
		{tokyo, "2026-11-21"},
	}
	for _, tt := range tests {
		t.Run(tt.loc.String(), func(t *testing.T) { require.Equal(t, tt.want, DateOf(ts, tt.loc)) })
	}
}

// The date is the event's ts in TIMEZONE, not the worker's clock nor the stream ID's.
func TestBucketsDatesInTheConfiguredTimezone(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	late := time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC).Unix() // 22:00 on the 20th in New York
	for range 3 {
		require.NoError(t, e.client.XAdd(context.Background(), &redis.XAddArgs{Stream: e.group.Stream(), Values: []any{"ad_id", 9, "ts", late}}).Err())
	}
	opts := testOptions("a")
	opts.Location = ny
	e.start(t, opts)
	e.drained(t, 10*time.Second)
	requireCounts(t, map[key]int64{{9, "2026-11-20"}: 3}, e.counts(t))
}

func TestPoisonEntriesAreDeadLetteredAndNeverBlockTheBatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	want := e.publish(t, threeDays(10, 2), time.UTC)
	bad := [][]any{
		{"ad_id", "abc", "ts", 1795300000},
		{"ts", 1795300000},
		{"ad_id", 5},
		{"ad_id", 5, "ts", "yesterday"},
		{"ad_id", 0, "ts", 1795300000},
	}
	for _, v := range bad {
		require.NoError(t, e.client.XAdd(ctx, &redis.XAddArgs{Stream: e.group.Stream(), Values: v}).Err())
	}
	for k, n := range e.publish(t, threeDays(10, 2), time.UTC) {
		want[k] += n
	}
	_, reg := e.start(t, testOptions("a"))
	e.drained(t, 10*time.Second)
	requireCounts(t, want, e.counts(t))

	dead, err := e.client.XRange(ctx, stream.DeadLetterStream(e.group.Stream()), "-", "+").Result()
	require.NoError(t, err)
	require.Len(t, dead, len(bad))
	reasons := map[string]bool{}
	for _, d := range dead {
		require.NotEmpty(t, d.Values["original_id"])
		reasons[d.Values["reason"].(string)] = true
	}
	require.True(t, reasons["missing ad_id"])
	require.True(t, reasons["missing ts"])
	require.True(t, reasons[`malformed ts "yesterday": want unix seconds`])
	require.Equal(t, float64(len(bad)), testkit.Metric(t, reg, "adly_worker_dead_lettered_total", "reason", "poison"))
}

// Entries delivered to a consumer that died are reclaimed by another and counted once.
func TestReclaimsEntriesOfADeadConsumer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	want := e.publish(t, threeDays(3000, 11), time.UTC)
	require.NoError(t, e.group.Ensure(ctx))
	msgs, err := e.group.Read(ctx, "dead-consumer", ">", 1200, -1) // delivered, never acknowledged
	require.NoError(t, err)
	require.Equal(t, 1200, len(msgs))

	opts := testOptions("b")
	opts.ClaimMinIdle, opts.ClaimInterval = 300*time.Millisecond, 100*time.Millisecond
	_, reg := e.start(t, opts)
	e.drained(t, 20*time.Second)
	requireCounts(t, want, e.counts(t))
	require.GreaterOrEqual(t, testkit.Metric(t, reg, "adly_worker_reclaimed_total"), 1200.0)
}

// A slow consumer whose batch is reclaimed and counted by another while it still works must not count it
// again when it finally commits.
func TestSlowConsumerReclaimedWhileWorkingCountsOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	want := e.publish(t, threeDays(2000, 7), time.UTC)

	var slowed atomic.Bool
	release := make(chan struct{})
	slow := testOptions("slow")
	slow.BatchSize = 500
	slow.Hooks.BeforeCommit = func() {
		if slowed.CompareAndSwap(false, true) {
			<-release // hold the first batch until the other consumer has counted it
		}
	}
	_, slowReg := e.start(t, slow)
	require.Eventually(t, slowed.Load, 5*time.Second, 10*time.Millisecond)

	fast := testOptions("fast")
	fast.ClaimMinIdle, fast.ClaimInterval = 300*time.Millisecond, 100*time.Millisecond
	_, fastReg := e.start(t, fast)
	testkit.Wait(t, 10*time.Second, func() bool { return testkit.Metric(t, fastReg, "adly_worker_reclaimed_total") >= 500 })
	close(release)

	// The slow consumer finishes its held batch and finds it already counted (its acknowledgement no longer
	// matters: the fast one acknowledged the entries). It counts the batches it had read ahead meanwhile,
	// which the fast one reclaimed too, as duplicates as well.
	testkit.Wait(t, 10*time.Second, func() bool {
		return testkit.Metric(t, slowReg, "adly_worker_duplicates_skipped_total") >= 500
	}, "the slow consumer skips its held batch as already counted")
	e.drained(t, 20*time.Second)
	requireCounts(t, want, e.counts(t))
}

// overDelivered adds one entry per ad and delivers each 1+claims times to consumer "x", as repeated failed
// commits would.
func (e *env) overDelivered(t *testing.T, claims int, ads ...int64) []string {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, e.group.Ensure(ctx))
	var ids []string
	for _, ad := range ads {
		id, err := e.client.XAdd(ctx, &redis.XAddArgs{Stream: e.group.Stream(), Values: []any{"ad_id", ad, "ts", 1795300000}}).Result()
		require.NoError(t, err)
		ids = append(ids, id)
	}
	_, err := e.group.Read(ctx, "x", ">", 10, -1)
	require.NoError(t, err)
	for range claims { // each claim is one more delivery
		require.NoError(t, e.client.XClaim(ctx, &redis.XClaimArgs{Stream: e.group.Stream(), Group: e.group.Name(), Consumer: "x", Messages: ids}).Err())
	}
	return ids
}

// An entry delivered more than MAX_DELIVERIES times whose data MariaDB accepts is counted, not dead-lettered:
// its deliveries may all have been failed commits during an outage.
func TestOverMaxDeliveriesIsCountedWhenItsDataIsGood(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.overDelivered(t, 4, 4)
	opts := testOptions("a")
	opts.MaxDeliveries = 3
	opts.ClaimMinIdle, opts.ClaimInterval = 50*time.Millisecond, 50*time.Millisecond
	_, reg := e.start(t, opts)
	e.drained(t, 5*time.Second)
	requireCounts(t, map[key]int64{{4, DateOf(1795300000, time.UTC)}: 1}, e.counts(t))
	require.Zero(t, testkit.Metric(t, reg, "adly_worker_dead_lettered_total", "reason", "max_deliveries"))
	require.Zero(t, e.client.XLen(context.Background(), stream.DeadLetterStream(e.group.Stream())).Val())
}

// An entry delivered more than MAX_DELIVERIES times whose data MariaDB rejects (SQLSTATE class 22) is
// dead-lettered; the rest of its batch, over the limit or not, is counted.
func TestOverMaxDeliveriesIsDeadLetteredWhenMariaDBRejectsItsData(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	// A narrower column than the schema's: ad 70000 is out of range (22003) for this test's table only.
	_, err := e.db.ExecContext(ctx, "ALTER TABLE ad_daily_impressions MODIFY ad_id SMALLINT UNSIGNED NOT NULL")
	require.NoError(t, err)
	ids := e.overDelivered(t, 4, 70000, 4)
	opts := testOptions("a")
	opts.MaxDeliveries = 3
	opts.ClaimMinIdle, opts.ClaimInterval = 50*time.Millisecond, 50*time.Millisecond
	_, reg := e.start(t, opts)
	e.drained(t, 5*time.Second)
	// Both were delivered too often; only the one MariaDB rejects is dead-lettered, the other is counted.
	requireCounts(t, map[key]int64{{4, DateOf(1795300000, time.UTC)}: 1}, e.counts(t))
	require.Equal(t, 1.0, testkit.Metric(t, reg, "adly_worker_dead_lettered_total", "reason", "max_deliveries"))
	dead, err := e.client.XRange(ctx, stream.DeadLetterStream(e.group.Stream()), "-", "+").Result()
	require.NoError(t, err)
	require.Len(t, dead, 1)
	require.Equal(t, ids[0], dead[0].Values["original_id"])
}

// Dead-lettering is once even when two consumers hold the same entry.
func TestDeadLetterIsWrittenOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	require.NoError(t, e.group.Ensure(ctx))
	require.NoError(t, e.client.XAdd(ctx, &redis.XAddArgs{Stream: e.group.Stream(), Values: []any{"ad_id", "bad", "ts", 1}}).Err())
	msgs, err := e.group.Read(ctx, "a", ">", 10, -1)
	require.NoError(t, err)
	first, err := e.group.DeadLetter(ctx, "a", msgs[0], "malformed")
	require.NoError(t, err)
	second, err := e.group.DeadLetter(ctx, "b", msgs[0], "malformed")
	require.NoError(t, err)
	require.True(t, first)
	require.False(t, second)
	require.EqualValues(t, 1, e.client.XLen(ctx, stream.DeadLetterStream(e.group.Stream())).Val())
}

func TestShutdownFinishesTheBatchInHand(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	want := e.publish(t, threeDays(1000, 3), time.UTC)
	entered := make(chan struct{})
	shutdown, beginShutdown := context.WithCancel(context.Background())
	defer beginShutdown()
	opts := testOptions("a")
	var once atomic.Bool
	opts.Hooks.BeforeCommit = func() {
		if once.CompareAndSwap(false, true) {
			close(entered)
			<-shutdown.Done() // the shutdown begins while the batch is in hand
		}
	}
	stop, _ := e.startUnder(t, shutdown, opts)
	<-entered
	beginShutdown()
	stop()
	requireCounts(t, want, e.counts(t))
	info, err := e.group.Info(context.Background())
	require.NoError(t, err)
	require.Zero(t, info.Pending, "the batch was acknowledged before the worker stopped")
}

func TestRemovesDeadConsumersOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.publish(t, threeDays(2, 1), time.UTC)
	require.NoError(t, e.group.Ensure(ctx))
	_, err := e.group.Read(ctx, "holds-entries", ">", 1, -1)
	require.NoError(t, err)
	_, err = e.group.Read(ctx, "idle-empty", ">", 1, -1)
	require.NoError(t, err)
	msgs, err := e.group.Read(ctx, "idle-empty", "0", 10, -1)
	require.NoError(t, err)
	require.NoError(t, e.group.Ack(ctx, []string{msgs[0].RawID}))
	testkit.Wait(t, 5*time.Second, func() bool {
		consumers, err := e.client.XInfoConsumers(ctx, e.group.Stream(), e.group.Name()).Result()
		require.NoError(t, err)
		for _, c := range consumers {
			if c.Idle <= 50*time.Millisecond {
				return false
			}
		}
		return len(consumers) == 2
	}, "both consumers idle for over 50ms")

	gone, err := e.group.DeleteIdleConsumer(ctx, "holds-entries", 50*time.Millisecond)
	require.NoError(t, err)
	require.False(t, gone, "a consumer with pending entries is never removed")
	gone, err = e.group.DeleteIdleConsumer(ctx, "idle-empty", time.Hour)
	require.NoError(t, err)
	require.False(t, gone, "not idle long enough")
	gone, err = e.group.DeleteIdleConsumer(ctx, "idle-empty", 50*time.Millisecond)
	require.NoError(t, err)
	require.True(t, gone)
}

// Pending entries whose data is gone (trimmed by someone else) are counted in a metric, not skipped silently,
// and leave the pending list.
func TestDeletedPendingEntriesAreCounted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.publish(t, threeDays(100, 3), time.UTC)
	require.NoError(t, e.group.Ensure(ctx))
	msgs, err := e.group.Read(ctx, "dead-consumer", ">", 100, -1)
	require.NoError(t, err)
	require.Equal(t, 100, len(msgs))
	require.NoError(t, e.client.XTrimMaxLen(ctx, e.group.Stream(), 0).Err()) // an operator's careless XTRIM

	opts := testOptions("b")
	opts.ClaimMinIdle, opts.ClaimInterval = 100*time.Millisecond, 100*time.Millisecond
	_, reg := e.start(t, opts)
	testkit.Wait(t, 10*time.Second, func() bool { return testkit.Metric(t, reg, "adly_worker_deleted_entries_total") == 100 })
	info, err := e.group.Info(ctx)
	require.NoError(t, err)
	require.Zero(t, info.Pending)
	require.Empty(t, e.counts(t))
}

// The per-quarter-hour date cache gives the same dates as DateOf, across midnight, in zones with odd offsets
// and across a DST change.
func TestCachedDateMatchesDateOf(t *testing.T) {
	for _, name := range []string{"UTC", "Asia/Kolkata", "Asia/Kathmandu", "America/New_York", "Australia/Lord_Howe"} {
		loc, err := time.LoadLocation(name)
		require.NoError(t, err)
		cache := map[int64]string{}
		start := time.Date(2026, 3, 7, 0, 0, 0, 0, time.UTC).Unix() // spans the US DST change of 2026-03-08
		for ts := start; ts < start+3*86400; ts += 37 {
			require.Equal(t, DateOf(ts, loc), cachedDate(ts, loc, cache), "%s at %d", name, ts)
		}
	}
}

// A valid entry in hand costs 56 bytes (its ts included: a replay voids by instant), plus its ID string on
// acknowledgement: that is what lets a backlog of MERGE_READS reads stay well under the memory target.
func TestItemSize(t *testing.T) {
	require.EqualValues(t, 56, unsafe.Sizeof(item{}))
}
