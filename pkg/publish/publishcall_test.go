package publish

import (
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
		p := &Publisher{names: keyspace.NewNames(""), cluster: cluster, tokenPrefix: "t", receiptTTL: 2 * time.Second}
		pd := &pending{events: events, ts: 7}
		calls := p.build([]*pending{pd}, 1000)
		entries, hits := 0, 0
		for _, c := range calls {
			require.Equal(t, int64(1000), c.args[0], "cutoff")
			require.Equal(t, c.nx, c.args[1], "ARGV[2] is the number of stream entries")
			receipt := c.keys[len(c.keys)-1]
			require.Equal(t, c.receipt, receipt, "the receipt is the last key")
			require.Equal(t, int64(2000), c.args[len(c.args)-1], "and its lifetime the last argument")
			for i, k := range c.keys {
				if cluster {
					require.Equal(t, keyspace.Slot(c.keys[0]), keyspace.Slot(k), "one slot per call, the receipt's included")
				}
				if i == len(c.keys)-1 {
					continue
				}
				if i < c.nx {
					require.Contains(t, []string{"impressions_stream", "clicks_stream"}, k, "stream entries first")
				} else {
					require.Equal(t, "analytics:hit:/a", k)
					nr := c.args[2].(int)
					require.Equal(t, 2, c.args[3+2*nr+i], "two hits on one path are one INCRBY 2")
				}
			}
			entries += c.nx
			hits += len(c.keys) - 1 - c.nx
		}
		require.Equal(t, 3, entries)
		require.Equal(t, 1, hits)
		if cluster {
			require.Len(t, calls, 3, "three keys, three slots")
		} else {
			require.Len(t, calls, 1)
			require.Equal(t, []any{int64(1000), 3, 1, int64(7), 3, int64(1), int64(2), int64(3), 2, int64(2000)}, calls[0].args,
				"cutoff, 3 entries, 1 ts run (ts 7 for 3 entries), the ad_ids, the hit increment, the receipt's lifetime")
			require.Equal(t, "adly:receipt:t:1", calls[0].receipt)
		}
	}
}

// Requests of one flush whose ts differ get one run each.
func TestBuildScriptCallsTSRuns(t *testing.T) {
	p := &Publisher{names: keyspace.NewNames(""), receiptTTL: time.Second}
	imp := func(id int64) event.Event { return event.Event{Type: event.Impression, AdID: id} }
	live := []*pending{
		{events: []event.Event{imp(1), imp(2)}, ts: 7},
		{events: []event.Event{imp(3)}, ts: 7},
		{events: []event.Event{imp(4), {Type: event.Hit, Path: "/x"}}, ts: 8},
		{events: []event.Event{imp(5)}, ts: 7},
	}
	calls := p.build(live, 1000)
	require.Len(t, calls, 1)
	require.Equal(t, []any{int64(1000), 5, 3, int64(7), 3, int64(8), 1, int64(7), 1,
		int64(1), int64(2), int64(3), int64(4), int64(5), 1, int64(1000)}, calls[0].args)
}
