package hits_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"adly/pkg/event"
	"adly/pkg/hits"
	"adly/pkg/keyspace"
	"adly/pkg/testkit"
)

// On the test cluster every step works per hash slot: a move of counters from many slots (untagged, and
// under the API's shard tags) stages each slot's part in that slot, parks a bad key within its slot, and a
// later claim fences the earlier owner out of every slot and hands the new owner every part.
func TestStepsOnACluster(t *testing.T) {
	client, names := testkit.Cluster(t)
	ctx := context.Background()
	h := hits.NewHitCounters(client, names)
	lock(t, h, "first")
	fence, pending, err := h.Claim(ctx, "first")
	require.NoError(t, err)
	require.Empty(t, pending)

	var keys []string
	var want []event.PathCount
	for i := range 300 {
		path := "/c/" + strconv.Itoa(i)
		k := names.HitKey(path)
		if i%2 == 1 {
			k = names.TaggedHitKey(path, keyspace.ShardTags(4)[i%4])
		}
		require.NoError(t, client.Set(ctx, k, i+1, 0).Err())
		keys = append(keys, k)
		want = append(want, event.PathCount{Path: path, Hits: int64(i + 1)})
	}
	bad := []string{names.HitKey("/bad"), names.TaggedHitKey("/bad", "x")}
	for _, k := range bad {
		require.NoError(t, client.Set(ctx, k, "nan", 0).Err())
	}
	chunk := hits.NewChunk("chunk1")
	moved, parked, err := h.Move(ctx, fence, chunk, append(keys, bad...), nil)
	require.NoError(t, err)
	require.ElementsMatch(t, want, moved)
	require.Len(t, parked, 2)
	for _, k := range bad {
		target := h.ParkedKeyOf(k, "/bad")
		require.Equal(t, keyspace.Slot(k), keyspace.Slot(target), "parked within its slot")
		require.Equal(t, "nan", client.Get(ctx, target).Val(), "parked, not dropped: %s", k)
	}
	require.Greater(t, len(chunk.Groups()), 100, "counters of many slots")
	staged, err := h.Staged(ctx, chunk)
	require.NoError(t, err)
	require.ElementsMatch(t, want, staged)

	// A second owner claims every slot: the first is fenced out everywhere, and the second sees the chunk
	// with every group that holds a part of it.
	require.NoError(t, h.ReleaseLock(ctx, "first"))
	lock(t, h, "second")
	fence2, pending, err := h.Claim(ctx, "second")
	require.NoError(t, err)
	require.Len(t, pending, 1)
	require.Equal(t, chunk.ID, pending[0].ID)
	require.Equal(t, chunk.Groups(), pending[0].Groups())
	require.ErrorIs(t, h.Finish(ctx, fence, chunk), hits.ErrLockLost)
	require.NoError(t, client.Set(ctx, names.HitKey("/late"), 1, 0).Err())
	_, _, err = h.Move(ctx, fence, hits.NewChunk("chunk2"), []string{names.HitKey("/late")}, nil)
	require.ErrorIs(t, err, hits.ErrLockLost)
	require.Equal(t, "1", client.Get(ctx, names.HitKey("/late")).Val(), "the fenced-out move changed nothing")
	ids, err := h.Pending(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{chunk.ID}, ids, "the fenced-out finish changed nothing")

	require.NoError(t, h.Finish(ctx, fence2, pending[0]))
	ids, err = h.Pending(ctx)
	require.NoError(t, err)
	require.Empty(t, ids)

	// A slot fenced by a later owner is not taken back by an earlier one.
	require.NoError(t, client.Set(ctx, names.SyncFence(keyspace.SlotTag(7)), "99999999999999999999-later", 0).Err())
	_, _, err = h.Claim(ctx, "second")
	require.ErrorIs(t, err, hits.ErrLockLost)
}
