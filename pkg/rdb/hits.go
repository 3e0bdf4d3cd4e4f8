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

// Move moves the counters of keys into the staging record of syncID (hitmove.lua) and returns what it moved
// (path -> hits) and what it parked.
func (h *HitCounters) Move(ctx context.Context, syncID string, keys []string) (map[string]int64, []Parked, error) {
	if len(keys) == 0 {
		return nil, nil, nil
	}
	all := make([]string, 0, len(keys)+2)
	all = append(all, h.names.SyncStaging(syncID), h.names.SyncPending())
	all = append(all, keys...)
	res, err := hitMoveScript.Run(ctx, h.c, all, syncID, len(h.names.HitKey("")), h.names.ParkedKey("")).Slice()
	if err != nil {
		return nil, nil, fmt.Errorf("move hit counters: %w", err)
	}
	if len(res) != 2 {
		return nil, nil, errors.New("move hit counters: unexpected reply")
	}
	movedRaw, _ := res[0].([]any)
	parkedRaw, _ := res[1].([]any)
	if len(movedRaw) != len(keys) {
		return nil, nil, fmt.Errorf("move hit counters: %d values for %d keys", len(movedRaw), len(keys))
	}
	moved := make(map[string]int64, len(keys))
	for i, raw := range movedRaw {
		v, _ := raw.(string)
		if v == "" {
			continue // absent, zero or parked
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, nil, fmt.Errorf("move hit counters: value %q: %w", v, err)
		}
		path, _ := h.names.PathOfHitKey(keys[i])
		moved[path] += n
	}
	var parked []Parked
	for i := 0; i+1 < len(parkedRaw); i += 2 {
		k, _ := parkedRaw[i].(string)
		r, _ := parkedRaw[i+1].(string)
		parked = append(parked, Parked{Key: k, Reason: r})
	}
	return moved, parked, nil
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

// Staged reads a chunk's staged counters ("path<TAB>value" lines; a path moved twice is summed).
func (h *HitCounters) Staged(ctx context.Context, syncID string) (map[string]int64, error) {
	raw, err := h.c.Get(ctx, h.names.SyncStaging(syncID)).Result()
	if errors.Is(err, redis.Nil) {
		return map[string]int64{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read staged chunk %s: %w", syncID, err)
	}
	out := map[string]int64{}
	for line := range strings.SplitSeq(strings.TrimSuffix(raw, "\n"), "\n") {
		if line == "" {
			continue
		}
		path, v, ok := strings.Cut(line, "\t")
		n, err := strconv.ParseInt(v, 10, 64)
		if !ok || err != nil {
			return nil, fmt.Errorf("staged chunk %s: bad line %q", syncID, line)
		}
		out[path] += n
	}
	return out, nil
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
