package stream_test

import (
	"adly/pkg/stream"
	"adly/pkg/testkit"
	"context"
	"fmt"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// Trim keeps every entry a group still needs plus retain, whether the group is idle, holds pending entries or
// has a backlog of undelivered ones larger than the span cap. A backlog is counted by Redis (the group's lag),
// not by reading it, so trimming goes on during a backlog; only when Redis cannot tell the lag (after XGROUP
// SETID) are the needed entries read, and more than the cap postpones the trim.
func TestTrimKeepsWhatGroupsNeed(t *testing.T) {
	t.Parallel()
	const entries = 3000
	tests := []struct {
		name      string
		read      int // entries delivered to the consumer
		acked     int // the first acked of them
		setID     int // when > 0, XGROUP SETID to the setID-th entry afterwards (Redis no longer knows the lag)
		retain    int64
		cap       int64
		needed    int // entries from the oldest needed one to the end
		lagKnown  bool
		postponed bool
	}{
		{name: "backlog beyond the cap, a few pending", read: 500, acked: 490, cap: 50, needed: 2510, lagKnown: true},
		{name: "nothing pending, retain kept", read: 1000, acked: 1000, retain: 500, cap: 50, needed: 2000, lagKnown: true},
		{name: "everything consumed", read: entries, acked: entries, cap: 50, needed: 0, lagKnown: true},
		{name: "pending window beyond the cap", read: 100, acked: 0, cap: 50, needed: 3000, lagKnown: true, postponed: true},
		{name: "lag unknown, counted under the cap", read: 1000, acked: 1000, setID: 1500, cap: 100000, needed: 1500},
		{name: "lag unknown, beyond the cap", read: 1000, acked: 1000, setID: 1500, cap: 50, needed: 1500, postponed: true},
		// A replay moved the group back behind entries still pending (a batch in flight during the replay):
		// the group needs everything after its last delivered entry, which starts before its oldest pending one.
		{name: "moved back behind its pending entries", read: 1000, acked: 900, setID: 500, cap: 100000, needed: 2500},
		{name: "moved back behind its pending entries, beyond the cap", read: 1000, acked: 900, setID: 500, cap: 2000, needed: 2500, postponed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, names := testkit.Redis(t)
			ctx := context.Background()
			key := names.Prefix() + "trim_stream"
			ids := addEntries(t, client, key, entries)
			g := stream.NewGroup(client, key, "g")
			require.NoError(t, g.Ensure(ctx))
			if tt.read > 0 {
				msgs, err := g.Read(ctx, "c", ">", tt.read, -1)
				require.NoError(t, err)
				require.Len(t, msgs, tt.read)
			}
			require.NoError(t, g.Ack(ctx, ids[:tt.acked]))
			if tt.setID > 0 {
				require.NoError(t, g.SetID(ctx, ids[tt.setID-1]))
			}
			require.Equal(t, tt.lagKnown, lagKnown(t, client, key), "the case exercises the intended path")

			n, reason, err := g.Trim(ctx, tt.retain, tt.cap)
			require.NoError(t, err)
			length := client.XLen(ctx, key).Val()
			if tt.postponed {
				require.Zero(t, n)
				require.Contains(t, reason, fmt.Sprintf("still needs more than %d entries", tt.cap))
				require.EqualValues(t, entries, length)
				return
			}
			require.Positive(t, n, reason)
			require.EqualValues(t, entries-n, length)
			keep := int64(tt.needed) + tt.retain
			require.GreaterOrEqual(t, length, keep, "every needed entry and the retained ones are kept")
			require.Less(t, length, keep+200, "trimmed down to whole key nodes (100 entries each by default)")
			if tt.needed > 0 {
				kept := client.XRange(ctx, key, ids[entries-tt.needed], "+").Val()
				require.Len(t, kept, tt.needed)
			}
		})
	}
}

func addEntries(t *testing.T, c redis.UniversalClient, stream string, n int) []string {
	t.Helper()
	ctx := context.Background()
	pipe := c.Pipeline()
	cmds := make([]*redis.StringCmd, n)
	for i := range cmds {
		cmds[i] = pipe.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: []any{"ad_id", i + 1, "ts", 1700000000}})
	}
	_, err := pipe.Exec(ctx)
	require.NoError(t, err)
	ids := make([]string, n)
	for i, cmd := range cmds {
		ids[i] = cmd.Val()
	}
	return ids
}

// lagKnown tells whether XINFO GROUPS reports the group's lag (nil when Redis cannot tell it).
func lagKnown(t *testing.T, c redis.UniversalClient, stream string) bool {
	t.Helper()
	res, err := c.Do(context.Background(), "XINFO", "GROUPS", stream).Slice()
	require.NoError(t, err)
	require.Len(t, res, 1)
	g, ok := res[0].([]any)
	if !ok { // RESP3 answers a map
		m := res[0].(map[any]any)
		return m["lag"] != nil
	}
	for i := 0; i+1 < len(g); i += 2 {
		if g[i] == "lag" {
			return g[i+1] != nil
		}
	}
	t.Fatal("XINFO GROUPS has no lag field (Redis before 7.0?)")
	return false
}
