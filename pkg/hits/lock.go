package hits

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrLockLost means the sync lock (or, on a cluster, a slot's fence) no longer holds the caller's token (it
// expired while the syncer was paused or cut off from Redis, and maybe another syncer took it): a fenced
// step did nothing.
var ErrLockLost = errors.New("sync lock lost")

// The sync lock's scripts, the claim of a cluster's slots, and the other steps that change staged state,
// fenced by the owner's fence value: each first checks GET fence == value and otherwise does nothing and
// answers an error starting with LOCKLOST. They all work on a full Redis (noeviction at maxmemory), because
// syncing is what frees its memory: acquireLockScript, epochScript and claimScript are allow-oom (a few
// bytes each); the others call no denyoom command (GET, DEL, SREM, PEXPIRE, RENAME), and a plain EVAL is
// refused under OOM only at a denyoom command before any write.
var (
	acquireLockScript = redis.NewScript(`#!lua flags=allow-oom
return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])`)
	extendLockScript  = redis.NewScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`)
	releaseLockScript = redis.NewScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`)
	// KEYS[1] the epoch counter
	epochScript = redis.NewScript(`#!lua flags=allow-oom
return redis.call('INCR', KEYS[1])`)
	// KEYS[1] the slot's fence, KEYS[2] its pending set; ARGV[1] fence value, ARGV[2] its epoch, ARGV[3]
	// the fence's time to live (ms). A fence holding a later epoch is never taken back.
	claimScript = redis.NewScript(`#!lua flags=allow-oom
local cur = redis.call('GET', KEYS[1])
if cur then
  local e = tonumber(string.match(cur, '^(%d+)-'))
  if e and e > tonumber(ARGV[2]) then
    return redis.error_reply('LOCKLOST a later sync claimed this slot')
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return redis.call('SMEMBERS', KEYS[2])`)
)

// fenceTTL is how long a slot's fence outlives the last sync that claimed it. It only has to outlast a sync
// (a fence gone makes the owner's next step in the slot answer LOCKLOST); afterwards the next claim
// replaces it anyway. It keeps a cluster from holding 16384 fences forever once the syncer is gone.
const fenceTTL = 7 * 24 * time.Hour

// fenced maps a script's LOCKLOST answer to ErrLockLost.
func fenced(err error) error {
	if redis.HasErrorPrefix(err, "LOCKLOST") {
		return ErrLockLost
	}
	return err
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

// Claim makes the holder of the lock's token the owner of every group's staged state and returns its fence
// value (what its moves, parks and finishes pass) and every chunk that is pending in some group.
//
// On a single Redis the lock is the fence: the value is token, and the pending chunks are read after the
// lock was taken. On a cluster it takes a new epoch (greater than every earlier owner's), then sets the fence
// of each of the 16384 slots to "<epoch>-<token>" and reads that slot's pending set in the same script
// (pipelined, every master at once): from that moment no step of an earlier owner changes anything in the
// slot. A slot whose fence holds a later epoch is not taken back: the claim answers ErrLockLost.
func (h *HitCounters) Claim(ctx context.Context, token string) (string, []*Chunk, error) {
	if h.cluster == nil {
		ids, err := h.c.SMembers(ctx, h.names.SyncPending()).Result()
		if err != nil {
			return "", nil, fmt.Errorf("read pending sync chunks: %w", err)
		}
		chunks := make([]*Chunk, len(ids))
		for i, id := range ids {
			chunks[i] = NewChunk(id)
			chunks[i].add(0)
		}
		return token, chunks, nil
	}
	epoch, err := epochScript.Run(ctx, h.c, []string{h.names.SyncEpoch()}).Int64()
	if err != nil {
		return "", nil, fmt.Errorf("take a sync epoch: %w", err)
	}
	fence := fmt.Sprintf("%020d-%s", epoch, token)
	calls := make([]call, h.groups())
	for g := range calls {
		calls[g] = call{g: Group(g), keys: []string{h.fenceKey(Group(g)), h.names.TaggedSyncPending(h.tag(Group(g)))},
			args: []any{fence, strconv.FormatInt(epoch, 10), fenceTTL.Milliseconds()}}
	}
	cmds := h.runAll(ctx, claimScript, calls)
	if err := firstErr(cmds); err != nil {
		return "", nil, fmt.Errorf("claim the slots: %w", err)
	}
	byID := map[string]*Chunk{}
	var chunks []*Chunk
	for i, cmd := range cmds {
		ids, err := cmd.StringSlice()
		if err != nil {
			return "", nil, fmt.Errorf("claim slot %d: %w", calls[i].g, err)
		}
		for _, id := range ids {
			c := byID[id]
			if c == nil {
				c = NewChunk(id)
				byID[id] = c
				chunks = append(chunks, c)
			}
			c.add(calls[i].g)
		}
	}
	return fence, chunks, nil
}
