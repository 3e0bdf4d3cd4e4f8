package testkit_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"adly/pkg/event"
	"adly/pkg/keyspace"
	"adly/pkg/testkit"
)

// Without ADLY_TEST_CLUSTER a cluster test is skipped, not failed.
func TestClusterSkipsWithoutACluster(t *testing.T) {
	t.Setenv("ADLY_TEST_CLUSTER", "")
	skipped := false
	t.Run("cluster", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		testkit.Cluster(t)
		t.Error("ran without a cluster")
	})
	require.True(t, skipped)
}

// The cluster the tests get is the one scripts/lib/cluster.sh promises: three masters that own equal
// contiguous slot ranges, one replica attached to each, and the pid of every node.
func TestClusterNodes(t *testing.T) {
	testkit.Cluster(t)
	testkit.WaitClusterWhole(t, 30*time.Second)
	nodes := testkit.ClusterNodes(t)
	require.Len(t, nodes, 6)
	masters := map[string]*testkit.ClusterNode{}
	for _, n := range nodes[:3] {
		require.Equal(t, "master", n.Role())
		require.False(t, n.Failed)
		require.Len(t, n.Slots, 1, "%s owns one contiguous range", n.Addr)
		masters[n.ID] = n
	}
	replicasOf := map[string]int{}
	for _, n := range nodes[3:] {
		require.Equal(t, "replica", n.Role())
		require.Contains(t, masters, n.MasterID, "%s replicates a master", n.Addr)
		replicasOf[n.MasterID]++
	}
	for id := range masters {
		require.Equal(t, 1, replicasOf[id], "master %s has one replica", masters[id].Addr)
	}
	for slot := 0; slot < 16384; slot++ {
		owners := 0
		for _, m := range masters {
			if m.Owns(uint16(slot)) {
				owners++
			}
		}
		require.Equal(t, 1, owners, "slot %d has one master", slot)
	}
	for _, slot := range []uint16{0, 5460, 5461, 10922, 10923, 16383} {
		require.True(t, testkit.ClusterMasterOf(t, slot).Owns(slot))
	}
	if nodes[0].PID == 0 {
		t.Skip("the cluster was not started by scripts/lib/cluster.sh: no pids to check")
	}
	for _, n := range nodes {
		require.True(t, n.Alive(), "%s runs", n.Addr)
		info, err := n.Client().Info(context.Background(), "server").Result()
		require.NoError(t, err)
		require.Contains(t, info, "process_id:"+strconv.Itoa(n.PID)+"\r\n", "the pid of %s", n.Addr)
	}
}

// go-redis reaches every shard of a stream on the cluster: an entry written and read through the cluster
// client is in the stream on the master that owns the shard's slot, and on no other.
func TestStreamOnEveryShard(t *testing.T) {
	ctx := context.Background()
	c, names := testkit.Cluster(t)
	names = names.WithShards(6)
	masters := testkit.ClusterNodes(t)[:3]
	perMaster := map[string]int{}
	for _, typ := range []event.Type{event.Impression, event.Click} {
		for i, stream := range names.Streams(typ) {
			id, err := c.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: []any{"ad_id", i + 1, "ts", 1795304985}}).Result()
			require.NoError(t, err, stream)
			msgs, err := c.XRange(ctx, stream, "-", "+").Result()
			require.NoError(t, err, stream)
			require.Equal(t, []redis.XMessage{{ID: id, Values: map[string]any{"ad_id": strconv.Itoa(i + 1), "ts": "1795304985"}}}, msgs)

			owner := testkit.ClusterMasterOf(t, keyspace.Slot(stream))
			perMaster[owner.Addr]++
			info, err := owner.Client().XInfoStream(ctx, stream).Result()
			require.NoError(t, err, "XINFO STREAM %s on its master %s", stream, owner.Addr)
			require.Equal(t, int64(1), info.Length)
			require.Equal(t, id, info.LastGeneratedID)
			for _, m := range masters {
				if m.Addr != owner.Addr {
					err := m.Client().XInfoStream(ctx, stream).Err()
					require.ErrorContains(t, err, "MOVED", "%s is not on %s", stream, m.Addr)
				}
			}
		}
	}
	for _, m := range masters {
		require.Equal(t, 4, perMaster[m.Addr], "2 impression and 2 click shards on %s", m.Addr)
	}
}

// A test that holds the cluster exclusively can kill a node and start it again; the cluster is whole
// afterwards.
func TestKillAndRestartAReplica(t *testing.T) {
	ctx := context.Background()
	c, names := testkit.ClusterExclusive(t)
	testkit.WaitClusterWhole(t, 30*time.Second)
	replica := testkit.ClusterNodes(t)[5]
	require.Equal(t, "replica", replica.Role())
	if replica.PID == 0 {
		t.Skip("the cluster was not started by scripts/lib/cluster.sh: its nodes cannot be killed")
	}
	before := replica.PID
	replica.Kill()
	require.False(t, replica.Alive())
	// The masters still serve every slot.
	for _, stream := range names.WithShards(3).Streams(event.Click) {
		require.NoError(t, c.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: []any{"ad_id", 1, "ts", 1}}).Err())
	}
	replica.Restart()
	require.NotEqual(t, before, replica.PID)
	testkit.WaitClusterWhole(t, 30*time.Second)
	for _, n := range testkit.ClusterNodes(t) {
		if n.Addr == replica.Addr {
			require.Equal(t, "replica", n.Role())
			require.Equal(t, replica.MasterID, n.MasterID)
			require.Equal(t, replica.PID, n.PID)
		}
	}
}
