package keyspace

import "adly/pkg/event"

// MaxShards is the largest number of streams one kind of event may be split into (STREAM_SHARDS).
const MaxShards = 256

// ShardTags picks the hash tags of n stream shards: for k = 0..n-1 the tag (SlotTag) of the slot in the
// middle of the k-th of n equal ranges of the 16384 slots, (2k+1)·16384/(2n). n outside 1..MaxShards is
// clamped into it.
//
// Why by slot and not "0".."n-1": a tag's slot is its CRC16, which scatters small numbers at random, so n
// consecutive numbers fall unevenly over a cluster's masters (and two of them may even share a slot). Tags
// chosen by slot are spread evenly over the slot space instead, 16384/n slots apart.
//
// On a cluster whose m masters own equal contiguous slot ranges (what redis-cli --cluster create hands out:
// master i owns i·16384/m up to (i+1)·16384/m, rounded to whole slots), when m divides n each master's range
// is exactly n/m of the n ranges, and it owns their middles: a middle is at least 16384/(2n) ≥ 32 slots from
// the ends of its range, so the rounding of the masters' boundaries never moves one across. Every master
// then carries the same number of shards (6 shards on 3 masters: 2 each). When m does not divide n, the
// middles are still evenly spaced, so each master owns n/m of them rounded down or up (7 shards on 3
// masters: 2, 3, 2). TestShardsSpreadOverFreshlyCreatedMasters checks both for 3 to 10 masters.
//
// A tag's slot never changes, so on any other layout (slots moved by a reshard or rebalance, masters with
// unequal or scattered ranges, masters added later) a shard simply lives wherever its slot is: a master gets
// as many shards as it owns middles, possibly none or several more than its share. The names stay valid; to
// even them out again, move the shards' slots (CLUSTER SETSLOT, redis-cli --cluster reshard) or choose
// STREAM_SHARDS as a multiple of the master count on a freshly created cluster.
func ShardTags(n int) []string {
	n = max(1, min(n, MaxShards))
	tags := make([]string, n)
	for k := range n {
		tags[k] = SlotTag(uint16((2*k + 1) * 16384 / (2 * n)))
	}
	return tags
}

// WithShards returns the names with each kind's stream split into n shards (STREAM_SHARDS); n below 1
// counts as 1, above MaxShards as MaxShards. With one shard the names are exactly the seed's.
func (n Names) WithShards(shards int) Names {
	n.shards = max(1, min(shards, MaxShards))
	return n
}

// OnCluster returns the names for a Redis Cluster: every stream carries a shard tag, even with one shard
// (<prefix>impressions_stream:{tag}), so that the keys a stream's scripts touch with it (its dead letters,
// its replay epoch: names built by appending to the stream's) are in its slot. The seed's untagged name
// cannot be used there: impressions_stream and impressions_stream:dead hash to different slots. The API,
// the workers and the operator tools all take it when REDIS_CLUSTER_ADDRS is set (config.Redis.Names), so
// they agree.
func (n Names) OnCluster() Names {
	n.tagged = true
	return n
}

// Shards is the number of streams each kind of ad event is split into (1 for the zero value).
func (n Names) Shards() int { return max(1, n.shards) }

// Streams are the shards of the stream an ad event of type t goes to (nil for types that are not
// streamed). With one shard it is the seed's single stream, Stream(t) (unless OnCluster); with n > 1 it is
// <prefix>impressions_stream:{tag} (or clicks_stream) for each of ShardTags(n), in that order. The shard's
// tag is the only {…} in the name as long as the prefix holds no brace, which config refuses when
// STREAM_SHARDS > 1, so every key that repeats the tag (ShardTag) shares the shard's slot.
func (n Names) Streams(t event.Type) []string {
	base := n.Stream(t)
	if base == "" {
		return nil
	}
	if n.Shards() == 1 && !n.tagged {
		return []string{base}
	}
	tags := ShardTags(n.Shards())
	out := make([]string, len(tags))
	for i, tag := range tags {
		out[i] = base + ":{" + tag + "}"
	}
	return out
}

// ShardTag is the hash tag that puts a companion key of stream (its receipts, event-id keys, new-path
// budgets: every name that takes a tag) in the stream's slot, so that one script call may touch them
// together on a cluster. It is SlotTag(Slot(stream)): for a shard that is the tag in its name; for the seed's
// untagged stream it is the tag of the slot its whole name hashes to, as the publisher's receipts have
// always used. Names built by appending to a shard's name (the dead letters <stream>:dead, the replay
// epoch) share its slot by themselves; those of the seed's untagged stream do not, which is why a cluster
// always uses tagged shards (OnCluster).
func (n Names) ShardTag(stream string) string { return SlotTag(Slot(stream)) }
