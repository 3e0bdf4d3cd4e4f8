package rdb

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"adly/pkg/event"
)

//go:embed hitmove.lua
var hitMoveLua string

var hitMoveScript = redis.NewScript(hitMoveLua)

var (
	extendLockScript  = redis.NewScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`)
	releaseLockScript = redis.NewScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`)
	parkScript        = redis.NewScript(`if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local target = ARGV[1]
if redis.call('EXISTS', target) == 1 then target = target .. ':' .. ARGV[2] end
redis.call('RENAME', KEYS[1], target)
return 1`)
)

// HitCounters is the Redis side of path hits: the analytics:hit:<path> counters, and the staging area the
// path syncer moves them through on their way to MariaDB.
type HitCounters struct {
	c     redis.UniversalClient
	names Names
}

// NewHitCounters returns the hit counters under names.
func NewHitCounters(c redis.UniversalClient, names Names) *HitCounters {
	return &HitCounters{c: c, names: names}
}

// Names are the names in use.
func (h *HitCounters) Names() Names { return h.names }

// Scan returns one page of hit counter keys (SCAN, never KEYS) and the next cursor (0 when done).
func (h *HitCounters) Scan(ctx context.Context, cursor uint64, count int64) ([]string, uint64, error) {
	keys, next, err := h.c.Scan(ctx, cursor, h.names.HitKeyPattern(), count).Result()
	if err != nil {
		return nil, 0, fmt.Errorf("scan hit counters: %w", err)
	}
	return keys, next, nil
}

// Parked is a key that could not be synced and was moved aside.
type Parked struct {
	Key    string
	Reason string
}

// Move moves the counters of keys into the staging record of syncID (hitmove.lua), appends what it moved to
// into (a key that vanished or held 0 adds nothing) and returns it with what it parked.
func (h *HitCounters) Move(ctx context.Context, syncID string, keys []string, into []event.PathCount) ([]event.PathCount, []Parked, error) {
	if len(keys) == 0 {
		return into, nil, nil
	}
	all := make([]string, 0, len(keys)+2)
	all = append(all, h.names.SyncStaging(syncID), h.names.SyncPending())
	all = append(all, keys...)
	res, err := hitMoveScript.Run(ctx, h.c, all, syncID, len(h.names.HitKey("")), h.names.ParkedKey("")).Slice()
	if err != nil {
		return into, nil, fmt.Errorf("move hit counters: %w", err)
	}
	if len(res) != 2 {
		return into, nil, errors.New("move hit counters: unexpected reply")
	}
	pairs, _ := res[0].(string)
	parkedRaw, _ := res[1].([]any)
	if into, err = h.appendStaged(into, pairs); err != nil {
		return into, nil, fmt.Errorf("move hit counters: %w", err)
	}
	var parked []Parked
	for i := 0; i+1 < len(parkedRaw); i += 2 {
		k, _ := parkedRaw[i].(string)
		r, _ := parkedRaw[i+1].(string)
		parked = append(parked, Parked{Key: k, Reason: r})
	}
	return into, parked, nil
}

// Park moves a hit key aside (to analytics:parked:<path>) so that it is neither synced nor retried forever.
func (h *HitCounters) Park(ctx context.Context, key, path, syncID string) error {
	if err := parkScript.Run(ctx, h.c, []string{key}, h.names.ParkedKey(path), syncID).Err(); err != nil {
		return fmt.Errorf("park %q: %w", key, err)
	}
	return nil
}

// Pending lists the sync chunks whose counters are staged and maybe not committed.
func (h *HitCounters) Pending(ctx context.Context) ([]string, error) {
	ids, err := h.c.SMembers(ctx, h.names.SyncPending()).Result()
	if err != nil {
		return nil, fmt.Errorf("read pending sync chunks: %w", err)
	}
	return ids, nil
}

// Staged reads a chunk's staged counters, in the order they were moved (a path moved twice appears twice).
func (h *HitCounters) Staged(ctx context.Context, syncID string) ([]event.PathCount, error) {
	raw, err := h.c.Get(ctx, h.names.SyncStaging(syncID)).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read staged chunk %s: %w", syncID, err)
	}
	out, err := h.appendStaged(nil, raw)
	if err != nil {
		return nil, fmt.Errorf("staged chunk %s: %w", syncID, err)
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

// Finish drops a chunk's staging once MariaDB holds it.
func (h *HitCounters) Finish(ctx context.Context, syncID string) error {
	_, err := h.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, h.names.SyncStaging(syncID))
		p.SRem(ctx, h.names.SyncPending(), syncID)
		return nil
	})
	if err != nil {
		return fmt.Errorf("finish chunk %s: %w", syncID, err)
	}
	return nil
}

// AcquireLock takes the sync lock for token, for ttl; false if someone else holds it.
func (h *HitCounters) AcquireLock(ctx context.Context, token string, ttl time.Duration) (bool, error) {
	ok, err := h.c.SetNX(ctx, h.names.SyncLock(), token, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("acquire sync lock: %w", err)
	}
	return ok, nil
}

// ExtendLock renews the lock if token still holds it.
func (h *HitCounters) ExtendLock(ctx context.Context, token string, ttl time.Duration) (bool, error) {
	n, err := extendLockScript.Run(ctx, h.c, []string{h.names.SyncLock()}, token, ttl.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("extend sync lock: %w", err)
	}
	return n == 1, nil
}

// ReleaseLock drops the lock only if token holds it.
func (h *HitCounters) ReleaseLock(ctx context.Context, token string) error {
	if err := releaseLockScript.Run(ctx, h.c, []string{h.names.SyncLock()}, token).Err(); err != nil {
		return fmt.Errorf("release sync lock: %w", err)
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
