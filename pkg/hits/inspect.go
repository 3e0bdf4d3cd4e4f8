package hits

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
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

// Backlog scans every path-hits key in one pass (SCAN, never KEYS, so Redis stays responsive), summing the
// hit counters and counting the parked keys. It stops after maxKeys keys or maxTime; keys deleted between
// the scan and the read (synced meanwhile) are skipped.
func (h *HitCounters) Backlog(ctx context.Context, maxKeys int64, maxTime time.Duration) Backlog {
	var b Backlog
	start := time.Now()
	parked := h.names.ParkedKey("")
	var cursor uint64
	for {
		keys, next, err := h.c.Scan(ctx, cursor, h.names.AnalyticsPattern(), 1000).Result()
		if err != nil {
			b.Stopped, b.Err = StoppedFailed, fmt.Errorf("scan path-hits keys: %w", err)
			return b
		}
		var hitKeys []string
		for _, k := range keys {
			b.Seen++
			if _, ok := h.names.PathOfHitKey(k); ok {
				hitKeys = append(hitKeys, k)
			} else if strings.HasPrefix(k, parked) {
				b.Parked++
			}
		}
		if len(hitKeys) > 0 {
			vals, err := h.c.MGet(ctx, hitKeys...).Result()
			if err != nil {
				b.Stopped, b.Err = StoppedFailed, fmt.Errorf("read hit counters: %w", err)
				return b
			}
			for _, v := range vals {
				s, ok := v.(string)
				if !ok {
					continue // gone since the scan
				}
				if n, err := strconv.ParseInt(s, 10, 64); err == nil {
					b.Counters++
					b.Hits += n
				} else {
					b.NonInteger++
				}
			}
		}
		cursor = next
		switch {
		case cursor == 0:
			return b
		case b.Seen >= maxKeys:
			b.Stopped = StoppedKeys
			return b
		case time.Since(start) >= maxTime:
			b.Stopped = StoppedTime
			return b
		}
	}
}

// PendingCount is how many sync chunks are staged and maybe not committed.
func (h *HitCounters) PendingCount(ctx context.Context) (int64, error) {
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
