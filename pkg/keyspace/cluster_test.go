package keyspace_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"adly/pkg/config"
	"adly/pkg/event"
	"adly/pkg/keyspace"
	"adly/pkg/testkit"
)

func TestShardLimitIsConfigs(t *testing.T) {
	require.Equal(t, keyspace.MaxShards, config.MaxStreamShards)
}

// On a real cluster: Redis hashes every name as keyspace.Slot does (and every slot's SlotTag to its slot),
// and six shards of a stream land two on each of the three masters.
func TestNamesOnACluster(t *testing.T) {
	ctx := context.Background()
	c, names := testkit.Cluster(t)
	sharded := names.WithShards(6)

	var keys []string
	for _, n := range []keyspace.Names{names, sharded} {
		for _, typ := range []event.Type{event.Impression, event.Click} {
			for _, s := range n.Streams(typ) {
				tag := n.ShardTag(s)
				keys = append(keys, s, s+":dead", s+":replay-epoch:"+n.ImpressionGroup(),
					n.Receipt("tok:1", tag), n.EventID("AbCdEfGhIjKlMnOp", tag), n.NewPaths(28333333, tag))
			}
		}
	}
	keys = append(keys, names.HitKey("/blog/a"), names.ParkedKey("/blog/a"), names.SyncLock(), names.SyncPending(),
		names.SyncStaging("s1"))
	for s := range 16384 {
		keys = append(keys, "{"+keyspace.SlotTag(uint16(s))+"}")
	}
	pipe := c.Pipeline()
	for _, k := range keys {
		pipe.ClusterKeySlot(ctx, k)
	}
	cmds, err := pipe.Exec(ctx)
	require.NoError(t, err)
	for i, cmd := range cmds {
		slot, err := cmd.(interface{ Result() (int64, error) }).Result()
		require.NoError(t, err)
		require.Equal(t, int64(keyspace.Slot(keys[i])), slot, "CLUSTER KEYSLOT %s", keys[i])
	}

	perMaster := map[string]int{}
	for _, s := range sharded.Streams(event.Impression) {
		owner := testkit.ClusterMasterOf(t, keyspace.Slot(s))
		perMaster[owner.Addr]++
		// go-redis's own slot map agrees.
		node, err := c.MasterForKey(ctx, s)
		require.NoError(t, err)
		require.Equal(t, owner.Addr, node.Options().Addr, s)
	}
	require.Len(t, perMaster, 3, "every master has shards: %v", perMaster)
	for addr, n := range perMaster {
		require.Equal(t, 2, n, "shards on %s", addr)
	}
}
