package hits

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/redis/go-redis/v9"

	"adly/pkg/keyspace"
)

// Group is a set of keys that one script call may touch together: a hash slot on a Redis Cluster (every
// script of the syncer touches the keys of one slot only); on a single Redis every key is in group 0, and
// the names are the seed's (no tags).
type Group uint16

// groups is how many groups there are: 16384 slots on a cluster, one on a single Redis.
func (h *HitCounters) groups() int {
	if h.cluster == nil {
		return 1
	}
	return 16384
}

// GroupOf is the group of key.
func (h *HitCounters) GroupOf(key string) Group {
	if h.cluster == nil {
		return 0
	}
	return Group(keyspace.Slot(key))
}

// tag is the hash tag that puts a syncer key into group g ("" on a single Redis: the seed's names).
func (h *HitCounters) tag(g Group) string {
	if h.cluster == nil {
		return ""
	}
	return keyspace.SlotTag(uint16(g))
}

// fenceKey is the key every fenced script of group g checks: the sync lock itself on a single Redis, the
// slot's fence on a cluster.
func (h *HitCounters) fenceKey(g Group) string {
	if h.cluster == nil {
		return h.names.SyncLock()
	}
	return h.names.SyncFence(h.tag(g))
}

// Chunk is one sync chunk as Redis holds it: its id, and the groups that hold a part of its staging (each
// part a staging record and an entry in the group's pending set). On a single Redis that is group 0 only.
type Chunk struct {
	ID     string
	groups map[Group]struct{}
}

// NewChunk is an empty chunk with id.
func NewChunk(id string) *Chunk { return &Chunk{ID: id, groups: map[Group]struct{}{}} }

// Groups are the chunk's groups, in order.
func (c *Chunk) Groups() []Group { return slices.Sorted(maps.Keys(c.groups)) }

func (c *Chunk) add(g Group) { c.groups[g] = struct{}{} }

// call is one script call in one group.
type call struct {
	g    Group
	keys []string
	args []any
}

// runAll runs script once per call, pipelined (on a cluster the pipeline goes to every master at once), and
// returns each call's reply in order. A call refused with NOSCRIPT did not run: the script is loaded (on
// every master) and those calls are sent again, and one still refused is run with the script's text.
func (h *HitCounters) runAll(ctx context.Context, script *redis.Script, calls []call) []*redis.Cmd {
	if len(calls) == 1 {
		return []*redis.Cmd{script.Run(ctx, h.c, calls[0].keys, calls[0].args...)}
	}
	cmds := make([]*redis.Cmd, len(calls))
	todo := make([]int, len(calls))
	for i := range todo {
		todo[i] = i
	}
	for attempt := 0; len(todo) > 0; attempt++ {
		if attempt == 2 {
			for _, i := range todo {
				cmds[i] = script.Run(ctx, h.c, calls[i].keys, calls[i].args...)
			}
			break
		}
		if attempt == 1 {
			_ = script.Load(ctx, h.c).Err() // a failure shows in the calls below
		}
		pipe := h.c.Pipeline()
		for _, i := range todo {
			cmds[i] = script.EvalSha(ctx, pipe, calls[i].keys, calls[i].args...)
		}
		_, _ = pipe.Exec(ctx) // each command carries its own error
		refused := todo[:0]
		for _, i := range todo {
			if redis.HasErrorPrefix(cmds[i].Err(), "NOSCRIPT") {
				refused = append(refused, i)
			}
		}
		todo = refused
	}
	return cmds
}

// firstErr is the first error of cmds, a LOCKLOST before any other (it tells the caller to stop), mapped
// to ErrLockLost.
func firstErr(cmds []*redis.Cmd) error {
	var first error
	for _, c := range cmds {
		if err := c.Err(); err != nil {
			if redis.HasErrorPrefix(err, "LOCKLOST") {
				return ErrLockLost
			}
			if first == nil {
				first = err
			}
		}
	}
	return first
}

// nodes are the clients to scan: every master of a cluster, or the single Redis.
func (h *HitCounters) nodes(ctx context.Context) ([]redis.UniversalClient, error) {
	if h.cluster == nil {
		return []redis.UniversalClient{h.c}, nil
	}
	var mu sync.Mutex
	var out []redis.UniversalClient
	err := h.cluster.ForEachMaster(ctx, func(_ context.Context, node *redis.Client) error {
		mu.Lock()
		defer mu.Unlock()
		out = append(out, node)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list cluster masters: %w", err)
	}
	return out, nil
}

// scanEach walks the keys matching pattern on every node (SCAN, never KEYS), one node after the other,
// handing each page to page; it stops at page's first error.
func (h *HitCounters) scanEach(ctx context.Context, pattern string, count int64, page func([]string) error) error {
	nodes, err := h.nodes(ctx)
	if err != nil {
		return err
	}
	for _, node := range nodes {
		var cursor uint64
		for {
			keys, next, err := node.Scan(ctx, cursor, pattern, count).Result()
			if err != nil {
				return fmt.Errorf("scan %s: %w", pattern, err)
			}
			if err := page(keys); err != nil {
				return err
			}
			if next == 0 {
				break
			}
			cursor = next
		}
	}
	return nil
}
