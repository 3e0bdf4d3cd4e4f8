package worker

import (
	"context"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"adly/pkg/ledger"
	"adly/pkg/stream"
	"adly/pkg/streamid"
	"adly/pkg/testkit"
)

// mixReasons is a mix of valid traffic ("") and filtered traffic: the API's reasons, one it may add later,
// and the longest reason the contract allows.
var mixReasons = []string{"", "crawler", "prefetch", "", "link_preview", "no_user_agent", "headless", "", "non_browser",
	"a_rule_added_later_2", strings.Repeat("z", 32)}

// Entries with ivt are counted per (ad_id, date, reason) in the filtered table, the others in the daily
// table as before: neither table holds the other's entries.
func TestCountsFilteredTrafficBesideValidTraffic(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	valid, filtered := e.publishTraffic(t, withReasons(threeDays(6000, 7), mixReasons...), time.UTC)
	require.Len(t, filtered, 7*3*8, "every filtered reason on every ad and date")
	_, reg := e.start(t, testOptions("a"))
	e.drained(t, 20*time.Second)
	requireCounts(t, valid, e.counts(t))
	requireCounts(t, filtered, e.filteredCounts(t))
	require.Equal(t, 6000.0, testkit.Metric(t, reg, "adly_worker_events_counted_total"))
	var nFiltered int64
	for _, n := range filtered {
		nFiltered += n
	}
	require.Equal(t, float64(nFiltered), testkit.Metric(t, reg, "adly_worker_events_filtered_total"))
	require.Zero(t, e.client.XLen(context.Background(), stream.DeadLetterStream(e.group.Stream())).Val())
}

// An ivt that is not a reason token makes the entry poison: it is dead-lettered and counted nowhere.
func TestMalformedFilterReasonIsDeadLettered(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	valid, filtered := e.publishTraffic(t, withReasons(threeDays(30, 2), "", "crawler"), time.UTC)
	bad := []string{"Crawler!", "", strings.Repeat("x", 40), strings.Repeat("x", 33), "9lives", "_crawler", "crawler ",
		"bot-net", "crawler\n", "ünicode"}
	for _, ivt := range bad {
		require.NoError(t, e.client.XAdd(ctx, &redis.XAddArgs{Stream: e.group.Stream(), Values: []any{"ad_id", 1, "ts", 1795300000, "ivt", ivt}}).Err())
	}
	moreValid, moreFiltered := e.publishTraffic(t, withReasons(threeDays(30, 2), "prefetch", ""), time.UTC)
	for k, n := range moreValid {
		valid[k] += n
	}
	for k, n := range moreFiltered {
		filtered[k] += n
	}
	_, reg := e.start(t, testOptions("a"))
	e.drained(t, 10*time.Second)
	requireCounts(t, valid, e.counts(t))
	requireCounts(t, filtered, e.filteredCounts(t))

	dead, err := e.client.XRange(ctx, stream.DeadLetterStream(e.group.Stream()), "-", "+").Result()
	require.NoError(t, err)
	require.Len(t, dead, len(bad))
	for i, d := range dead {
		require.Equal(t, bad[i], d.Values["field:ivt"], "the dead letter keeps the original fields")
		require.Contains(t, d.Values["reason"], "malformed ivt ")
	}
	require.Equal(t, `malformed ivt "Crawler!": want a reason token [a-z][a-z0-9_]{0,31}`, dead[0].Values["reason"])
	require.Equal(t, float64(len(bad)), testkit.Metric(t, reg, "adly_worker_dead_lettered_total", "reason", "poison"))
	require.Equal(t, 60.0, testkit.Metric(t, reg, "adly_worker_events_counted_total"))
}

// A replay clears the filtered rows of the dates it recounts too, so they are recounted, not doubled.
func TestReplayRecountsFilteredTrafficExactly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	valid, filtered := e.publishTraffic(t, withReasons(threeDays(6000, 17), mixReasons...), time.UTC)
	e.start(t, testOptions("a"))
	e.drained(t, 20*time.Second)
	requireCounts(t, valid, e.counts(t))
	requireCounts(t, filtered, e.filteredCounts(t))

	for range 2 { // twice: a second replay must be as exact as the first
		res, err := Replay(ctx, e.group, e.counter, "2026-11-20", time.UTC)
		require.NoError(t, err)
		require.Positive(t, res.ClearedRows)
		require.EqualValues(t, len(before(filtered, "2026-11-20", false)), res.ClearedFilteredRows, "the filtered rows of 11-20 and 11-21")
		e.drained(t, 20*time.Second)
		requireCounts(t, valid, e.counts(t))
		requireCounts(t, filtered, e.filteredCounts(t))
	}

	// The recount is real: clearing 11-21 without moving the group leaves both tables without that day only,
	// and a replay of it recounts both.
	_, err := e.counter.Replay(ctx, func(ledger.ZoneHistory) (ledger.ReplayPlan, error) {
		return ledger.ReplayPlan{ClearFrom: "2026-11-21", VoidFromMs: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC).UnixMilli(), Zone: "UTC"}, nil
	}, func(context.Context, ledger.ReplayPlan) error { return nil })
	require.NoError(t, err)
	keptValid := map[key]int64{}
	for k, n := range valid {
		if k.date < "2026-11-21" {
			keptValid[k] = n
		}
	}
	requireCounts(t, keptValid, e.counts(t))
	requireCounts(t, before(filtered, "2026-11-21", true), e.filteredCounts(t))
	_, err = Replay(ctx, e.group, e.counter, "2026-11-21", time.UTC)
	require.NoError(t, err)
	e.drained(t, 20*time.Second)
	requireCounts(t, valid, e.counts(t))
	requireCounts(t, filtered, e.filteredCounts(t))
}

// before is the filtered counts dated before day (keep), or from day on (!keep).
func before(counts map[fkey]int64, day string, keep bool) map[fkey]int64 {
	out := map[fkey]int64{}
	for k, n := range counts {
		if (k.date < day) == keep {
			out[k] = n
		}
	}
	return out
}

// The stream contract: ivt absent is valid traffic; a reason token is filtered traffic with that reason;
// anything else is poison.
func TestParseEntryFilterReason(t *testing.T) {
	ts := int64(1795300000)
	tests := []struct {
		name   string
		ivt    any // nil: no ivt field
		reason string
		poison string
	}{
		{name: "no ivt", ivt: nil},
		{name: "crawler", ivt: "crawler", reason: "crawler"},
		{name: "one letter", ivt: "a", reason: "a"},
		{name: "32 characters", ivt: strings.Repeat("a", 32), reason: strings.Repeat("a", 32)},
		{name: "digits and underscores", ivt: "rule_2_b", reason: "rule_2_b"},
		{name: "empty", ivt: "", poison: `malformed ivt "": want a reason token [a-z][a-z0-9_]{0,31}`},
		{name: "33 characters", ivt: strings.Repeat("a", 33), poison: "malformed ivt"},
		{name: "upper case", ivt: "Crawler", poison: `malformed ivt "Crawler"`},
		{name: "leading digit", ivt: "2fast", poison: "malformed ivt"},
		{name: "leading underscore", ivt: "_x", poison: "malformed ivt"},
		{name: "punctuation", ivt: "crawler!", poison: "malformed ivt"},
		{name: "long", ivt: strings.Repeat("b", 100), poison: `malformed ivt "` + strings.Repeat("b", 40) + `…"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			values := map[string]any{"ad_id": "12", "ts": fmt.Sprint(ts)}
			if tt.ivt != nil {
				values["ivt"] = tt.ivt
			}
			e, poison := parseEntry(stream.Message{Values: values}, time.UTC, nil)
			if tt.poison != "" {
				require.Contains(t, poison, tt.poison)
				require.Equal(t, ledger.Entry{}, e)
				return
			}
			require.Empty(t, poison)
			require.Equal(t, ledger.Entry{AdID: 12, TS: ts, Date: "2026-11-21", Reason: tt.reason}, e)
		})
	}
}

// The hand-written check is the contract's regular expression.
func TestFilterReasonCheckMatchesTheContract(t *testing.T) {
	contract := regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
	rng := rand.New(rand.NewPCG(9, 10))
	alphabet := []byte("az09_AZ-!. \n\x00\xff")
	for range 20000 {
		b := make([]byte, rng.IntN(36))
		for i := range b {
			if rng.IntN(4) == 0 {
				b[i] = alphabet[rng.IntN(len(alphabet))]
			} else {
				b[i] = byte('a' + rng.IntN(26))
			}
		}
		require.Equal(t, contract.MatchString(string(b)), validIVT(string(b)), "%q", b)
	}
}

// Parsing and preparing a read allocate nothing per entry, valid or filtered: a filtered entry read with '>'
// shares its reason with the others of its read.
func TestPrepareAllocatesNothingPerEntry(t *testing.T) {
	w := &Worker{opts: Options{Location: time.UTC}}
	msgs := func(n int, reasons ...string) []stream.Message {
		out := make([]stream.Message, n)
		for i := range out {
			v := map[string]any{"ad_id": fmt.Sprint(1 + i%50), "ts": "1795300000"}
			if r := reasons[i%len(reasons)]; r != "" {
				v["ivt"] = r
			}
			out[i] = stream.Message{ID: streamid.ID{Ms: uint64(i + 1)}, Values: v}
		}
		return out
	}
	for _, reasons := range [][]string{{""}, {"", "crawler", "prefetch"}} {
		one, many := msgs(10, reasons...), msgs(1000, reasons...)
		few := testing.AllocsPerRun(20, func() { w.prepare(one, false) })
		lots := testing.AllocsPerRun(20, func() { w.prepare(many, false) })
		require.Equal(t, few, lots, "reasons %q: allocations do not grow with the entries", reasons)
		m, dates := many[1], map[int64]string{1795300000 / 900: "2026-11-21"}
		require.Zero(t, testing.AllocsPerRun(100, func() { parseEntry(m, time.UTC, dates) }))
	}
}
