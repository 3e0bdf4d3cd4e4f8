package rdb

import (
	"testing"

	"github.com/stretchr/testify/require"

	"adly/pkg/event"
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
		p := &Publisher{names: NewNames(""), cluster: cluster}
		pd := &pending{events: events, ts: 7}
		calls := p.build([]*pending{pd}, 1000)
		entries, hits := 0, 0
		for _, c := range calls {
			require.Equal(t, int64(1000), c.args[0], "cutoff")
			require.Equal(t, c.nx, c.args[1], "ARGV[2] is the number of stream entries")
			for i, k := range c.keys {
				if cluster {
					require.Equal(t, Slot(c.keys[0]), Slot(k), "one slot per call")
				}
				if i < c.nx {
					require.Contains(t, []string{"impressions_stream", "clicks_stream"}, k, "stream entries first")
				} else {
					require.Equal(t, "analytics:hit:/a", k)
					require.Equal(t, 2, c.args[2+2*c.nx+(i-c.nx)], "two hits on one path are one INCRBY 2")
				}
			}
			entries += c.nx
			hits += len(c.keys) - c.nx
		}
		require.Equal(t, 3, entries)
		require.Equal(t, 1, hits)
		if cluster {
			require.Len(t, calls, 3, "three keys, three slots")
		} else {
			require.Len(t, calls, 1)
			require.Equal(t, []any{int64(1000), 3, int64(1), int64(7), int64(2), int64(7), int64(3), int64(7), 2}, calls[0].args)
		}
	}
}
