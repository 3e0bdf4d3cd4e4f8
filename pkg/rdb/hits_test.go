package rdb_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"adly/pkg/event"
	"adly/pkg/rdb"
	"adly/pkg/rdb/rdbtest"
)

// Move takes each counter once, whatever keys it is given: a key given twice, a key already gone, a counter
// holding 0, a key that is not a counter. What it returns is exactly what it staged.
func TestMoveTakesEachCounterOnce(t *testing.T) {
	client, names := rdbtest.New(t)
	ctx := context.Background()
	h := rdb.NewHitCounters(client, names)
	a, b, zero, gone := names.HitKey("/a"), names.HitKey("/b"), names.HitKey("/zero"), names.HitKey("/gone")
	list, nan := names.HitKey("/list"), names.HitKey("/nan")
	require.NoError(t, client.Set(ctx, a, 3, 0).Err())
	require.NoError(t, client.Set(ctx, b, 4, 0).Err())
	require.NoError(t, client.Set(ctx, zero, 0, 0).Err())
	require.NoError(t, client.RPush(ctx, list, "x").Err())
	require.NoError(t, client.Set(ctx, nan, "abc", 0).Err())

	moved, parked, err := h.Move(ctx, "chunk1", []string{a, b, a, zero, gone, nan, zero, list, b, nan, list, a}, nil)
	require.NoError(t, err)
	require.ElementsMatch(t, []event.PathCount{{Path: "/a", Hits: 3}, {Path: "/b", Hits: 4}}, moved)
	require.Len(t, parked, 2, "parked once each")
	require.ElementsMatch(t, []string{list, nan}, []string{parked[0].Key, parked[1].Key})
	v, err := client.Get(ctx, names.ParkedKey("/nan")).Result()
	require.NoError(t, err)
	require.Equal(t, "abc", v)

	staged, err := h.Staged(ctx, "chunk1")
	require.NoError(t, err)
	require.ElementsMatch(t, moved, staged, "the staging record holds what was returned")
	n, err := client.Exists(ctx, a, b, zero).Result()
	require.NoError(t, err)
	require.Zero(t, n, "moved counters are gone")
	pending, err := h.Pending(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"chunk1"}, pending)
}
