package logging

import (
	"sync/atomic"
	"time"
)

// Every lets one log line through per interval, so that an error repeated on every retry is logged, not
// flooded (the metrics count every occurrence). The zero value lets everything through.
type Every struct {
	interval time.Duration
	next     atomic.Int64 // unix ns before which nothing passes
}

// NewEvery allows one line per interval.
func NewEvery(interval time.Duration) *Every { return &Every{interval: interval} }

// Allow reports whether a line may be logged now.
func (e *Every) Allow() bool {
	now := time.Now().UnixNano()
	next := e.next.Load()
	return now >= next && e.next.CompareAndSwap(next, now+int64(e.interval))
}
