package hits_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"adly/pkg/event"
	"adly/pkg/hits"
	"adly/pkg/keyspace"
	"adly/pkg/redisconn"
	"adly/pkg/testkit"
)

// Move takes each counter once, whatever keys it is given: a key given twice, a key already gone, a counter
// holding 0, a key that is not a counter. What it returns is exactly what it staged.
func TestMoveTakesEachCounterOnce(t *testing.T) {
	t.Parallel()
	client, names := testkit.Redis(t)
	ctx := context.Background()
	h := hits.NewHitCounters(client, names)
	lock(t, h, "token")
	a, b, zero, gone := names.HitKey("/a"), names.HitKey("/b"), names.HitKey("/zero"), names.HitKey("/gone")
	list, nan := names.HitKey("/list"), names.HitKey("/nan")
	require.NoError(t, client.Set(ctx, a, 3, 0).Err())
	require.NoError(t, client.Set(ctx, b, 4, 0).Err())
	require.NoError(t, client.Set(ctx, zero, 0, 0).Err())
	require.NoError(t, client.RPush(ctx, list, "x").Err())
	require.NoError(t, client.Set(ctx, nan, "abc", 0).Err())

	chunk := hits.NewChunk("chunk1")
	moved, parked, err := h.Move(ctx, "token", chunk, []string{a, b, a, zero, gone, nan, zero, list, b, nan, list, a}, nil)
	require.NoError(t, err)
	require.ElementsMatch(t, []event.PathCount{{Path: "/a", Hits: 3}, {Path: "/b", Hits: 4}}, moved)
	require.Len(t, parked, 2, "parked once each")
	require.ElementsMatch(t, []string{list, nan}, []string{parked[0].Key, parked[1].Key})
	v, err := client.Get(ctx, names.ParkedKey("/nan")).Result()
	require.NoError(t, err)
	require.Equal(t, "abc", v)

	staged, err := h.Staged(ctx, chunk)
	require.NoError(t, err)
	require.ElementsMatch(t, moved, staged, "the staging record holds what was returned")
	n, err := client.Exists(ctx, a, b, zero).Result()
	require.NoError(t, err)
	require.Zero(t, n, "moved counters are gone")
	pending, err := h.Pending(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"chunk1"}, pending)
}

// lock takes the sync lock for token for the rest of the test.
func lock(t *testing.T, h *hits.HitCounters, token string) {
	t.Helper()
	ok, err := h.AcquireLock(context.Background(), token, time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
}

// Every step that moves counters or finishes a chunk is fenced by the lock's owner token: with the lock
// expired, or held by another syncer, it changes nothing and answers ErrLockLost.
func TestStepsAreFencedByTheLockToken(t *testing.T) {
	t.Parallel()
	steps := []struct {
		name string
		run  func(context.Context, *hits.HitCounters, string) error
	}{
		{"move", func(ctx context.Context, h *hits.HitCounters, token string) error {
			_, _, err := h.Move(ctx, token, hits.NewChunk("chunk1"), []string{h.Names().HitKey("/a"), h.Names().HitKey("/list")}, nil)
			return err
		}},
		{"park", func(ctx context.Context, h *hits.HitCounters, token string) error {
			return h.Park(ctx, token, h.Names().HitKey("/a"), "/a", "chunk1")
		}},
		{"finish", func(ctx context.Context, h *hits.HitCounters, token string) error {
			_, pending, err := h.Claim(ctx, token) // on a single Redis a claim only reads
			if err != nil {
				return err
			}
			return h.Finish(ctx, token, pending[0])
		}},
	}
	holders := []struct {
		name   string
		holder string // "" when the lock expired
	}{{"lock expired", ""}, {"lock taken by another syncer", "other"}}
	for _, step := range steps {
		for _, hold := range holders {
			t.Run(step.name+"/"+hold.name, func(t *testing.T) {
				client, names := testkit.Redis(t)
				ctx := context.Background()
				h := hits.NewHitCounters(client, names)
				require.NoError(t, client.Set(ctx, names.HitKey("/a"), 3, 0).Err())
				require.NoError(t, client.RPush(ctx, names.HitKey("/list"), "x").Err())
				require.NoError(t, client.Set(ctx, names.SyncStaging("chunk0"), names.HitKey("/z")+"\n2\n", 0).Err())
				require.NoError(t, client.SAdd(ctx, names.SyncPending(), "chunk0").Err())
				if hold.holder != "" {
					lock(t, h, hold.holder)
				}
				before := dump(t, client, names.Prefix())

				err := step.run(ctx, h, "stale")
				require.ErrorIs(t, err, hits.ErrLockLost)
				require.Equal(t, before, dump(t, client, names.Prefix()), "a fenced step changes nothing")

				require.NoError(t, client.Set(ctx, names.SyncLock(), "mine", 0).Err())
				owned := dump(t, client, names.Prefix()) // the lock's value differs from before's by itself
				require.NoError(t, step.run(ctx, h, "mine"), "the owner's step runs")
				require.NotEqual(t, owned, dump(t, client, names.Prefix()), "the owner's step changes something")
			})
		}
	}
}

// dump is every key under prefix with its type and value (strings and sets), to compare states.
func dump(t *testing.T, c redis.UniversalClient, prefix string) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	for _, k := range testkit.RedisKeys(t, c, prefix) {
		typ, err := c.Type(ctx, k).Result()
		require.NoError(t, err)
		switch typ {
		case "string":
			out[k] = c.Get(ctx, k).Val()
		case "set":
			out[k] = strconv.Itoa(int(c.SCard(ctx, k).Val()))
		default:
			out[k] = typ
		}
	}
	return out
}

// On a Redis full to maxmemory (noeviction) with hit counters, the syncer's Redis steps still run: take and
// extend the lock, move the counters, finish the chunk, release the lock; the memory they free takes new hits.
func TestSyncStepsWorkOnAFullRedis(t *testing.T) {
	t.Parallel()
	srv := testkit.StartRedisServer(t, testkit.RedisServerOptions{MaxMemory: "4mb"})
	client := redisconn.NewClient(srv.Config(), redisconn.ClientOptions{NoRetries: true})
	t.Cleanup(func() { _ = client.Close() })
	names := keyspace.NewNames("")
	h := hits.NewHitCounters(client, names)
	ctx := context.Background()
	var keys []string
	for i := 0; ; i++ {
		k := names.HitKey("/full/" + strconv.Itoa(i))
		if err := client.Incr(ctx, k).Err(); err != nil {
			require.True(t, redis.HasErrorPrefix(err, "OOM"), "filling redis: %v", err)
			break
		}
		keys = append(keys, k)
	}
	require.Error(t, client.SetNX(ctx, names.SyncLock(), "x", time.Minute).Err(), "a plain SET NX is refused: Redis is full")

	ok, err := h.AcquireLock(ctx, "token", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = h.ExtendLock(ctx, "token", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	chunk := hits.NewChunk("chunk1")
	moved, _, err := h.Move(ctx, "token", chunk, keys, nil)
	require.NoError(t, err)
	require.Len(t, moved, len(keys))
	require.NoError(t, h.Finish(ctx, "token", chunk))
	pending, err := h.Pending(ctx)
	require.NoError(t, err)
	require.Empty(t, pending)
	require.NoError(t, h.ReleaseLock(ctx, "token"))
	require.NoError(t, client.Incr(ctx, names.HitKey("/after")).Err(), "memory was freed")
}
