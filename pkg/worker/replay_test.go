package worker

import (
	"adly/pkg/ledger"
	"adly/pkg/stream"
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"
)

// Replay recounts the dates from --from on, exactly: not doubled, and entries of earlier dates that the
// reset re-delivers are not counted again.
func TestReplayRecountsExactly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	want := e.publish(t, threeDays(6000, 17), time.UTC) // dates 11-19, 11-20, 11-21; stream IDs are all "now"
	e.start(t, testOptions("a"))
	e.drained(t, 20*time.Second)
	requireCounts(t, want, e.counts(t))
	// Everything is acknowledged: a prune now must still keep what a replay needs (it once did not).
	newWorkerFor(t, e, "pruner").prune(ctx)

	for range 2 { // twice: a second replay must be as exact as the first
		res, err := Replay(ctx, e.group, e.counter, "2026-11-20", time.UTC)
		require.NoError(t, err)
		require.Positive(t, res.ClearedRows)
		e.drained(t, 20*time.Second)
		requireCounts(t, want, e.counts(t))
	}

	// The recount is real: a day whose counts were damaged is repaired by a replay.
	_, err := e.counter.Replay(ctx, func(ledger.ZoneHistory) (ledger.ReplayPlan, error) {
		return ledger.ReplayPlan{ClearFrom: "2026-11-21", VoidFromMs: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC).UnixMilli(), Zone: "UTC"}, nil
	}, func(context.Context, ledger.ReplayPlan) error { return nil }) // clear without moving the group
	require.NoError(t, err)
	kept := map[key]int64{}
	for k, n := range want {
		if k.date < "2026-11-21" {
			kept[k] = n
		}
	}
	requireCounts(t, kept, e.counts(t)) // only 11-21 was cleared: the days before are whole
	_, err = Replay(ctx, e.group, e.counter, "2026-11-21", time.UTC)
	require.NoError(t, err)
	e.drained(t, 20*time.Second)
	requireCounts(t, want, e.counts(t))
}

// A replay that happens while a batch is in flight counts that batch once, whichever side of the replay
// its commit lands on.
func TestReplayWithBatchInFlight(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	want := e.publish(t, threeDays(3000, 5), time.UTC)
	stop, _ := e.start(t, testOptions("a"))
	e.drained(t, 20*time.Second)
	stop()

	more := e.publish(t, threeDays(1500, 5), time.UTC)
	for k, n := range more {
		want[k] += n
	}
	msgs, err := e.group.Read(ctx, "slow", ">", 700, -1) // in flight: read before the replay...
	require.NoError(t, err)
	require.Equal(t, 700, len(msgs))
	_, err = Replay(ctx, e.group, e.counter, "2026-11-19", time.UTC)
	require.NoError(t, err)
	slow := newWorkerFor(t, e, "slow") // ...committed after it, through the worker's own code path
	require.NoError(t, slow.handle(ctx, slow.prepare(msgs, false), []ledger.Range{span(msgs)}))
	e.start(t, testOptions("b"))
	e.drained(t, 20*time.Second)
	requireCounts(t, want, e.counts(t))
}

func TestReplayRefusesWhenTheEntriesAreGone(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.publish(t, threeDays(300, 3), time.UTC)
	e.start(t, testOptions("a"))
	e.drained(t, 10*time.Second)
	require.NoError(t, e.client.XTrimMaxLen(ctx, e.group.Stream(), 10).Err()) // entries of today are gone

	today := time.Now().UTC().Format(time.DateOnly)
	_, err := Replay(ctx, e.group, e.counter, today, time.UTC)
	require.ErrorIs(t, err, ErrReplayImpossible)
	require.ErrorContains(t, err, "no longer holds all its entries")
	_, err = Replay(ctx, e.group, e.counter, "21-11-2026", time.UTC)
	require.ErrorIs(t, err, ErrReplayImpossible)

	tomorrow := time.Now().UTC().Add(48 * time.Hour).Format(time.DateOnly)
	_, err = Replay(ctx, e.group, e.counter, tomorrow, time.UTC)
	require.NoError(t, err, "nothing of that date was trimmed")
}

func TestTrimKeepsEverythingUnconsumed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	_, _, err := e.group.Trim(ctx, 0, 100000)
	require.NoError(t, err, "no stream yet")
	e.publish(t, threeDays(5000, 3), time.UTC)
	n, reason, err := e.group.Trim(ctx, 0, 100000)
	require.NoError(t, err)
	require.Zero(t, n, "without a consumer group nothing is consumed, so nothing is trimmed: %s", reason)

	stop, _ := e.start(t, testOptions("a"))
	e.drained(t, 20*time.Second)
	stop()
	pendingMsgs, err := e.group.Read(ctx, "holder", ">", 1, -1)
	require.NoError(t, err)
	require.Empty(t, pendingMsgs)
	e.publish(t, threeDays(300, 3), time.UTC)
	held, err := e.group.Read(ctx, "holder", ">", 100, -1) // 100 pending, 200 undelivered
	require.NoError(t, err)
	require.Equal(t, 100, len(held))

	n, _, err = e.group.Trim(ctx, 1000, 100000)
	require.NoError(t, err)
	require.Positive(t, n)
	length := e.client.XLen(ctx, e.group.Stream()).Val()
	require.GreaterOrEqual(t, length, int64(1300), "1000 retained plus the 300 still needed")
	require.Less(t, length, int64(5300))
	first, err := e.client.XRangeN(ctx, e.group.Stream(), held[0].RawID, held[0].RawID, 1).Result()
	require.NoError(t, err)
	require.Len(t, first, 1, "the oldest pending entry is still there")

	n, _, err = e.group.Trim(ctx, 0, 100000)
	require.NoError(t, err)
	require.Positive(t, n, "retain 0 trims the retained entries")
	require.GreaterOrEqual(t, e.client.XLen(ctx, e.group.Stream()).Val(), int64(300), "retain 0 still keeps every entry a group needs")
	all, err := e.client.XRange(ctx, e.group.Stream(), held[0].RawID, "+").Result()
	require.NoError(t, err)
	require.Len(t, all, 300)

	n, reason, err = e.group.Trim(ctx, 0, 50)
	require.NoError(t, err)
	require.Zero(t, n)
	require.Contains(t, reason, "still needs more than 50 entries")
}

// Pruning keeps the ledger small and only drops rows no entry can come back to.
func TestPruneLedger(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.publish(t, threeDays(5000, 3), time.UTC)
	opts := testOptions("a")
	opts.BatchSize = 500
	stop, _ := e.start(t, opts)
	e.drained(t, 20*time.Second)
	stop()
	w := newWorkerFor(t, e, "holder")
	w.prune(ctx) // the worker prunes too (every minute, and at start), so only count after an explicit prune
	rows, err := e.counter.LedgerRows(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 10, rows, "all acknowledged, but still in the stream: a replay may re-deliver them")

	// Once the stream no longer holds those entries, their rows go.
	last, err := e.client.XRevRangeN(ctx, e.group.Stream(), "+", "-", 1).Result()
	require.NoError(t, err)
	require.NoError(t, e.client.XTrimMinID(ctx, e.group.Stream(), last[0].ID).Err())
	w.prune(ctx)
	rows, err = e.counter.LedgerRows(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 1, rows, "only the row of the batch holding the last entry is left")
	require.NoError(t, e.client.XTrimMaxLen(ctx, e.group.Stream(), 0).Err())
	w.prune(ctx)
	rows, err = e.counter.LedgerRows(ctx)
	require.NoError(t, err)
	require.Zero(t, rows)

	more := e.publish(t, threeDays(50, 3), time.UTC)
	require.NotEmpty(t, more)
	held, err := e.group.Read(ctx, "holder", ">", 50, -1)
	require.NoError(t, err)
	// Counted, not yet acknowledged: its row must survive pruning.
	var entries []ledger.Entry
	for _, m := range held {
		en, reason := parseEntry(m, time.UTC, nil)
		require.Empty(t, reason)
		entries = append(entries, en)
	}
	_, err = e.counter.Commit(ctx, ledger.Batch{Entries: entries, Ranges: []ledger.Range{span(held)}})
	require.NoError(t, err)

	require.NoError(t, e.client.XTrimMaxLen(ctx, e.group.Stream(), 0).Err()) // even trimmed away...
	w.prune(ctx)
	rows, err = e.counter.LedgerRows(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 1, rows, "...the row of the unacknowledged batch stays")

	require.NoError(t, e.group.Ack(ctx, ids(held)))
	w.prune(ctx)
	rows, err = e.counter.LedgerRows(ctx)
	require.NoError(t, err)
	require.Zero(t, rows)
}

func newWorkerFor(t *testing.T, e *env, consumer string) *Worker {
	t.Helper()
	return New(e.group, e.counter, zaptest.NewLogger(t), NewMetrics(prometheus.NewRegistry(), e.group.Stream(), e.group.Name()), testOptions(consumer))
}

func ids(msgs []stream.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.RawID
	}
	return out
}

// A replay moves the group back while a consumer still holds a read it has not committed; the same consumer
// reads the same entries again and both reads end up in one merged transaction: each entry counts once.
func TestReplayReReadBySameConsumerInOneBatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	want := e.publish(t, threeDays(600, 5), time.UTC)
	require.NoError(t, e.group.Ensure(ctx))
	first, err := e.group.Read(ctx, "slow", ">", 600, -1)
	require.NoError(t, err)
	_, err = Replay(ctx, e.group, e.counter, "2026-11-19", time.UTC)
	require.NoError(t, err)
	again, err := e.group.Read(ctx, "slow", ">", 600, -1)
	require.NoError(t, err)
	require.Len(t, again, 600, "the same entries, delivered again to the same consumer")
	slow := newWorkerFor(t, e, "slow")
	items := append(slow.prepare(first, false), slow.prepare(again, false)...)
	require.NoError(t, slow.handle(ctx, items, []ledger.Range{span(first), span(again)}))
	e.drained(t, 10*time.Second)
	requireCounts(t, want, e.counts(t))
}

// Item 4, same-consumer variant: a batch committed before a replay and acknowledged after it, by a consumer
// that meanwhile re-read the same entries (the replay moved the group back): the late XACK removes the
// re-delivered entries from the pending list — they are pending for this very consumer, so acknowledging
// only one's own pending entries does not help — and if the consumer dies before committing the re-read,
// nothing delivers them again.
func TestLateAckAfterReplayAcknowledgesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	want := e.publish(t, threeDays(600, 5), time.UTC)
	require.NoError(t, e.group.Ensure(ctx))
	a := newWorkerFor(t, e, "a")
	epoch, err := e.group.Epoch(ctx) // read before the commit, as handle does
	require.NoError(t, err)
	first, err := e.group.Read(ctx, "a", ">", 600, -1)
	require.NoError(t, err)
	var entries []ledger.Entry
	for _, it := range a.prepare(first, false) {
		entries = append(entries, it.ledgerEntry())
	}
	_, err = e.counter.Commit(ctx, ledger.Batch{Entries: entries, Ranges: []ledger.Range{span(first)}, Zone: "UTC"})
	require.NoError(t, err) // COMMIT ... (paused before XACK)
	_, err = Replay(ctx, e.group, e.counter, "2026-11-19", time.UTC)
	require.NoError(t, err)
	again, err := e.group.Read(ctx, "a", ">", 600, -1) // the same consumer reads them again
	require.NoError(t, err)
	require.Len(t, again, 600)
	require.ErrorIs(t, a.ack(ctx, epoch, ids(first)), stream.ErrReplayed, "the late XACK of the first batch is refused")
	// SIGKILL before the re-read is committed: another worker takes over.
	opts := testOptions("b")
	opts.ClaimMinIdle, opts.ClaimInterval = 100*time.Millisecond, 100*time.Millisecond
	e.start(t, opts)
	e.drained(t, 10*time.Second)
	requireCounts(t, want, e.counts(t))
}
