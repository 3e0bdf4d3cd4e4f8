package publish

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"adly/pkg/redisconn"
)

// callState is what became of one script call.
type callState uint8

const (
	callRan          callState = iota // it ran: its reply (or its receipt) gave its IDs
	callFailed                        // it did not run: nothing of it was stored
	callUnknown                       // it may have run: its reply was lost and its receipt could not be read
	callNotConfirmed                  // it ran, but WAIT did not confirm that enough replicas have it
)

// tally is what became of the script calls a request has parts in (a request whose events go to several
// shards or slots is written by several calls).
type tally struct {
	parts int // the calls that carry part of it
	// of them: those that refused it for the new-path budget, did not run, may have run, or ran unconfirmed
	// by WAIT
	refused, failed, unsure, notConfirmed int
	// an error of each kind, for the answer
	failErr, unsureErr, notConfirmedErr error
	mark                                int // build: the last call that counted it among its parts
}

// multi tells whether a flush may make several script calls, one per shard or slot.
func (p *Publisher) multi() bool { return p.cluster || p.shards.on }

// budget is the new-path budget of one script call: NewPathsPerMinute, shared out evenly over the shards
// with sharded names (each shard keeps its own count in its slot), so that the shards together create
// about NewPathsPerMinute counters a minute.
func (p *Publisher) budget() int {
	if !p.shards.on {
		return p.opts.NewPathsPerMinute
	}
	n := len(p.shards.tags)
	return (p.opts.NewPathsPerMinute + n - 1) / n
}

// flush writes the events of every call in batch that is not abandoned.
func (p *Publisher) flush(batch []*pending) {
	live := make([]*pending, 0, len(batch))
	var deadline time.Time
	events := 0
	for _, pd := range batch {
		if !pd.state.CompareAndSwap(stateQueued, stateTaken) {
			continue // its caller gave up and answered 503: it must not be written
		}
		live = append(live, pd)
		events += len(pd.events)
		if deadline.IsZero() || pd.deadline.Before(deadline) {
			deadline = pd.deadline
		}
	}
	if len(live) == 0 {
		return
	}
	// WAIT runs after the script and may take its whole timeout: the script's cutoff leaves room for it.
	cutoff := deadline.Add(-p.margin - p.opts.WaitTimeout)
	if time.Now().After(cutoff) {
		p.metrics.errors.WithLabelValues("timeout").Inc()
		err := fmt.Errorf("%w: the write could not start before its deadline", ErrUnavailable)
		for _, pd := range live {
			pd.ids, pd.err = nil, err
			close(pd.done)
		}
		return
	}
	calls := p.build(live, cutoff.UnixMilli()+p.offsetMs.Load())

	// The round trip may last until a little after the cutoff (and WAIT's timeout), which leaves time before
	// the deadline to ask Redis whether a call whose reply did not come ran.
	ctx, cancel := context.WithDeadline(context.Background(), cutoff.Add(p.opts.WaitTimeout+p.margin/2))
	defer cancel()
	start := time.Now()
	p.exec(ctx, calls)
	p.metrics.writeSeconds.Observe(time.Since(start).Seconds())
	p.metrics.flushEvents.Observe(float64(events))
	p.outcomes(calls, deadline)
	p.settle(calls, live)
}

// outcomes decides what became of each call: from its reply, from its receipt when the reply was lost, and
// from its WAIT.
func (p *Publisher) outcomes(calls []*scriptCall, deadline time.Time) {
	var unknown []*scriptCall
	for _, c := range calls {
		err := c.cmd.Err()
		if err == nil {
			err = c.assign()
		}
		if err == nil {
			c.state = callRan
			continue
		}
		c.reason, c.err = p.classify(err)
		if c.reason == "unconfirmed" {
			c.state = callUnknown
			unknown = append(unknown, c)
			continue
		}
		c.state = callFailed
		p.failed(c, err)
	}
	if len(unknown) > 0 {
		p.resolve(unknown, deadline)
	}
	if p.opts.WaitReplicas > 0 {
		p.checkWait(calls)
	}
}

func (p *Publisher) failed(c *scriptCall, err error) {
	p.metrics.errors.WithLabelValues(c.reason).Inc()
	if p.errLog.Allow() {
		p.log.Error("redis write failed", zap.String("reason", c.reason), zap.Error(err))
	}
}

// resolve finds out, after writes whose reply was lost, whether each of calls ran: a call ran if its receipt
// is there, and did not if the receipt is missing once Redis's clock is past the call's cutoff (publish.lua
// refuses to run after it). A call Redis could not be asked about before the deadline stays unknown.
func (p *Publisher) resolve(calls []*scriptCall, deadline time.Time) {
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	for _, c := range calls {
		stored, err := p.checkReceipt(ctx, c)
		switch {
		case err != nil:
			p.metrics.lostReplies.WithLabelValues("unknown").Inc()
			p.metrics.errors.WithLabelValues("unconfirmed").Inc()
			if p.errLog.Allow() {
				p.log.Error("could not tell whether a write whose reply was lost ran", zap.Error(err))
			}
		case stored:
			p.metrics.lostReplies.WithLabelValues("stored").Inc()
			c.state, c.lost = callRan, true
		default:
			p.metrics.lostReplies.WithLabelValues("not_stored").Inc()
			c.state, c.reason = callFailed, "lost_reply"
			c.err = fmt.Errorf("%w: the reply was lost and the write did not run", ErrUnavailable)
			p.failed(c, c.err)
		}
	}
}

// checkReceipt asks Redis whether call c ran (receipt.lua), waiting for its cutoff to pass if need be, and
// on true assigns its IDs.
func (p *Publisher) checkReceipt(ctx context.Context, c *scriptCall) (bool, error) {
	for {
		reply, err := receiptScript.Run(ctx, p.client, []string{c.receipt}, c.cutoffMs).Result()
		if err != nil {
			return false, fmt.Errorf("check receipt: %w", err)
		}
		var state, wait int64
		var joined string
		switch {
		case redisconn.ScanReply(reply, &state, &joined) == nil && state == 1:
			return true, c.setIDs(joined)
		case redisconn.ScanReply(reply, &state) == nil && state == 0:
			return false, nil
		case redisconn.ScanReply(reply, &state, &wait) == nil && state == 2:
			select {
			case <-time.After(time.Duration(wait) * time.Millisecond):
			case <-ctx.Done():
				return false, ctx.Err()
			}
		default:
			return false, fmt.Errorf("check receipt: %w: %v", redisconn.ErrReplyShape, reply)
		}
	}
}

// settle hands each request the outcome of the calls that carry it, and answers it: its IDs when every one
// of them stored its part (and, with WaitReplicas, WAIT confirmed them); ErrTooManyNewPaths when the
// new-path budget refused it and nothing of it was stored; the error of a call that did not run when none
// of its calls stored anything; and ErrUnconfirmed when some of it may be stored: a call's reply was lost
// and its receipt could not be read, some calls stored their part and others did not, or WAIT did not
// confirm a call that stored it.
func (p *Publisher) settle(calls []*scriptCall, live []*pending) {
	multi := p.multi()
	if !multi && len(calls) == 1 {
		for _, pd := range live {
			pd.tally.parts = 1
		}
	}
	var retry *NewPathsError
	for _, c := range calls {
		members := c.members
		if !multi {
			members = live
		}
		switch c.state {
		case callFailed:
			for _, pd := range members {
				pd.tally.failed++
				if pd.tally.failErr == nil {
					pd.tally.failErr = c.err
				}
			}
			continue
		case callUnknown:
			for _, pd := range members {
				pd.tally.unsure++
				if pd.tally.unsureErr == nil {
					pd.tally.unsureErr = c.err
				}
			}
			continue
		case callRan:
			p.metrics.duplicates.Add(float64(c.dups))
		case callNotConfirmed:
			for _, pd := range members {
				pd.tally.notConfirmed++
				if pd.tally.notConfirmedErr == nil {
					pd.tally.notConfirmedErr = c.err
				}
			}
		}
		for _, g := range c.refused {
			t := &c.group(g).pd.tally
			t.refused++
			if c.state == callNotConfirmed {
				t.notConfirmed-- // nothing of it was written in this call
			}
		}
		if len(c.refused) > 0 && retry == nil {
			retry = p.newPathsError(c.minute)
		}
	}
	for _, pd := range live {
		pd.err = p.answer(&pd.tally, retry)
		if pd.err != nil {
			pd.ids = nil
		} else {
			for _, e := range pd.events {
				p.metrics.events[e.Type].Inc()
			}
		}
		close(pd.done)
	}
}

// answer is a request's error from its tally, nil when it was stored (and confirmed).
func (p *Publisher) answer(t *tally, retry *NewPathsError) error {
	if t.refused > 0 {
		p.metrics.errors.WithLabelValues("new_paths").Inc()
	}
	written := t.parts - t.refused - t.failed - t.unsure // the calls that stored part of it
	switch {
	case t.unsure > 0 && written == 0:
		return t.unsureErr
	case t.unsure > 0:
		return fmt.Errorf("%w: part of the request was stored and part may have been", ErrUnconfirmed)
	case written > 0 && written < t.parts && t.refused > 0:
		// Each shard or slot keeps its own budget: part of the request was written. Not ErrTooManyNewPaths:
		// a retry would store that part twice.
		return fmt.Errorf("%w: part of the request was refused for new paths (%v)", ErrUnconfirmed, retry)
	case written > 0 && written < t.parts:
		return fmt.Errorf("%w: only part of the request was stored (its events went to %d shards or slots, and %d of their writes did not run: %v)",
			ErrUnconfirmed, t.parts, t.failed, t.failErr)
	case written > 0 && t.notConfirmed > 0:
		return t.notConfirmedErr
	case written > 0 || t.parts == 0:
		return nil
	case t.refused > 0:
		return retry
	default:
		return t.failErr
	}
}
