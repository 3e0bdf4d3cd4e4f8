package operator

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"adly/pkg/ledger"
	"adly/pkg/stream"
)

// counted publishes n impressions of ad 7 dated 2026-11-20 (their stream IDs are now) and one more of
// filtered traffic (a crawler's), reads them with the group and counts and acknowledges them, as a worker
// does.
func (e *env) counted(t *testing.T, n int) (*stream.Group, *ledger.Counter) {
	t.Helper()
	ctx := context.Background()
	g := stream.NewGroup(e.client, e.names.ImpressionsStream(), e.names.ImpressionGroup())
	for range n {
		require.NoError(t, e.client.XAdd(ctx, &redis.XAddArgs{Stream: g.Stream(), Values: map[string]any{"ad_id": "7", "ts": fmt.Sprint(day.Unix())}}).Err())
	}
	require.NoError(t, e.client.XAdd(ctx, &redis.XAddArgs{Stream: g.Stream(), Values: map[string]any{"ad_id": "7", "ts": fmt.Sprint(day.Unix()), "ivt": "crawler"}}).Err())
	require.NoError(t, g.Ensure(ctx))
	msgs, err := g.Read(ctx, "host-a", ">", n+1, -1)
	require.NoError(t, err)
	require.Len(t, msgs, n+1)
	b := ledger.Batch{Zone: "UTC", Ranges: []ledger.Range{{First: msgs[0].ID, Last: msgs[n].ID}}}
	ids := make([]string, 0, n+1)
	for i, m := range msgs {
		en := ledger.Entry{ID: m.ID, AdID: 7, TS: day.Unix(), Date: "2026-11-20"}
		if i == n {
			en.Reason = "crawler"
		}
		b.Entries = append(b.Entries, en)
		ids = append(ids, m.RawID)
	}
	c := ledger.NewCounter(e.db, ledger.Impressions, g.Stream(), g.Name())
	_, err = c.Commit(ctx, b)
	require.NoError(t, err)
	require.NoError(t, g.Ack(ctx, ids))
	return g, c
}

// state is what a replay could change: the daily rows, filtered or not, the group's position and the
// replays recorded.
type state struct {
	counts        []ledger.Count
	filtered      []ledger.FilteredCount
	lastDelivered string
	replays       int
}

func (e *env) state(t *testing.T, g *stream.Group, c *ledger.Counter) state {
	t.Helper()
	ctx := context.Background()
	counts, err := c.Counts(ctx)
	require.NoError(t, err)
	filtered, err := c.FilteredCounts(ctx)
	require.NoError(t, err)
	info, err := g.Info(ctx)
	require.NoError(t, err)
	var replays int
	require.NoError(t, e.db.Get(&replays, "SELECT COUNT(*) FROM stream_replays"))
	return state{counts: counts, filtered: filtered, lastDelivered: info.LastDelivered.String(), replays: replays}
}

func TestReplayRefuses(t *testing.T) {
	e := newEnv(t)
	e.setenv(t)
	g, c := e.counted(t, 5)
	before := e.state(t, g, c)
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"not a day", []string{"--kind", "impressions", "--from", "2026-02-30"},
			"adly replay: --from must be a real day as YYYY-MM-DD, got '2026-02-30'\nusage: adly replay --kind impressions|clicks --from YYYY-MM-DD\n"},
		{"not a date", []string{"--kind", "impressions", "--from", "20-11-2026"}, "--from must be a real day as YYYY-MM-DD, got '20-11-2026'"},
		{"no date", []string{"--kind", "impressions"}, "--from YYYY-MM-DD is required"},
		{"no kind", []string{"--from", "2026-11-20"}, "--kind must be impressions or clicks, got ''"},
		{"bad kind", []string{"--kind", "views", "--from", "2026-11-20"}, "--kind must be impressions or clicks, got 'views'"},
		{"extra argument", []string{"--kind", "impressions", "--from", "2026-11-20", "now"}, "unknown argument 'now'"},
		// The stream's entries of that date were trimmed: refused as impossible, nothing changed.
		{"trimmed", []string{"--kind", "impressions", "--from", "2026-11-19"}, "adly replay: cannot replay from 2026-11-19: the stream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "trimmed" {
				require.NoError(t, e.client.XTrimMaxLen(context.Background(), g.Stream(), 2).Err())
			}
			code, stdout, stderr := run(t, append([]string{"replay"}, tt.args...)...)
			require.Equal(t, 2, code, stderr)
			require.Empty(t, stdout)
			require.Contains(t, stderr, tt.stderr)
			require.Equal(t, before, e.state(t, g, c), "nothing written")
		})
	}
}

func TestReplayRecounts(t *testing.T) {
	e := newEnv(t)
	e.setenv(t)
	g, c := e.counted(t, 3)
	require.Equal(t, []ledger.Count{{AdID: 7, Date: "2026-11-20", Count: 3}}, e.state(t, g, c).counts)
	require.Equal(t, []ledger.FilteredCount{{AdID: 7, Date: "2026-11-20", Reason: "crawler", Count: 1}}, e.state(t, g, c).filtered)

	code, stdout, stderr := run(t, "replay", "--kind", "impressions", "--from", "2026-11-20")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "replay from 2026-11-20 (TIMEZONE=UTC): cleared 1 rows of ad_daily_impressions and 1 of ad_daily_impressions_filtered dated 2026-11-20 or later; "+
		"the events from 2026-11-20T00:00:00Z on are recounted by the running workers")
	require.Contains(t, stdout, "group impression_group on "+g.Stream()+" reset to ")

	after := e.state(t, g, c)
	require.Empty(t, after.counts, "the day's rows are cleared")
	require.Empty(t, after.filtered, "the day's filtered rows too")
	require.Equal(t, 1, after.replays)
	msgs, err := g.Read(context.Background(), "host-b", ">", 10, -1)
	require.NoError(t, err)
	require.Len(t, msgs, 4, "the group moved back: every entry is delivered again, to be recounted")

	// The clicks stream does not exist: the replay cannot read it and fails (status 1), as the worker's did.
	code, _, stderr = run(t, "replay", "--kind", "clicks", "--from", time.Now().UTC().Format(time.DateOnly))
	require.Equal(t, 1, code, stderr)
	require.Contains(t, stderr, "adly replay: ")
}
