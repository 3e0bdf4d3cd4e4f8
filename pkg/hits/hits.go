package hits

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"adly/pkg/event"
	"adly/pkg/keyspace"
	"adly/pkg/redisconn"
)

//go:embed hitmove.lua
var hitMoveLua string

//go:embed park.lua
var parkLua string

var hitMoveScript = redis.NewScript(parkLua + hitMoveLua)

// parkScript and finishScript are fenced like the lock's scripts (lock.go).
var (
	// KEYS[1] hit key, KEYS[2] fence; ARGV[1] parked key, ARGV[2] sync id, ARGV[3] fence value
	parkScript = redis.NewScript(parkLua + `if redis.call('GET', KEYS[2]) ~= ARGV[3] then
  return redis.error_reply('LOCKLOST the sync lock is not held by this syncer')
end
if park(KEYS[1], ARGV[1], ARGV[2]) then return 1 end
return 0`)
	// KEYS[1] staging, KEYS[2] pending set, KEYS[3] fence; ARGV[1] sync id, ARGV[2] fence value. Deletes
	// only: it runs on a full Redis, where MULTI/EXEC would be refused whole.
	finishScript = redis.NewScript(`if redis.call('GET', KEYS[3]) ~= ARGV[2] then
  return redis.error_reply('LOCKLOST the sync lock is not held by this syncer')
end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
return 1`)
)

// HitCounters is the Redis side of path hits: the hit counters (tagged or not), and the staging area the
// path syncer moves them through on their way to MariaDB.
type HitCounters struct {
	c       redis.UniversalClient
	names   keyspace.Names
	cluster *redis.ClusterClient // c on a Redis Cluster; nil on a single Redis
}

// NewHitCounters returns the hit counters under names. A *redis.ClusterClient makes every step work per
// hash slot (groups.go).
func NewHitCounters(c redis.UniversalClient, names keyspace.Names) *HitCounters {
	cluster, _ := c.(*redis.ClusterClient)
	return &HitCounters{c: c, names: names, cluster: cluster}
}

// Names are the names in use.
func (h *HitCounters) Names() keyspace.Names { return h.names }

// Scan walks every hit counter key (SCAN, never KEYS) on every master of a cluster, or on the single Redis,
// handing each page of keys to page; it stops at page's first error. A key may come twice.
func (h *HitCounters) Scan(ctx context.Context, count int64, page func(keys []string) error) error {
	if err := h.scanEach(ctx, h.names.HitKeyPattern(), count, page); err != nil {
		return fmt.Errorf("scan hit counters: %w", err)
	}
	return nil
}

// Parked is a key that could not be synced and was moved aside.
type Parked struct {
	Key    string
	Reason string
}

// Move moves the counters of keys into the staging of chunk c (hitmove.lua: one call per group of the
// keys, pipelined), appends what it moved to into (a key that vanished or held 0 adds nothing) and returns it
// with what it parked; the groups it staged into are added to c. Each call does nothing and answers
// ErrLockLost unless its group's fence (the sync lock on a single Redis) holds fence.
func (h *HitCounters) Move(ctx context.Context, fence string, c *Chunk, keys []string, into []event.PathCount) ([]event.PathCount, []Parked, error) {
	if len(keys) == 0 {
		return into, nil, nil
	}
	var calls []call
	if h.cluster == nil {
		calls = []call{h.moveCall(0, fence, c.ID, keys)}
	} else {
		byGroup := map[Group][]string{}
		for _, k := range keys {
			g := h.GroupOf(k)
			byGroup[g] = append(byGroup[g], k)
		}
		for _, g := range slices.Sorted(maps.Keys(byGroup)) {
			calls = append(calls, h.moveCall(g, fence, c.ID, byGroup[g]))
		}
	}
	cmds := h.runAll(ctx, hitMoveScript, calls)
	var parked []Parked
	for i, cmd := range cmds {
		if cmd.Err() != nil {
			continue
		}
		var pairs string
		var parkedRaw []string
		if err := redisconn.ScanReply(cmd.Val(), &pairs, &parkedRaw); err != nil {
			return into, nil, fmt.Errorf("move hit counters: %w", err)
		}
		if len(parkedRaw)%2 != 0 {
			return into, nil, fmt.Errorf("move hit counters: %w: %d parked keys and reasons", redisconn.ErrReplyShape, len(parkedRaw))
		}
		var err error
		if into, err = h.appendStaged(into, pairs); err != nil {
			return into, nil, fmt.Errorf("move hit counters: %w", err)
		}
		if pairs != "" {
			c.add(calls[i].g)
		}
		for j := 0; j < len(parkedRaw); j += 2 {
			parked = append(parked, Parked{Key: parkedRaw[j], Reason: parkedRaw[j+1]})
		}
	}
	if err := firstErr(cmds); err != nil {
		return into, parked, fmt.Errorf("move hit counters: %w", err)
	}
	return into, parked, nil
}

// moveCall is hitmove.lua's call for keys, all in group g.
func (h *HitCounters) moveCall(g Group, fence, id string, keys []string) call {
	tag := h.tag(g)
	all := make([]string, 0, len(keys)+3)
	all = append(all, h.names.TaggedSyncStaging(id, tag), h.names.TaggedSyncPending(tag), h.fenceKey(g))
	all = append(all, keys...)
	return call{g: g, keys: all, args: []any{id, len(h.names.HitKey("")) - 1, h.names.TaggedParkedKey("", tag), fence}}
}

// Park moves a hit key aside (to analytics:parked:<path>, in the key's slot on a cluster) so that it is
// neither synced nor retried forever. It does nothing and returns ErrLockLost unless the key's fence holds
// fence.
func (h *HitCounters) Park(ctx context.Context, fence, key, path, syncID string) error {
	g := h.GroupOf(key)
	err := parkScript.Run(ctx, h.c, []string{key, h.fenceKey(g)}, h.ParkedKeyOf(key, path), syncID, fence).Err()
	if err != nil {
		return fmt.Errorf("park %q: %w", key, fenced(err))
	}
	return nil
}

// ParkedKeyOf is where Park or Move parks key, a hit key whose path is path: analytics:parked:<path>, in
// key's slot on a cluster.
func (h *HitCounters) ParkedKeyOf(key, path string) string {
	return h.names.TaggedParkedKey(path, h.tag(h.GroupOf(key)))
}

// Pending lists the ids of the sync chunks whose counters are staged (in some group) and maybe not
// committed. It changes nothing (Claim is the owner's read).
func (h *HitCounters) Pending(ctx context.Context) ([]string, error) {
	if h.cluster == nil {
		ids, err := h.c.SMembers(ctx, h.names.SyncPending()).Result()
		if err != nil {
			return nil, fmt.Errorf("read pending sync chunks: %w", err)
		}
		return ids, nil
	}
	pipe := h.c.Pipeline()
	cmds := make([]*redis.StringSliceCmd, h.groups())
	for g := range cmds {
		cmds[g] = pipe.SMembers(ctx, h.names.TaggedSyncPending(h.tag(Group(g))))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("read pending sync chunks: %w", err)
	}
	seen := map[string]bool{}
	var ids []string
	for _, cmd := range cmds {
		for _, id := range cmd.Val() {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	return ids, nil
}

// Staged reads a chunk's staged counters from every group it is staged in, in the order they were moved
// within a group (a path moved twice appears twice).
func (h *HitCounters) Staged(ctx context.Context, c *Chunk) ([]event.PathCount, error) {
	groups := c.Groups()
	pipe := h.c.Pipeline()
	cmds := make([]*redis.StringCmd, len(groups))
	for i, g := range groups {
		cmds[i] = pipe.Get(ctx, h.names.TaggedSyncStaging(c.ID, h.tag(g)))
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("read staged chunk %s: %w", c.ID, err)
	}
	var out []event.PathCount
	for _, cmd := range cmds {
		raw, err := cmd.Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read staged chunk %s: %w", c.ID, err)
		}
		if out, err = h.appendStaged(out, raw); err != nil {
			return nil, fmt.Errorf("staged chunk %s: %w", c.ID, err)
		}
	}
	return out, nil
}

// appendStaged appends the counts of a staging record ("key<LF>value<LF>" pairs) to counts. The paths are
// substrings of record: one allocation per record, not per path. A record written by an earlier version
// ("path<TAB>value<LF>" lines) is read too, so that a chunk left by a crash survives an upgrade.
func (h *HitCounters) appendStaged(counts []event.PathCount, record string) ([]event.PathCount, error) {
	if first, _, _ := strings.Cut(record, "\n"); strings.Contains(first, "\t") {
		return appendStagedLines(counts, record) // keys never hold a TAB: the syncer parks such keys
	}
	for len(record) > 0 {
		key, rest, ok1 := strings.Cut(record, "\n")
		v, rest, ok2 := strings.Cut(rest, "\n")
		record = rest
		path, ok3 := h.names.PathOfHitKey(key)
		n, err := strconv.ParseInt(v, 10, 64)
		if !ok1 || !ok2 || !ok3 || err != nil {
			return counts, fmt.Errorf("bad staged pair %q %q", key, v)
		}
		counts = append(counts, event.PathCount{Path: path, Hits: n})
	}
	return counts, nil
}

// appendStagedLines reads the earlier "path<TAB>value<LF>" staging format.
func appendStagedLines(counts []event.PathCount, record string) ([]event.PathCount, error) {
	for line := range strings.SplitSeq(strings.TrimSuffix(record, "\n"), "\n") {
		path, v, ok := strings.Cut(line, "\t")
		n, err := strconv.ParseInt(v, 10, 64)
		if !ok || err != nil {
			return counts, fmt.Errorf("bad staged line %q", line)
		}
		counts = append(counts, event.PathCount{Path: path, Hits: n})
	}
	return counts, nil
}

// Finish drops a chunk's staging in every group once MariaDB holds it, in one script per group that only
// deletes (so it works on a full Redis). Each does nothing and answers ErrLockLost unless its group's fence
// holds fence.
func (h *HitCounters) Finish(ctx context.Context, fence string, c *Chunk) error {
	groups := c.Groups()
	calls := make([]call, len(groups))
	for i, g := range groups {
		tag := h.tag(g)
		calls[i] = call{g: g, keys: []string{h.names.TaggedSyncStaging(c.ID, tag), h.names.TaggedSyncPending(tag), h.fenceKey(g)},
			args: []any{c.ID, fence}}
	}
	if len(calls) == 0 {
		return nil
	}
	if err := firstErr(h.runAll(ctx, finishScript, calls)); err != nil {
		return fmt.Errorf("finish chunk %s: %w", c.ID, err)
	}
	return nil
}

// Incr adds one hit to each path's counter in one round trip (the tracking middleware's write).
func (h *HitCounters) Incr(ctx context.Context, counts map[string]int64) error {
	pipe := h.c.Pipeline()
	for path, n := range counts {
		pipe.IncrBy(ctx, h.names.HitKey(path), n)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("incr hit counters: %w", err)
	}
	return nil
}
