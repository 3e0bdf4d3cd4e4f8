package publish

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"adly/pkg/event"
	"adly/pkg/keyspace"
)

// The layout publish.lua expects, and one call per hash slot against a cluster (there is no Redis Cluster to
// test against here, so the grouping is checked on its own).
func TestBuildScriptCalls(t *testing.T) {
	events := []event.Event{
		{Type: event.Hit, Path: "/a"},
		{Type: event.Impression, AdID: 1},
		{Type: event.Click, AdID: 2},
		{Type: event.Hit, Path: "/a"},
		{Type: event.Impression, AdID: 3},
	}
	for _, cluster := range []bool{false, true} {
		p := &Publisher{names: keyspace.NewNames(""), cluster: cluster, tokenPrefix: "t", receiptTTL: 2 * time.Second,
			opts: PublisherOptions{EventIDTTL: 3 * time.Second}}
		pd := &pending{events: events, ts: 7, hits: true}
		calls := p.build([]*pending{pd}, 1000)
		entries, hits := 0, 0
		for _, c := range calls {
			nx := c.args[1].(int)
			nh := len(c.keys) - nx - 1
			require.Equal(t, int64(1000), c.args[0], "cutoff")
			require.Equal(t, c.nx, nx, "ARGV[2] is the number of stream entries")
			require.Equal(t, []any{int64(2000), 0}, c.args[3:5], "the receipt's lifetime; the plain layout")
			receipt := c.keys[len(c.keys)-1]
			require.Equal(t, c.receipt, receipt, "the receipt is the last key")
			for i, k := range c.keys {
				if cluster {
					require.Equal(t, keyspace.Slot(c.keys[0]), keyspace.Slot(k), "one slot per call, the receipt's included")
				}
				switch {
				case i < nx:
					require.Contains(t, []string{"impressions_stream", "clicks_stream"}, k, "stream entries first")
				case i < nx+nh:
					require.Equal(t, "analytics:hit:/a", k)
					require.Equal(t, 2, c.args[len(c.args)-1], "two hits on one path are one INCRBY 2")
				}
			}
			entries += nx
			hits += nh
		}
		require.Equal(t, 3, entries)
		require.Equal(t, 1, hits)
		if cluster {
			require.Len(t, calls, 3, "three keys, three slots")
		} else {
			require.Len(t, calls, 1)
			require.Equal(t, []any{int64(1000), 3, 1, int64(2000), 0, int64(7), 3, int64(1), int64(2), int64(3), 2}, calls[0].args,
				"cutoff, 3 entries, 1 ts run, the receipt's lifetime, the plain layout; the run (ts 7 for 3 entries), the ad_ids, the hit increment")
			require.Equal(t, "adly:receipt:t:1", calls[0].receipt)
		}
	}
}

// Requests of one flush whose ts differ get one run each.
func TestBuildScriptCallsTSRuns(t *testing.T) {
	p := &Publisher{names: keyspace.NewNames(""), receiptTTL: time.Second, opts: PublisherOptions{EventIDTTL: time.Second}}
	imp := func(id int64) event.Event { return event.Event{Type: event.Impression, AdID: id} }
	live := []*pending{
		{events: []event.Event{imp(1), imp(2)}, ts: 7},
		{events: []event.Event{imp(3)}, ts: 7},
		{events: []event.Event{imp(4), {Type: event.Hit, Path: "/x"}}, ts: 8, hits: true},
		{events: []event.Event{imp(5)}, ts: 7},
	}
	calls := p.build(live, 1000)
	require.Len(t, calls, 1)
	require.Equal(t, []any{int64(1000), 5, 3, int64(1000), 0, int64(7), 3, int64(8), 1, int64(7), 1,
		int64(1), int64(2), int64(3), int64(4), int64(5), 1}, calls[0].args)
}

// Entries with an event_id or ivt are special (a run of count 0 each, their ivt and event-id key after the
// groups' sizes); with a new-path budget, each request with hits is a group of its own after group 0, and
// the minute's budget key comes before the receipt. Against a cluster, the event-id and budget keys carry
// their call's slot.
func TestBuildSpecialEntriesAndGroups(t *testing.T) {
	const x, y = "0b7c6e0e-3f5d-4d6b-9a51-6f1f1b3f6a10", "AbCdEfGhIjKlMnOp"
	clock := time.Date(2026, 11, 22, 10, 0, 30, 0, time.UTC)
	minute := clock.Unix() / 60
	live := []*pending{
		{events: []event.Event{{Type: event.Hit, Path: "/a"}, {Type: event.Impression, AdID: 1, ID: x}}, ts: 7, hits: true},
		{events: []event.Event{{Type: event.Impression, AdID: 2}, {Type: event.Impression, AdID: 3, Invalid: "crawler"},
			{Type: event.Impression, AdID: 4}}, ts: 7},
		{events: []event.Event{{Type: event.Hit, Path: "/a", ID: y}, {Type: event.Hit, Path: "/b"}, {Type: event.Hit, Path: "/a"}}, ts: 7, hits: true},
		{events: []event.Event{{Type: event.Impression, AdID: 1, ID: x}}, ts: 7},
	}
	for _, cluster := range []bool{false, true} {
		p := &Publisher{names: keyspace.NewNames(""), cluster: cluster, tokenPrefix: "t", receiptTTL: time.Second,
			opts: PublisherOptions{EventIDTTL: time.Hour, NewPathsPerMinute: 5, Now: func() time.Time { return clock }}}
		calls := p.build(live, 1000)
		if cluster {
			for _, c := range calls {
				for _, k := range c.keys {
					require.Equal(t, c.slot, keyspace.Slot(k), "%s is in its call's slot", k)
				}
			}
			continue
		}
		require.Len(t, calls, 1)
		c := calls[0]
		require.Equal(t, []string{
			"impressions_stream", "impressions_stream", "impressions_stream", "impressions_stream", "impressions_stream",
			"analytics:hit:/a", "analytics:hit:/b",
			"adly:eid:" + x, "adly:eid:" + y,
			"adly:newpaths:" + strconv.FormatInt(minute, 10),
			"adly:receipt:t:1",
		}, c.keys, "group 0's entries (ads 2, 3, 4, 1), then group 1's (ad 1)")
		require.Equal(t, []any{int64(1000), 5, 5, int64(1000), 1, 2, 2, 2, int64(3600000), 5, budgetKeyTTL, // the extended layout
			int64(7), 1, int64(7), 0, int64(7), 1, int64(7), 0, int64(7), 0, // ad 2 plain, 3 special, 4 plain, 1 special, 1 special
			int64(2), int64(3), int64(4), int64(1), int64(1),
			2, 0, 1, 1, 0, 3, // group 0: 2 specials, no hits; group 1: 1 special, 1 hit item; group 2: 3 hit items
			"crawler", 0, "", 1, "", 1, // the specials' ivt and event-id index
			1, 1, 0, // group 1: /a
			1, 1, 2, 2, 1, 0, 1, 1, 0, // group 2: /a with y, /b, /a
		}, c.args)
		require.Equal(t, []ref{{live[1], 0}, {live[1], 1}, {live[1], 2}, {live[3], 0}, {live[0], 1}}, c.refs)
	}
}

// The layout of a flush of single impressions without event_id or ivt, the common case: its cost must not
// grow with the features that plain entries do not use.
func BenchmarkBuildPlainImpressions(b *testing.B) {
	p := &Publisher{names: keyspace.NewNames("bench:"), tokenPrefix: "t", receiptTTL: time.Second}
	live := make([]*pending, 256)
	for i := range live {
		live[i] = &pending{events: []event.Event{{Type: event.Impression, AdID: int64(i + 1)}}, ts: 1700000000}
	}
	b.ReportAllocs()
	for b.Loop() {
		p.build(live, 1000)
	}
}
