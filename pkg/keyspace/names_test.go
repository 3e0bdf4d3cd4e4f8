package keyspace

import (
	"path"
	"strings"

	"testing"

	"github.com/stretchr/testify/require"

	"adly/pkg/event"
)

func TestNames(t *testing.T) {
	tests := []struct {
		prefix                        string
		imps, clicks, hit, hitPattern string
	}{
		{prefix: "", imps: "impressions_stream", clicks: "clicks_stream", hit: "analytics:hit:/a", hitPattern: "analytics:hit[:{]*"},
		{prefix: "t1:", imps: "t1:impressions_stream", clicks: "t1:clicks_stream", hit: "t1:analytics:hit:/a", hitPattern: "t1:analytics:hit[:{]*"},
		{prefix: "a*[b]?:", imps: "a*[b]?:impressions_stream", clicks: "a*[b]?:clicks_stream", hit: "a*[b]?:analytics:hit:/a", hitPattern: `a\*\[b\]\?:analytics:hit[:{]*`},
	}
	for _, tt := range tests {
		t.Run(tt.prefix, func(t *testing.T) {
			n := NewNames(tt.prefix)
			require.Equal(t, tt.imps, n.ImpressionsStream())
			require.Equal(t, tt.imps, n.Stream(event.Impression))
			require.Equal(t, tt.clicks, n.ClicksStream())
			require.Equal(t, tt.clicks, n.Stream(event.Click))
			require.Empty(t, n.Stream(event.Hit))
			require.Equal(t, tt.hit, n.HitKey("/a"))
			require.Equal(t, tt.hitPattern, n.HitKeyPattern())
			for _, k := range []string{n.EventID("AbCdEfGhIjKlMnOp", ""), n.NewPaths(1, "")} {
				match, err := path.Match(n.HitKeyPattern(), k)
				require.NoError(t, err)
				require.False(t, match, "%s is not a path counter", k)
			}
			require.Equal(t, "impression_group", n.ImpressionGroup())
			require.Equal(t, "click_group", n.ClickGroup())
		})
	}
}

func TestSlot(t *testing.T) {
	// Reference values from the Redis Cluster specification and CLUSTER KEYSLOT.
	require.Equal(t, uint16(0x31C3), crc16("123456789"))
	require.Equal(t, uint16(12182), Slot("foo"))
	require.Equal(t, Slot("{user1000}.following"), Slot("{user1000}.followers"))
	require.Equal(t, Slot("foo{}{bar}"), crc16("foo{}{bar}")%16384, "an empty tag hashes the whole key")
	require.Equal(t, Slot("{shard1}impressions_stream"), Slot("shard1"))
}

func TestSlotTagPutsAKeyInItsSlot(t *testing.T) {
	names := NewNames("p:")
	for _, slot := range []uint16{0, 1, 866, 8000, 12182, 16383} {
		tag := SlotTag(slot)
		require.Equal(t, slot, Slot(names.Receipt("abc:1", tag)), "tag %q", tag)
		require.Equal(t, slot, Slot(names.EventID("0b7c6e0e-3f5d-4d6b-9a51-6f1f1b3f6a10", tag)), "tag %q", tag)
		require.Equal(t, slot, Slot(names.NewPaths(28333333, tag)), "tag %q", tag)
	}
	require.Equal(t, "p:adly:receipt:abc:1", names.Receipt("abc:1", ""))
	require.Equal(t, "p:adly:eid:AbCdEfGhIjKlMnOp", names.EventID("AbCdEfGhIjKlMnOp", ""))
	require.Equal(t, "p:adly:eid:{7}:AbCdEfGhIjKlMnOp", names.EventID("AbCdEfGhIjKlMnOp", "7"))
	require.Equal(t, "p:adly:newpaths:28333333", names.NewPaths(28333333, ""))
	require.Equal(t, "p:adly:newpaths:{7}:28333333", names.NewPaths(28333333, "7"))
}

// AnalyticsPattern matches every path-hits key, and nothing else, under any prefix. (path.Match is Redis's
// glob except that '*' stops at '/', hence paths without one.)
func TestAnalyticsPattern(t *testing.T) {
	for _, prefix := range []string{"", "t1:", "a*[b]?:"} {
		t.Run(prefix, func(t *testing.T) {
			n := NewNames(prefix)
			tests := []struct {
				key  string
				want bool
			}{
				{n.HitKey("a"), true},
				{n.ParkedKey("a"), true},
				{n.SyncLock(), true},
				{n.SyncPending(), true},
				{n.SyncStaging("s1"), true},
				{n.ImpressionsStream(), false},
				{n.Receipt("tok", ""), false},
				{n.EventID("AbCdEfGhIjKlMnOp", ""), false},
				{n.NewPaths(28333333, ""), false},
				{"other:" + n.HitKey("a"), false},
			}
			for _, tt := range tests {
				got, err := path.Match(n.AnalyticsPattern(), tt.key)
				require.NoError(t, err)
				require.Equal(t, tt.want, got, tt.key)
			}
		})
	}
}

func TestTaggedHitKeys(t *testing.T) {
	n := NewNames("p:")
	tests := []struct {
		p, tag, key string
	}{
		{p: "/a", tag: "", key: "p:analytics:hit:/a"},
		{p: "/a", tag: "x1", key: "p:analytics:hit{x1}:/a"},
		{p: "{x1}:/a", tag: "", key: "p:analytics:hit:{x1}:/a"},
		{p: "{y}:/a}:b", tag: "x1", key: "p:analytics:hit{x1}:{y}:/a}:b"},
		{p: "", tag: "x1", key: "p:analytics:hit{x1}:"},
	}
	for _, tt := range tests {
		key := n.TaggedHitKey(tt.p, tt.tag)
		require.Equal(t, tt.key, key)
		got, ok := n.PathOfHitKey(key)
		require.True(t, ok, key)
		require.Equal(t, tt.p, got, key)
		// path.Match's * stops at a slash; Redis's does not.
		match, err := path.Match(n.HitKeyPattern(), strings.ReplaceAll(key, "/", "_"))
		require.NoError(t, err)
		require.True(t, match, key)
		if tt.tag != "" {
			require.Equal(t, Slot("{"+tt.tag+"}"), Slot(key), "a tagged counter is in its tag's slot")
		}
	}
	for _, key := range []string{"p:analytics:hit", "p:analytics:hit{x1}", "p:analytics:hit{}:/a", "p:analytics:hit{x1}/a", "p:analytics:hits:/a", "analytics:hit:/a"} {
		_, ok := n.PathOfHitKey(key)
		require.False(t, ok, key)
	}
}

// The syncer's names of a slot's staged state (pending set, staging part, fence, parked key) all hash to the
// slot of their tag, and with tag "" they are the seed's untagged names.
func TestSyncNamesOfASlot(t *testing.T) {
	n := NewNames("p:")
	require.Equal(t, n.SyncPending(), n.TaggedSyncPending(""))
	require.Equal(t, n.SyncStaging("c1"), n.TaggedSyncStaging("c1", ""))
	require.Equal(t, n.ParkedKey("/a"), n.TaggedParkedKey("/a", ""))
	for _, slot := range []uint16{0, 7, 5461, 16383} {
		tag := SlotTag(slot)
		for _, k := range []string{n.TaggedSyncPending(tag), n.TaggedSyncStaging("c1", tag), n.SyncFence(tag),
			n.TaggedParkedKey("/a{b}:c", tag)} {
			require.Equal(t, slot, Slot(k), k)
		}
	}
	for key, parked := range map[string]bool{
		n.ParkedKey("/a"): true, n.TaggedParkedKey("/a", "7"): true, "p:analytics:parkedx": false,
		"p:analytics:parked": false, n.HitKey("/a"): false,
	} {
		require.Equal(t, parked, n.IsParkedKey(key), key)
	}
}
