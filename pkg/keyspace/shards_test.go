package keyspace

import (
	"math"
	"path"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"adly/pkg/event"
)

func TestOneShardIsTheSeeds(t *testing.T) {
	for _, prefix := range []string{"", "t1:"} {
		for _, names := range []Names{NewNames(prefix), NewNames(prefix).WithShards(1), NewNames(prefix).WithShards(0)} {
			require.Equal(t, 1, names.Shards())
			require.Equal(t, []string{prefix + "impressions_stream"}, names.Streams(event.Impression))
			require.Equal(t, []string{prefix + "clicks_stream"}, names.Streams(event.Click))
			require.Nil(t, names.Streams(event.Hit))
			require.Equal(t, prefix+"impressions_stream", names.Stream(event.Impression))
		}
	}
	// The tag of the seed's stream's companions is the one the publisher has always given its receipts.
	names := NewNames("")
	require.Equal(t, SlotTag(Slot("impressions_stream")), names.ShardTag("impressions_stream"))
	require.Equal(t, Slot("impressions_stream"), Slot(names.Receipt("tok", names.ShardTag("impressions_stream"))))
}

// slotRange is which of n equal ranges of the 16384 slots slot falls into.
func slotRange(slot uint16, n int) int { return int(slot) * n / 16384 }

func TestShardTagsFallOneIntoEachEqualRange(t *testing.T) {
	for _, n := range []int{2, 3, 4, 6, 8, 16} {
		t.Run("n="+strconv.Itoa(n), func(t *testing.T) {
			tags := ShardTags(n)
			require.Len(t, tags, n)
			for k, tag := range tags {
				require.Equal(t, k, slotRange(Slot(tag), n), "tag %q (slot %d) is the middle of range %d", tag, Slot(tag), k)
			}
			names := NewNames("p:").WithShards(n)
			require.Equal(t, n, names.Shards())
			for _, typ := range []event.Type{event.Impression, event.Click} {
				streams := names.Streams(typ)
				require.Len(t, streams, n)
				for k, s := range streams {
					require.Equal(t, names.Stream(typ)+":{"+tags[k]+"}", s)
					require.Equal(t, 1, strings.Count(s, "{"), "%s: the tag is the only {…}", s)
					require.Equal(t, tags[k], HashTag(s))
					require.Equal(t, tags[k], names.ShardTag(s))
					slot := Slot(s)
					require.Equal(t, k, slotRange(slot, n))
					for _, companion := range []string{
						s + ":dead",
						s + ":replay-epoch:" + names.ImpressionGroup(),
						names.Receipt("tok:1", names.ShardTag(s)),
						names.EventID("AbCdEfGhIjKlMnOp", names.ShardTag(s)),
						names.NewPaths(28333333, names.ShardTag(s)),
					} {
						require.Equal(t, slot, Slot(companion), "%s is in %s's slot", companion, s)
					}
				}
			}
		})
	}
}

// Every count a deployment may choose gives distinct tags, one in each of its ranges, and none of the shards
// is a path-hits key.
func TestEveryShardCount(t *testing.T) {
	for n := 1; n <= MaxShards; n++ {
		seen := map[uint16]bool{}
		for k, tag := range ShardTags(n) {
			slot := Slot(tag)
			require.False(t, seen[slot], "n=%d: slot %d twice", n, slot)
			seen[slot] = true
			require.Equal(t, k, slotRange(slot, n), "n=%d tag %q", n, tag)
		}
	}
	require.Len(t, ShardTags(0), 1)
	require.Len(t, ShardTags(MaxShards+1), MaxShards)
	names := NewNames("").WithShards(MaxShards)
	for _, s := range append(names.Streams(event.Impression), names.Streams(event.Click)...) {
		match, err := path.Match(names.AnalyticsPattern(), s)
		require.NoError(t, err)
		require.False(t, match, s)
	}
}

// createdRanges are the slot ranges redis-cli --cluster create gives m masters (redis-cli.c,
// clusterManagerCommandCreate): master i owns first..last with last = lround(cursor + 16384/m - 1).
func createdRanges(m int) [][2]int {
	per := float32(16384) / float32(m)
	var out [][2]int
	first, cursor := 0, float32(0)
	for i := range m {
		last := int(math.Round(float64(cursor + per - 1)))
		if last > 16384 || i == m-1 {
			last = 16383
		}
		last = max(last, first)
		out = append(out, [2]int{first, last})
		first = last + 1
		cursor += per
	}
	return out
}

// The claim of ShardTags' comment: on a freshly created cluster every master carries n/m shards, rounded
// down or up.
func TestShardsSpreadOverFreshlyCreatedMasters(t *testing.T) {
	for m := 3; m <= 10; m++ {
		ranges := createdRanges(m)
		require.Equal(t, 0, ranges[0][0])
		require.Equal(t, 16383, ranges[m-1][1])
		for n := 1; n <= MaxShards; n++ {
			per := make([]int, m)
			for _, tag := range ShardTags(n) {
				slot := int(Slot(tag))
				for i, r := range ranges {
					if slot >= r[0] && slot <= r[1] {
						per[i]++
					}
				}
			}
			for i, c := range per {
				require.True(t, c == n/m || c == (n+m-1)/m, "%d shards on %d masters: master %d has %d (%v)", n, m, i, c, per)
				if n%m == 0 {
					require.Equal(t, n/m, c)
				}
			}
		}
	}
}
