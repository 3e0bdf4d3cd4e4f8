package stream

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"adly/pkg/event"
	"adly/pkg/testkit"
)

// On a real Redis Cluster every command and script of a shard's group touches only keys of the shard's slot
// (its stream, its dead letters, its replay epoch): the cluster refuses anything else (CROSSSLOT). Every
// script runs here on each of six shards, the ones a full Redis alone would take (ensuregroup.lua, ack.lua)
// included. The seed's untagged stream fails the same calls, which is why a cluster always uses tagged
// shards.
func TestScriptsStayInTheShardsSlot(t *testing.T) {
	ctx := context.Background()
	c, base := testkit.Cluster(t)
	names := base.WithShards(6).OnCluster()
	shards := names.Streams(event.Impression)
	require.Len(t, shards, 6)
	for _, s := range shards {
		g := NewGroup(c, s, names.ImpressionGroup())
		run := func(what string, err error) {
			t.Helper()
			require.NoError(t, err, "%s on %s", what, s)
		}
		run("create the group", g.Ensure(ctx))
		state, err := ensureGroupScript.Run(ctx, c, []string{s}, g.group).Text()
		run("ensuregroup.lua", err)
		require.Equal(t, "exists", state)
		for range 6 {
			run("xadd", c.XAdd(ctx, &redis.XAddArgs{Stream: s, Values: []any{"ad_id", 1, "ts", 1795300000}}).Err())
		}
		msgs, err := g.Read(ctx, "a", ">", 6, -1)
		run("read", err)
		require.Len(t, msgs, 6)
		epoch, err := g.Epoch(ctx)
		run("epoch", err)
		run("ack (MULTI)", g.AckSince(ctx, epoch, []string{msgs[0].RawID, msgs[1].RawID}))
		run("ack.lua", g.ackSinceScript(ctx, epoch, []string{msgs[2].RawID}))
		done, err := g.DeadLetter(ctx, "a", msgs[3], "poison")
		run("deadletter.lua", err)
		require.True(t, done)
		require.EqualValues(t, 1, c.XLen(ctx, DeadLetterStream(s)).Val())
		run("setid.lua", g.SetID(ctx, "0-0"))
		require.ErrorIs(t, g.AckSince(ctx, epoch, []string{msgs[4].RawID}), ErrReplayed, "the epoch moved")
		require.ErrorIs(t, g.ackSinceScript(ctx, epoch, []string{msgs[4].RawID}), ErrReplayed)
		_, _, err = g.Trim(ctx, 0, 1000)
		run("trim.lua", err)
		run("xgroup createconsumer", c.XGroupCreateConsumer(ctx, s, g.group, "ghost").Err())
		gone, err := g.DeleteIdleConsumer(ctx, "ghost", 0)
		run("delconsumer.lua", err)
		require.True(t, gone)
		_, _, _, err = g.AutoClaim(ctx, "b", 0, "0-0", 10)
		run("xautoclaim", err)
		_, err = g.DeliveryCounts(ctx, "b", "-", "+", 10)
		run("xpending", err)
		_, err = g.SafePoint(ctx)
		run("safe point", err)
		_, err = g.Retained(ctx)
		run("xinfo stream", err)
	}

	// The control: the seed's untagged stream and its dead letters are in different slots.
	seed := NewGroup(c, base.ImpressionsStream(), base.ImpressionGroup())
	require.NoError(t, seed.Ensure(ctx))
	require.NoError(t, c.XAdd(ctx, &redis.XAddArgs{Stream: seed.Stream(), Values: []any{"ad_id", "x"}}).Err())
	msgs, err := seed.Read(ctx, "a", ">", 1, time.Duration(-1))
	require.NoError(t, err)
	_, err = seed.DeadLetter(ctx, "a", msgs[0], "poison")
	require.ErrorContains(t, err, "CROSSSLOT")
	require.ErrorContains(t, seed.SetID(ctx, "0-0"), "CROSSSLOT")
}
