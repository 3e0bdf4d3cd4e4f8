package publish

import (
	"math/rand/v2"
	"sync/atomic"

	"adly/pkg/event"
	"adly/pkg/keyspace"
)

// shards are the stream shards the publisher writes to (doc.go, "Shards"): with more than one shard, or on
// a cluster (keyspace.Names.OnCluster), every event goes to one shard, and each script call carries the
// events of one shard, all its keys in that shard's slot.
type shards struct {
	on          bool     // the names are sharded: streams carry a shard tag
	impressions []string // the shards of each kind's stream, in keyspace.Names.Streams's order
	clicks      []string
	tags        []string // shard k's hash tag (keyspace.Names.ShardTag), for its call's other keys
	slots       []uint16 // shard k's slot
	rr          *atomic.Uint64
}

func newShards(names keyspace.Names) shards {
	imps := names.Streams(event.Impression)
	s := shards{on: len(imps) > 1 || imps[0] != names.Stream(event.Impression)}
	if !s.on {
		return s
	}
	s.impressions, s.clicks = imps, names.Streams(event.Click)
	for _, stream := range imps {
		tag := names.ShardTag(stream)
		s.tags = append(s.tags, tag)
		s.slots = append(s.slots, keyspace.Slot(stream))
	}
	// A random start, so that API processes started together do not send their first requests to one shard.
	s.rr = new(atomic.Uint64)
	s.rr.Store(rand.Uint64())
	return s
}

// next is the shard of a new request: round-robin, so that requests spread evenly over the shards.
func (s shards) next() int { return int(s.rr.Add(1) % uint64(len(s.tags))) }

// of is the shard event e of request pd goes to: the shard its event_id hashes to, so that a retry (with
// the same event_id, from any API process) meets the event-id key of the first write; else the request's.
func (s shards) of(pd *pending, e event.Event) int {
	if e.ID == "" {
		return pd.shard
	}
	return idShard(e.ID, len(s.tags))
}

// stream is shard k's stream for type t.
func (s shards) stream(t event.Type, k int) string {
	if t == event.Click {
		return s.clicks[k]
	}
	return s.impressions[k]
}

// idShard is FNV-1a (32 bits) of an event_id, modulo n: fixed, so that every API process, and every
// version, sends an event_id to the same shard for as long as STREAM_SHARDS stays the same.
func idShard(id string, n int) int {
	h := uint32(2166136261)
	for i := 0; i < len(id); i++ {
		h ^= uint32(id[i])
		h *= 16777619
	}
	return int(h % uint32(n))
}
