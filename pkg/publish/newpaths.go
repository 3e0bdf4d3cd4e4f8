package publish

import (
	"errors"
	"fmt"
	"time"
)

// ErrTooManyNewPaths means a request's hits would create more new path counters than the minute's budget
// (PublisherOptions.NewPathsPerMinute) has left. Nothing of the request was stored; retrying once the next
// minute has started is safe. The error is a *NewPathsError, which says when that is.
var ErrTooManyNewPaths = errors.New("too many new paths this minute")

// NewPathsError is the error of a request refused for new paths. It wraps ErrTooManyNewPaths.
type NewPathsError struct {
	// Limit is the budget: new path counters a minute.
	Limit int
	// Next is when the next minute's budget starts, on the publisher's clock (PublisherOptions.Now).
	Next time.Time
	// RetryAfter is the time from the refusal until Next, at least a second: what Retry-After should say.
	RetryAfter time.Duration
}

func (e *NewPathsError) Error() string {
	return fmt.Sprintf("%s: the budget of %d new paths a minute is spent; nothing was stored, retry in %s",
		ErrTooManyNewPaths, e.Limit, e.RetryAfter)
}

func (e *NewPathsError) Unwrap() error { return ErrTooManyNewPaths }

// minute is the Unix minute the new-path budget counts now, on the Redis clock as the publisher estimates
// it, so that API processes whose clocks differ share one budget key.
func (p *Publisher) minute() int64 {
	ms := p.opts.Now().UnixMilli() + p.offsetMs.Load()
	return floorDiv(ms, 60_000)
}

// newPathsError is the error of a request refused in minute.
func (p *Publisher) newPathsError(minute int64) *NewPathsError {
	now := p.opts.Now()
	next := time.UnixMilli((minute+1)*60_000 - p.offsetMs.Load())
	return &NewPathsError{Limit: p.opts.NewPathsPerMinute, Next: next, RetryAfter: max(next.Sub(now), time.Second)}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
