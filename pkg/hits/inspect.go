package hits

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// The read-only views below serve the operator's inspection; they change nothing.

// Backlog is what waits in Redis for the path syncer, as one bounded scan saw it.
type Backlog struct {
	Counters   int64 // hit counters holding an integer
	Hits       int64 // their sum
	NonInteger int64 // hit counters holding something else (the syncer parks them)
	Parked     int64 // parked keys
	Seen       int64 // path-hits keys the scan returned
	// Stopped says why the scan ended before covering every key ("" when it covered them all): too many
	// keys, out of time, or a failed SCAN. The figures then cover the keys seen so far.
	Stopped StopReason
	Err     error // the failed SCAN, with Stopped == StoppedFailed
}

// StopReason says why a bounded scan stopped early.
type StopReason string

// The reasons a Backlog scan stops early.
const (
	StoppedKeys   StopReason = "keys"
	StoppedTime   StopReason = "time"
	StoppedFailed StopReason = "failed"
)

// errStop ends a bounded scan early.
var errStop = errors.New("stop")

// Backlog scans every path-hits key in one pass (SCAN, never KEYS, so Redis stays responsive; every master
// of a cluster), summing the hit counters and counting the parked keys. It stops after maxKeys keys or
// maxTime; keys deleted between the scan and the read (synced meanwhile) are skipped.
func (h *HitCounters) Backlog(ctx context.Context, maxKeys int64, maxTime time.Duration) Backlog {
	var b Backlog
	start := time.Now()
	err := h.scanEach(ctx, h.names.AnalyticsPattern(), 1000, func(keys []string) error {
		pipe := h.c.Pipeline() // GETs, not one MGET: a cluster's MGET must stay in one slot
		var gets []*redis.StringCmd
		for _, k := range keys {
			b.Seen++
			if _, ok := h.names.PathOfHitKey(k); ok {
				gets = append(gets, pipe.Get(ctx, k))
			} else if h.names.IsParkedKey(k) {
				b.Parked++
			}
		}
		if len(gets) > 0 {
			_, _ = pipe.Exec(ctx) // each GET carries its own error
			for _, g := range gets {
				s, err := g.Result()
				switch {
				case errors.Is(err, redis.Nil):
					continue // gone since the scan
				case redis.HasErrorPrefix(err, "WRONGTYPE"):
					b.NonInteger++
					continue
				case err != nil:
					return fmt.Errorf("read hit counters: %w", err)
				}
				if n, err := strconv.ParseInt(s, 10, 64); err == nil {
					b.Counters++
					b.Hits += n
				} else {
					b.NonInteger++
				}
			}
		}
		switch {
		case b.Seen >= maxKeys:
			b.Stopped = StoppedKeys
			return errStop
		case time.Since(start) >= maxTime:
			b.Stopped = StoppedTime
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		b.Stopped, b.Err = StoppedFailed, fmt.Errorf("scan path-hits keys: %w", err)
	}
	return b
}

// PendingCount is how many sync chunks are staged and maybe not committed.
func (h *HitCounters) PendingCount(ctx context.Context) (int64, error) {
	if h.cluster != nil {
		ids, err := h.Pending(ctx)
		return int64(len(ids)), err
	}
	n, err := h.c.SCard(ctx, h.names.SyncPending()).Result()
	if err != nil {
		return 0, fmt.Errorf("count pending sync chunks: %w", err)
	}
	return n, nil
}

// LockState is who holds the sync lock and for how long still.
type LockState struct {
	Held  bool
	Owner string
	// TTL is the time left; negative when the lock has no expiry.
	TTL time.Duration
}

// Lock reads the sync lock's owner token and time to live.
func (h *HitCounters) Lock(ctx context.Context) (LockState, error) {
	owner, err := h.c.Get(ctx, h.names.SyncLock()).Result()
	if errors.Is(err, redis.Nil) {
		return LockState{}, nil
	}
	if err != nil {
		return LockState{}, fmt.Errorf("read sync lock: %w", err)
	}
	ttl, err := h.c.TTL(ctx, h.names.SyncLock()).Result()
	if err != nil {
		return LockState{}, fmt.Errorf("read sync lock ttl: %w", err)
	}
	switch {
	case ttl == -2: // expired between the two reads
		return LockState{}, nil
	case ttl == -1:
		return LockState{Held: true, Owner: owner, TTL: -1}, nil
	}
	return LockState{Held: true, Owner: owner, TTL: ttl}, nil
}
