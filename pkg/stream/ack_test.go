package stream_test

import (
	"adly/pkg/redisconn"
	"adly/pkg/stream"
	"adly/pkg/testkit"
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// AckSince acknowledges a batch only while the group's replay epoch is the one read before the commit, on
// a Redis with room (WATCH + MULTI/EXEC) and on a full one (which refuses commands queued in MULTI: the
// script path).
func TestAckSinceRefusesAfterAReplay(t *testing.T) {
	t.Parallel()
	for _, full := range []bool{false, true} {
		name := map[bool]string{false: "room", true: "full"}[full]
		t.Run(name, func(t *testing.T) {
			srv := testkit.StartRedisServer(t, testkit.RedisServerOptions{MaxMemory: "4mb"})
			client := redisconn.NewClient(srv.Config(), redisconn.ClientOptions{NoRetries: true})
			t.Cleanup(func() { _ = client.Close() })
			ctx := context.Background()
			g := stream.NewGroup(client, "s", "g")
			require.NoError(t, g.Ensure(ctx))
			for range 10 {
				require.NoError(t, client.XAdd(ctx, &redis.XAddArgs{Stream: "s", Values: []any{"ad_id", 1}}).Err())
			}
			msgs, err := g.Read(ctx, "c", ">", 10, -1)
			require.NoError(t, err)
			ids := make([]string, len(msgs))
			for i, m := range msgs {
				ids[i] = m.RawID
			}
			epoch, err := g.Epoch(ctx)
			require.NoError(t, err)
			if full {
				srv.Fill(client, "fill:", 512)
				require.True(t, redis.HasErrorPrefix(client.Set(ctx, "x", "y", 0).Err(), "OOM"), "redis is full")
			}
			require.NoError(t, g.AckSince(ctx, epoch, ids[:5]), "nothing moved the group: acknowledged")
			require.NoError(t, g.SetID(ctx, "0-0"), "a replay moves the group (on a full Redis too)")
			require.ErrorIs(t, g.AckSince(ctx, epoch, ids[5:]), stream.ErrReplayed)
			info, err := g.Info(ctx)
			require.NoError(t, err)
			require.EqualValues(t, 5, info.Pending, "the first half acknowledged, the second not")
		})
	}
}
