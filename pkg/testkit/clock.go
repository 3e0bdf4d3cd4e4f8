package testkit

import (
	"sync"
	"testing"
	"time"
)

// Clock is a clock a test sets and moves: pass its Now where a component takes a clock (ingest's
// HandlerOptions.Now, pathsync's Options.Now), so that a test can stand for hours or days without waiting.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock that reads start until it is moved.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock by d (backwards when d is negative).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// StartOfMinuteRoom waits, when the wall clock's current minute has less than room left, until the next
// minute has begun: a test of a per-minute budget (NEW_PATHS_PER_MINUTE, kept per Unix minute of Redis's
// clock, this machine's) then runs inside one minute.
func StartOfMinuteRoom(t testing.TB, room time.Duration) {
	t.Helper()
	if left := time.Minute - time.Duration(time.Now().UnixNano()%int64(time.Minute)); left < room {
		time.Sleep(left + 200*time.Millisecond) // to the next minute's start: a wait for the clock, not a gate
	}
}
