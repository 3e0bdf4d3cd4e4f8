package worker

import (
	"adly/pkg/ledger"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// A replay after a TIMEZONE change (the README's documented use) recounts exactly: every date from --from on
// holds exactly the events of that date in the new zone, every event is counted once, and dates more than a
// day before --from keep what they had. Events sit on both sides of the midnights of UTC, Berlin and New York.
func TestReplayAfterZoneChange(t *testing.T) {
	t.Parallel()
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	newYork, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	type step struct {
		loc  *time.Location
		from string
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"UTC to Berlin to New York", []step{{berlin, "2026-11-20"}, {newYork, "2026-11-20"}}},
		{"UTC to New York to Berlin, reaching back", []step{{newYork, "2026-11-21"}, {berlin, "2026-11-19"}}},
		{"UTC to Berlin, twice", []step{{berlin, "2026-11-20"}, {berlin, "2026-11-21"}}},
		{"UTC to New York to UTC", []step{{newYork, "2026-11-19"}, {time.UTC, "2026-11-20"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			events := e.publishAround(t)
			stop, _ := e.start(t, testOptions("utc"))
			e.drained(t, 20*time.Second)
			requireCounts(t, datedIn(events, time.UTC, func(string) bool { return true }), e.counts(t))
			stop()
			for i, s := range tt.steps {
				before := e.counts(t)
				opts := testOptions("w" + string(rune('a'+i)))
				opts.Location = s.loc
				stop, _ := e.start(t, opts) // the workers run in the new zone, then the replay
				_, err := Replay(ctx, e.group, e.counter, s.from, s.loc)
				require.NoError(t, err)
				e.drained(t, 20*time.Second)
				stop()
				got := e.counts(t)
				dayBefore := prevDay(t, s.from)
				fromOn := map[key]int64{}
				perAd := map[int64]int64{}
				for k, n := range got {
					perAd[k.ad] += n
					if k.date >= s.from {
						fromOn[k] = n
					}
				}
				old := 0
				for k, n := range before {
					if k.date < dayBefore {
						old++
						require.Equal(t, n, got[k], "%s: %d/%s is more than a day before --from: unchanged", s.loc, k.ad, k.date)
					}
				}
				require.Positive(t, old, "the case has days more than a day before --from")
				requireCounts(t, datedIn(events, s.loc, func(d string) bool { return d >= s.from }), fromOn)
				wantPerAd := map[int64]int64{}
				for _, ev := range events {
					wantPerAd[ev.ad]++
				}
				require.Equal(t, wantPerAd, perAd, "%s from %s: every event counted once", s.loc, s.from)
			}
		})
	}
}

type tsEvent struct {
	ad int64
	ts int64
}

// publishAround publishes events a few minutes and a few hours either side of the UTC, Berlin (23:00 UTC)
// and New York (05:00 UTC) midnights of 2026-11-17 to 2026-11-23, and at noon.
func (e *env) publishAround(t *testing.T) []tsEvent {
	t.Helper()
	var out []tsEvent
	pipe := e.client.Pipeline()
	offsets := []time.Duration{-2 * time.Hour, -5 * time.Minute, 5 * time.Minute, 2 * time.Hour}
	for day := 17; day <= 23; day++ {
		midnight := time.Date(2026, 11, day, 0, 0, 0, 0, time.UTC)
		for _, edge := range []time.Duration{-time.Hour, 0, 5 * time.Hour, 12 * time.Hour} {
			for _, off := range offsets {
				ts := midnight.Add(edge + off).Unix()
				ev := tsEvent{ad: int64(len(out)%3 + 1), ts: ts}
				out = append(out, ev)
				pipe.XAdd(context.Background(), &redis.XAddArgs{Stream: e.group.Stream(), Values: []any{"ad_id", ev.ad, "ts", ev.ts}})
			}
		}
	}
	_, err := pipe.Exec(context.Background())
	require.NoError(t, err)
	return out
}

// datedIn counts events per (ad, date in loc), for the dates keep accepts.
func datedIn(events []tsEvent, loc *time.Location, keep func(string) bool) map[key]int64 {
	out := map[key]int64{}
	for _, ev := range events {
		if d := DateOf(ev.ts, loc); keep(d) {
			out[key{ev.ad, d}]++
		}
	}
	return out
}

func prevDay(t *testing.T, date string) string {
	t.Helper()
	d, err := time.Parse(time.DateOnly, date)
	require.NoError(t, err)
	return d.AddDate(0, 0, -1).Format(time.DateOnly)
}

// A replay moves the group back to the middle of the stream while a batch is still pending further on; a
// trim keeping nothing consumed (RETAIN_ENTRIES=0) runs before any worker re-reads. It must keep every entry
// from the reset point on, not only those from the oldest pending one: the counts come out exact.
func TestTrimAfterReplayKeepsWhatTheReplayNeeds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	// Stream IDs follow the events' times, so the reset point of a replay falls inside the stream.
	var events []tsEvent
	pipe := e.client.Pipeline()
	start := time.Date(2026, 11, 19, 0, 0, 0, 0, time.UTC).Unix()
	for i := range 3000 {
		ev := tsEvent{ad: int64(i%7 + 1), ts: start + int64(i)*86 /* three days */}
		events = append(events, ev)
		pipe.XAdd(ctx, &redis.XAddArgs{Stream: e.group.Stream(), ID: fmt.Sprintf("%d-1", ev.ts*1000), Values: []any{"ad_id", ev.ad, "ts", ev.ts}})
	}
	_, err := pipe.Exec(ctx)
	require.NoError(t, err)
	stop, _ := e.start(t, testOptions("a"))
	e.drained(t, 20*time.Second)
	stop()

	late := e.publishAround(t) // IDs of now: after all the others
	events = append(events, late...)
	held, err := e.group.Read(ctx, "slow", ">", len(late), -1)
	require.NoError(t, err)
	require.Len(t, held, len(late))
	res, err := Replay(ctx, e.group, e.counter, "2026-11-20", time.UTC)
	require.NoError(t, err)
	require.NotEqual(t, "0-0", res.ResetTo, "the reset point is inside the stream")

	_, reason, err := e.group.Trim(ctx, 0, 100000)
	require.NoError(t, err)
	kept, err := e.client.XRangeN(ctx, e.group.Stream(), "("+res.ResetTo, "+", 1).Result()
	require.NoError(t, err)
	require.NotEmpty(t, kept)
	require.Less(t, kept[0].ID, held[0].RawID, "entries between the reset point and the oldest pending one are kept (%s)", reason)

	slow := newWorkerFor(t, e, "slow")
	require.NoError(t, slow.handle(ctx, slow.prepare(held, false), []ledger.Range{span(held)}))
	e.start(t, testOptions("b"))
	e.drained(t, 20*time.Second)
	requireCounts(t, datedIn(events, time.UTC, func(string) bool { return true }), e.counts(t))
}

// Workers that counted in two zones at once (different TIMEZONE, before any replay) leave rows no replay can
// tell apart: the replay refuses, says how to proceed, and changes nothing.
func TestReplayRefusesAfterCountingInSeveralZones(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	newYork, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	e.publishAround(t)
	require.NoError(t, e.group.Ensure(ctx))
	for _, loc := range []*time.Location{time.UTC, berlin, time.UTC, berlin} { // two workers, two zones
		msgs, err := e.group.Read(ctx, loc.String(), ">", 30, -1)
		require.NoError(t, err)
		require.NotEmpty(t, msgs)
		var entries []ledger.Entry
		for _, m := range msgs {
			en, reason := parseEntry(m, loc, nil)
			require.Empty(t, reason)
			entries = append(entries, en)
		}
		_, err = e.counter.Commit(ctx, ledger.Batch{Entries: entries, Ranges: []ledger.Range{span(msgs)}, Zone: loc.String()})
		require.NoError(t, err)
		require.NoError(t, e.group.Ack(ctx, ids(msgs)))
	}
	before := e.counts(t)
	info, err := e.group.Info(ctx)
	require.NoError(t, err)

	_, err = Replay(ctx, e.group, e.counter, "2026-11-20", newYork)
	require.ErrorIs(t, err, ErrReplayImpossible)
	require.ErrorContains(t, err, "several zones (Europe/Berlin, UTC")
	require.ErrorContains(t, err, "run every worker with TIMEZONE=America/New_York")
	require.Equal(t, before, e.counts(t), "nothing cleared")
	after, err := e.group.Info(ctx)
	require.NoError(t, err)
	require.Equal(t, info.LastDelivered, after.LastDelivered, "the group was not moved")

	_, err = Replay(ctx, e.group, e.counter, "2026-11-20", berlin)
	require.NoError(t, err, "the workers moving from UTC to Berlin is the documented change")
}
