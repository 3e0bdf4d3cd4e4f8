package hits

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
	"adly/pkg/keyspace"
	"adly/pkg/redisconn"
)

//go:embed hitmove.lua
var hitMoveLua string

//go:embed park.lua
var parkLua string

var hitMoveScript = redis.NewScript(parkLua + hitMoveLua)

// ErrLockLost means the sync lock no longer holds the caller's token (it expired while the syncer was paused
// or cut off from Redis, and maybe another syncer took it): a fenced step did nothing.
var ErrLockLost = errors.New("sync lock lost")

// The sync lock's scripts, and the other steps that change staged state, fenced by the lock's owner token:
// each first checks GET lock == token and otherwise does nothing and answers an error starting with LOCKLOST.
// They all work on a full Redis (noeviction at maxmemory), because syncing is what frees its memory:
// acquireLockScript is allow-oom (its key is a few bytes); the others call no denyoom command (GET, DEL, SREM,
// PEXPIRE, RENAME), and a plain EVAL is refused under OOM only at a denyoom command before any write.
var (
	acquireLockScript = redis.NewScript(`#!lua flags=allow-oom
return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])`)
	extendLockScript  = redis.NewScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`)
	releaseLockScript = redis.NewScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`)
	// KEYS[1] hit key, KEYS[2] lock; ARGV[1] parked key, ARGV[2] sync id, ARGV[3] token
	parkScript = redis.NewScript(parkLua + `if redis.call('GET', KEYS[2]) ~= ARGV[3] then
  return redis.error_reply('LOCKLOST the sync lock is not held by this syncer')
end
if park(KEYS[1], ARGV[1], ARGV[2]) then return 1 end
return 0`)
	// KEYS[1] staging, KEYS[2] pending set, KEYS[3] lock; ARGV[1] sync id, ARGV[2] token. Deletes only: it
	// runs on a full Redis, where MULTI/EXEC would be refused whole.
	finishScript = redis.NewScript(`if redis.call('GET', KEYS[3]) ~= ARGV[2] then
  return redis.error_reply('LOCKLOST the sync lock is not held by this syncer')
end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
return 1`)
)

// fenced maps a script's LOCKLOST answer to ErrLockLost.
func fenced(err error) error {
	if redis.HasErrorPrefix(err, "LOCKLOST") {
		return ErrLockLost
	}
	return err
}

// HitCounters is the Redis side of path hits: the analytics:hit:<path> counters, and the staging area the
// path syncer moves them through on their way to MariaDB.
type HitCounters struct {
	c     redis.UniversalClient
	names keyspace.Names
}

// NewHitCounters returns the hit counters under names.
func NewHitCounters(c redis.UniversalClient, names keyspace.Names) *HitCounters {
	return &HitCounters{c: c, names: names}
}

// Names are the names in use.
func (h *HitCounters) Names() keyspace.Names { return h.names }

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
// into (a key that vanished or held 0 adds nothing) and returns it with what it parked. It does nothing and
// returns ErrLockLost unless the sync lock holds token.
func (h *HitCounters) Move(ctx context.Context, token, syncID string, keys []string, into []event.PathCount) ([]event.PathCount, []Parked, error) {
	if len(keys) == 0 {
		return into, nil, nil
	}
	all := make([]string, 0, len(keys)+3)
	all = append(all, h.names.SyncStaging(syncID), h.names.SyncPending(), h.names.SyncLock())
	all = append(all, keys...)
	reply, err := hitMoveScript.Run(ctx, h.c, all, syncID, len(h.names.HitKey("")), h.names.ParkedKey(""), token).Result()
	if err != nil {
		return into, nil, fmt.Errorf("move hit counters: %w", fenced(err))
	}
	var pairs string
	var parkedRaw []string
	if err := redisconn.ScanReply(reply, &pairs, &parkedRaw); err != nil {
		return into, nil, fmt.Errorf("move hit counters: %w", err)
	}
	if len(parkedRaw)%2 != 0 {
		return into, nil, fmt.Errorf("move hit counters: %w: %d parked keys and reasons", redisconn.ErrReplyShape, len(parkedRaw))
	}
	if into, err = h.appendStaged(into, pairs); err != nil {
		return into, nil, fmt.Errorf("move hit counters: %w", err)
	}
	var parked []Parked
	for i := 0; i < len(parkedRaw); i += 2 {
		parked = append(parked, Parked{Key: parkedRaw[i], Reason: parkedRaw[i+1]})
	}
	return into, parked, nil
}

// Park moves a hit key aside (to analytics:parked:<path>) so that it is neither synced nor retried forever.
// It does nothing and returns ErrLockLost unless the sync lock holds token.
func (h *HitCounters) Park(ctx context.Context, token, key, path, syncID string) error {
	err := parkScript.Run(ctx, h.c, []string{key, h.names.SyncLock()}, h.names.ParkedKey(path), syncID, token).Err()
	if err != nil {
		return fmt.Errorf("park %q: %w", key, fenced(err))
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

// Finish drops a chunk's staging once MariaDB holds it, in one script that only deletes (so it works on a
// full Redis). It does nothing and returns ErrLockLost unless the sync lock holds token.
func (h *HitCounters) Finish(ctx context.Context, token, syncID string) error {
	keys := []string{h.names.SyncStaging(syncID), h.names.SyncPending(), h.names.SyncLock()}
	if err := finishScript.Run(ctx, h.c, keys, syncID, token).Err(); err != nil {
		return fmt.Errorf("finish chunk %s: %w", syncID, fenced(err))
	}
	return nil
}

// AcquireLock takes the sync lock for token, for ttl; false if someone else holds it. It works on a full
// Redis (an allow-oom script: a plain SET NX is refused there, and the sync is what frees memory).
func (h *HitCounters) AcquireLock(ctx context.Context, token string, ttl time.Duration) (bool, error) {
	err := acquireLockScript.Run(ctx, h.c, []string{h.names.SyncLock()}, token, ttl.Milliseconds()).Err()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("acquire sync lock: %w", err)
	}
	return true, nil
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
