package publish_test

import (
	"context"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"adly/pkg/event"
	"adly/pkg/keyspace"
	"adly/pkg/publish"
	"adly/pkg/testkit"
)

// fnvShard is the shard an event_id goes to, worked out apart from the publisher (hash/fnv's FNV-1a).
func fnvShard(id string, n int) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	return int(h.Sum32() % uint32(n))
}

func shardEventID(i int) string { return fmt.Sprintf("shard-test-id-%04d", i) }

// streamLens is the length of each shard of type t's stream, in the order of names.Streams.
func streamLens(t *testing.T, c redis.UniversalClient, names keyspace.Names, typ event.Type) []int64 {
	t.Helper()
	var out []int64
	for _, s := range names.Streams(typ) {
		n, err := c.XLen(context.Background(), s).Result()
		require.NoError(t, err)
		out = append(out, n)
	}
	return out
}

// hitCounts is path's counter under each shard's tag, in the order of names.Streams.
func hitCounts(t *testing.T, c redis.UniversalClient, names keyspace.Names, path string) []int64 {
	t.Helper()
	var out []int64
	for _, s := range names.Streams(event.Impression) {
		n, err := c.Get(context.Background(), names.TaggedHitKey(path, names.ShardTag(s))).Int64()
		if err == redis.Nil {
			n, err = 0, nil
		}
		require.NoError(t, err)
		out = append(out, n)
	}
	return out
}

func repeat(v int64, n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// shardedSetups are a cluster with six shards (every master holds two) and a single node with three.
var shardedSetups = []struct {
	name   string
	shards int
	open   func(t *testing.T) (redis.UniversalClient, keyspace.Names)
}{
	{name: "cluster, 6 shards", shards: 6, open: func(t *testing.T) (redis.UniversalClient, keyspace.Names) {
		c, names := testkit.Cluster(t)
		return c, names.OnCluster().WithShards(6)
	}},
	{name: "single node, 3 shards", shards: 3, open: func(t *testing.T) (redis.UniversalClient, keyspace.Names) {
		c, names := testkit.Redis(t)
		return c, names.WithShards(3)
	}},
}

// Requests without event_id go to the shards in turn: each request's events (impression, click, hit) to
// one shard, every shard the same number of requests; nothing goes to the seed's untagged names.
func TestShardedPublishSpreadsRequests(t *testing.T) {
	for _, tt := range shardedSetups {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			c, names := tt.open(t)
			p, reg := startPublisher(t, c, names, publish.PublisherOptions{})
			const rounds = 10
			for i := range rounds * tt.shards {
				ad := int64(i + 1)
				_, err := p.Publish(ctx, []event.Event{{Type: event.Impression, AdID: ad}, {Type: event.Click, AdID: ad},
					{Type: event.Hit, Path: "/spread"}}, 1700000000)
				require.NoError(t, err)
			}
			require.Equal(t, repeat(rounds, tt.shards), streamLens(t, c, names, event.Impression))
			require.Equal(t, repeat(rounds, tt.shards), streamLens(t, c, names, event.Click))
			require.Equal(t, repeat(rounds, tt.shards), hitCounts(t, c, names, "/spread"))
			for _, k := range []string{names.ImpressionsStream(), names.ClicksStream(), names.HitKey("/spread")} {
				require.Zero(t, c.Exists(ctx, k).Val(), "%s is not written", k)
			}
			// A request's impression and click are in the same shard.
			adShard := map[string]int{}
			for k, s := range names.Streams(event.Impression) {
				for _, m := range c.XRange(ctx, s, "-", "+").Val() {
					adShard[m.Values["ad_id"].(string)] = k
				}
			}
			require.Len(t, adShard, rounds*tt.shards)
			for k, s := range names.Streams(event.Click) {
				for _, m := range c.XRange(ctx, s, "-", "+").Val() {
					require.Equal(t, k, adShard[m.Values["ad_id"].(string)], "ad %s", m.Values["ad_id"])
				}
			}
			require.Equal(t, float64(rounds*tt.shards), testkit.Metric(t, reg, "adly_api_events_total", "type", "hit"))
		})
	}
}

// An event with an event_id goes to the shard its event_id hashes to, whatever the request: a retry, alone
// or in another batch, meets its event-id key there and is answered with the first write's stream ID.
func TestShardedEventIDRetries(t *testing.T) {
	for _, tt := range shardedSetups {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			c, names := tt.open(t)
			p, reg := startPublisher(t, c, names, publish.PublisherOptions{})
			const n = 24
			batch := make([]event.Event, 0, 2*n)
			wantImps, wantHits := make([]int64, tt.shards), make([]int64, tt.shards)
			for i := range n {
				batch = append(batch, event.Event{Type: event.Impression, AdID: int64(i + 1), ID: shardEventID(i)})
				wantImps[fnvShard(shardEventID(i), tt.shards)]++
			}
			for i := n; i < 2*n; i++ {
				batch = append(batch, event.Event{Type: event.Hit, Path: "/eid", ID: shardEventID(i)})
				wantHits[fnvShard(shardEventID(i), tt.shards)]++
			}
			require.NotContains(t, wantImps, int64(n), "the batch spans shards")

			first, err := p.Publish(ctx, batch, 1700000000)
			require.NoError(t, err)
			require.Equal(t, wantImps, streamLens(t, c, names, event.Impression), "each impression in its event_id's shard")
			require.Equal(t, wantHits, hitCounts(t, c, names, "/eid"), "each hit under its event_id's shard's tag")
			streams := names.Streams(event.Impression)
			for i := range n {
				tag := names.ShardTag(streams[fnvShard(shardEventID(i), tt.shards)])
				require.Equal(t, first[i], c.Get(ctx, names.EventID(shardEventID(i), tag)).Val(), "event %d's key is in its shard's slot", i)
			}

			again, err := p.Publish(ctx, batch, 1700000001)
			require.NoError(t, err)
			require.Equal(t, first, again, "the retry is answered with the first write's IDs")
			for i := range 3 {
				ids, err := p.Publish(ctx, []event.Event{batch[i*7]}, 1700000002)
				require.NoError(t, err)
				require.Equal(t, first[i*7:i*7+1], ids, "a retry of one event alone")
			}
			require.Equal(t, wantImps, streamLens(t, c, names, event.Impression), "nothing stored twice")
			require.Equal(t, wantHits, hitCounts(t, c, names, "/eid"), "no hit counted twice")
			require.Equal(t, float64(2*n+3), testkit.Metric(t, reg, "adly_api_duplicate_events_total"))
		})
	}
}

// A batch whose events go to several shards is written by several script calls, and answered by what they
// all did: stored when all stored their part; the call's own error when none did; ErrUnconfirmed (part of
// it is stored: a plain retry would store that part twice) when some did. One shard's stream is made a
// string, so that its calls are refused (ADLYBADKEY) while the others run.
func TestShardedBatchAnsweredByAllItsCalls(t *testing.T) {
	for _, tt := range shardedSetups {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			c, names := tt.open(t)
			p, reg := startPublisher(t, c, names, publish.PublisherOptions{})
			const broken = 0
			streams := names.Streams(event.Impression)
			require.NoError(t, c.Set(ctx, streams[broken], "not a stream", 0).Err())

			// Event ids by the shard they go to.
			var inBroken, elsewhere []event.Event
			for i := 0; len(inBroken) < 2 || len(elsewhere) < 6; i++ {
				e := event.Event{Type: event.Impression, AdID: int64(i + 1), ID: shardEventID(i)}
				if fnvShard(e.ID, tt.shards) == broken {
					inBroken = append(inBroken, e)
				} else {
					elsewhere = append(elsewhere, e)
				}
			}
			_, err := p.Publish(ctx, inBroken[:1], 1)
			require.ErrorIs(t, err, publish.ErrRejected, "all of it in the broken shard: nothing stored")

			good, err := p.Publish(ctx, elsewhere[:3], 1)
			require.NoError(t, err, "none of it in the broken shard")

			spanning := append([]event.Event{inBroken[1]}, elsewhere[3:6]...)
			_, err = p.Publish(ctx, spanning, 1)
			require.ErrorIs(t, err, publish.ErrUnconfirmed, "part stored, part not")
			require.ErrorContains(t, err, "only part of the request was stored")

			stored := int64(0)
			for k, s := range streams {
				if k != broken {
					stored += c.XLen(ctx, s).Val()
				}
			}
			require.EqualValues(t, 6, stored, "the three events of the good request and the three stored of the spanning one")
			require.Equal(t, 2.0, testkit.Metric(t, reg, "adly_api_redis_errors_total", "reason", "rejected"), "one refused call per request")
			require.Equal(t, 3.0, testkit.Metric(t, reg, "adly_api_events_total", "type", "impression"), "only the good request's events are accepted")

			// Repaired, the spanning request's retry stores the missing event and finds the others stored.
			require.NoError(t, c.Del(ctx, streams[broken]).Err())
			ids, err := p.Publish(ctx, spanning, 2)
			require.NoError(t, err)
			require.Len(t, ids, 4)
			require.EqualValues(t, 1, c.XLen(ctx, streams[broken]).Val())
			require.Equal(t, ids[0], c.XRange(ctx, streams[broken], "-", "+").Val()[0].ID)
			ids, err = p.Publish(ctx, elsewhere[:3], 3)
			require.NoError(t, err)
			require.Equal(t, good, ids)
			total := int64(0)
			for _, n := range streamLens(t, c, names, event.Impression) {
				total += n
			}
			require.EqualValues(t, 7, total, "every event once")
		})
	}
}

// One shard: on a single node the seed's names, on a cluster a tagged stream even so; a request's hits go
// to the counter of the shard's tag.
func TestOneShardOnACluster(t *testing.T) {
	ctx := context.Background()
	c, names := testkit.Cluster(t)
	names = names.OnCluster()
	p, _ := startPublisher(t, c, names, publish.PublisherOptions{NewPathsPerMinute: 100})
	for i := range 4 {
		_, err := p.Publish(ctx, []event.Event{{Type: event.Click, AdID: int64(i + 1)}, {Type: event.Hit, Path: "/one"},
			{Type: event.Impression, AdID: 1, ID: shardEventID(i)}}, 1)
		require.NoError(t, err)
	}
	require.Equal(t, []int64{4}, streamLens(t, c, names, event.Click))
	require.Equal(t, []int64{4}, streamLens(t, c, names, event.Impression))
	require.Equal(t, []int64{4}, hitCounts(t, c, names, "/one"))
	require.Zero(t, c.Exists(ctx, names.ClicksStream()).Val())
	tag := names.ShardTag(names.Streams(event.Click)[0])
	created := int64(0) // the new-path budget's count, in the shard's slot, of the minute (or the next)
	for m := time.Now().Unix()/60 - 1; m <= time.Now().Unix()/60+1; m++ {
		n, _ := c.Get(ctx, names.NewPaths(m, tag)).Int64()
		created += n
	}
	require.EqualValues(t, 1, created, "one new path")
}

// REDIS_WAIT_REPLICAS=1 on a healthy cluster (a replica per master): every script call is followed by a
// WAIT that one replica confirms, and every request is answered with its IDs.
func TestWaitConfirmedOnACluster(t *testing.T) {
	ctx := context.Background()
	c, names := testkit.Cluster(t)
	names = names.OnCluster().WithShards(6)
	p, reg := startPublisher(t, c, names, publish.PublisherOptions{WaitReplicas: 1})
	const requests = 12
	for i := range requests {
		ids, err := p.Publish(ctx, []event.Event{{Type: event.Impression, AdID: int64(i + 1)}, {Type: event.Hit, Path: "/wait"}}, 1)
		require.NoError(t, err)
		require.Len(t, ids, 2)
	}
	// A batch spanning shards: one call per shard, each with its WAIT.
	batch := make([]event.Event, 0, 12)
	for i := range 12 {
		batch = append(batch, event.Event{Type: event.Click, AdID: 1, ID: shardEventID(100 + i)})
	}
	_, err := p.Publish(ctx, batch, 1)
	require.NoError(t, err)
	shards := map[int]bool{}
	for _, e := range batch {
		shards[fnvShard(e.ID, 6)] = true
	}
	require.Equal(t, repeat(2, 6), streamLens(t, c, names, event.Impression))
	require.Equal(t, float64(requests+len(shards)), testkit.Metric(t, reg, "adly_api_redis_wait_total", "outcome", "confirmed"))
	require.Zero(t, testkit.Metric(t, reg, "adly_api_redis_wait_total", "outcome", "not_confirmed"))
	require.Zero(t, testkit.Metric(t, reg, "adly_api_redis_wait_total", "outcome", "unknown"))
	require.Equal(t, float64(requests+len(batch)), testkit.Metric(t, reg, "adly_api_events_total", "type", "impression")+
		testkit.Metric(t, reg, "adly_api_events_total", "type", "click"))
}

// The test Redis has no replica: with REDIS_WAIT_REPLICAS=1 the events are stored, WAIT times out with 0,
// and the request is told so (ErrUnconfirmed): they may or may not survive a failover. Without it the
// same Redis answers as ever.
func TestWaitNotConfirmedWithoutReplicas(t *testing.T) {
	ctx := context.Background()
	c, names := testkit.Redis(t)
	info := c.Info(ctx, "replication").Val()
	if !strings.Contains(info, "connected_slaves:0\r\n") {
		t.Skip("the test Redis has replicas")
	}
	p, reg := startPublisher(t, c, names, publish.PublisherOptions{WaitReplicas: 1, WaitTimeout: 50 * time.Millisecond})
	start := time.Now()
	_, err := p.Publish(ctx, []event.Event{{Type: event.Impression, AdID: 5}, {Type: event.Hit, Path: "/w"}}, 1)
	require.ErrorIs(t, err, publish.ErrUnconfirmed)
	require.ErrorContains(t, err, "only 0 of 1 replica(s) acknowledged them within 50ms")
	require.ErrorContains(t, err, "may or may not survive a failover")
	require.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond, "WAIT waited")
	require.EqualValues(t, 1, c.XLen(ctx, names.ImpressionsStream()).Val(), "stored on the master all the same")
	require.Equal(t, "1", c.Get(ctx, names.HitKey("/w")).Val())
	require.Equal(t, 1.0, testkit.Metric(t, reg, "adly_api_redis_wait_total", "outcome", "not_confirmed"))
	require.Equal(t, 1.0, testkit.Metric(t, reg, "adly_api_redis_errors_total", "reason", "not_replicated"))
	require.Zero(t, testkit.Metric(t, reg, "adly_api_events_total", "type", "impression"), "not accepted")

	p0, reg0 := startPublisher(t, c, names, publish.PublisherOptions{})
	_, err = p0.Publish(ctx, []event.Event{{Type: event.Impression, AdID: 6}}, 1)
	require.NoError(t, err)
	require.Zero(t, testkit.Metric(t, reg0, "adly_api_redis_wait_total", "outcome", "not_confirmed"))
}

// A flush of several shards is several script calls on one connection; when their replies are lost, each
// call is resolved by its own receipt, in its shard's slot, and the batch they carry is answered with its IDs.
func TestShardedLostRepliesResolvedPerCall(t *testing.T) {
	ctx := context.Background()
	proxy, client := testkit.ProxiedRedis(t)
	names := keyspace.NewNames(testkit.Prefix(t)).WithShards(3)
	p, reg := startPublisher(t, client, names, publish.PublisherOptions{Timeout: 300 * time.Millisecond})
	direct, _ := testkit.Redis(t)
	_, err := p.Publish(ctx, []event.Event{{Type: event.Click, AdID: 1}}, 1) // warm the connection
	require.NoError(t, err)

	batch := make([]event.Event, 0, 9)
	shards := map[int]bool{}
	for i := range 9 {
		e := event.Event{Type: event.Impression, AdID: int64(i + 1), ID: shardEventID(200 + i)}
		batch = append(batch, e)
		shards[fnvShard(e.ID, 3)] = true
	}
	require.Len(t, shards, 3, "the batch spans the three shards")
	proxy.CutReplies(1)
	ids, err := p.Publish(ctx, batch, 1)
	require.NoError(t, err, "every call's receipt says it ran")
	streams := names.Streams(event.Impression)
	for i, e := range batch {
		entries := direct.XRange(ctx, streams[fnvShard(e.ID, 3)], ids[i], ids[i]).Val()
		require.Len(t, entries, 1, "event %d's ID is its entry's, in its shard", i)
		require.Equal(t, strconv.Itoa(i+1), entries[0].Values["ad_id"])
	}
	require.Equal(t, 3.0, testkit.Metric(t, reg, "adly_api_redis_lost_replies_total", "outcome", "stored"), "one receipt per call")
	require.Zero(t, testkit.Metric(t, reg, "adly_api_redis_errors_total", "reason", "unconfirmed"))
}
