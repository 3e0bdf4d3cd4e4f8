package stream

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// The read-only views below serve the operator's inspection: they report what Redis says, including what it
// cannot tell (nil or absent fields, which go-redis's typed replies turn into zeroes), and change nothing.

// Ends is the stream key's type and, for a stream, its length and first and last entry IDs.
type Ends struct {
	Type        string // "stream", "none" (no key yet) or the type of another key under that name
	Length      int64
	First, Last string // "" when the stream is empty
}

// Ends reads the stream's type, length and ends (TYPE, XLEN, XRANGE and XREVRANGE COUNT 1).
func (g *Group) Ends(ctx context.Context) (Ends, error) {
	t, err := g.c.Type(ctx, g.stream).Result()
	if err != nil {
		return Ends{}, fmt.Errorf("type %s: %w", g.stream, err)
	}
	e := Ends{Type: t}
	if t != "stream" {
		return e, nil
	}
	if e.Length, err = g.c.XLen(ctx, g.stream).Result(); err != nil {
		return e, fmt.Errorf("xlen %s: %w", g.stream, err)
	}
	first, err := g.c.XRangeN(ctx, g.stream, "-", "+", 1).Result()
	if err != nil {
		return e, fmt.Errorf("xrange %s: %w", g.stream, err)
	}
	last, err := g.c.XRevRangeN(ctx, g.stream, "+", "-", 1).Result()
	if err != nil {
		return e, fmt.Errorf("xrevrange %s: %w", g.stream, err)
	}
	if len(first) > 0 && len(last) > 0 {
		e.First, e.Last = first[0].ID, last[0].ID
	}
	return e, nil
}

// GroupState is what XINFO GROUPS says of the group. EntriesRead and Lag are nil when Redis cannot tell
// (or, before Redis 7, does not say).
type GroupState struct {
	LastDelivered string
	EntriesRead   *int64
	Lag           *int64
	Pending       int64
}

// State reads the group's state; ok is false when the stream has no such group.
func (g *Group) State(ctx context.Context) (GroupState, bool, error) {
	res, err := g.c.Do(ctx, "XINFO", "GROUPS", g.stream).Result()
	if err != nil {
		return GroupState{}, false, fmt.Errorf("xinfo groups %s: %w", g.stream, err)
	}
	list, _ := res.([]any)
	for _, el := range list {
		f := fields(el)
		if name, _ := f["name"].(string); name != g.group {
			continue
		}
		last, _ := f["last-delivered-id"].(string)
		pending, _ := f["pending"].(int64)
		return GroupState{LastDelivered: last, EntriesRead: optInt(f["entries-read"]), Lag: optInt(f["lag"]), Pending: pending}, true, nil
	}
	return GroupState{}, false, nil
}

// PendingEntry is one entry of the group's pending list.
type PendingEntry struct {
	ID         string
	Consumer   string
	Idle       time.Duration
	Deliveries int64
}

// PendingHead is the oldest entry of the pending list; ok is false when nothing is pending.
func (g *Group) PendingHead(ctx context.Context) (PendingEntry, bool, error) {
	res, err := g.c.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: g.stream, Group: g.group, Start: "-", End: "+", Count: 1}).Result()
	if err != nil {
		return PendingEntry{}, false, fmt.Errorf("xpending %s: %w", g.stream, err)
	}
	if len(res) == 0 {
		return PendingEntry{}, false, nil
	}
	p := res[0]
	return PendingEntry{ID: p.ID, Consumer: p.Consumer, Idle: p.Idle, Deliveries: p.RetryCount}, true, nil
}

// ConsumerState is what XINFO CONSUMERS says of one consumer. Inactive (since the consumer last read
// anything; -1ms when it never read) is nil before Redis 7.2, which does not say.
type ConsumerState struct {
	Name     string
	Pending  int64
	Idle     time.Duration
	Inactive *time.Duration
}

// ConsumerStates lists the group's consumers in Redis's order.
func (g *Group) ConsumerStates(ctx context.Context) ([]ConsumerState, error) {
	res, err := g.c.Do(ctx, "XINFO", "CONSUMERS", g.stream, g.group).Result()
	if err != nil {
		return nil, fmt.Errorf("xinfo consumers %s: %w", g.stream, err)
	}
	list, _ := res.([]any)
	out := make([]ConsumerState, 0, len(list))
	for _, el := range list {
		f := fields(el)
		c := ConsumerState{}
		c.Name, _ = f["name"].(string)
		c.Pending, _ = f["pending"].(int64)
		idle, _ := f["idle"].(int64)
		c.Idle = time.Duration(idle) * time.Millisecond
		if v := optInt(f["inactive"]); v != nil {
			d := time.Duration(*v) * time.Millisecond
			c.Inactive = &d
		}
		out = append(out, c)
	}
	return out, nil
}

// DeadLetter is one entry of the dead-letter stream: when it was dead-lettered (its ID), the entry it was
// and why.
type DeadLetter struct {
	ID         string
	OriginalID string
	Reason     string
}

// DeadLetters reads the dead-letter stream's length and its latest n entries, newest first.
func (g *Group) DeadLetters(ctx context.Context, n int64) (int64, []DeadLetter, error) {
	dead := DeadLetterStream(g.stream)
	length, err := g.c.XLen(ctx, dead).Result()
	if err != nil {
		return 0, nil, fmt.Errorf("xlen %s: %w", dead, err)
	}
	if length == 0 {
		return 0, nil, nil
	}
	msgs, err := g.c.XRevRangeN(ctx, dead, "+", "-", n).Result()
	if err != nil {
		return length, nil, fmt.Errorf("xrevrange %s: %w", dead, err)
	}
	out := make([]DeadLetter, 0, len(msgs))
	for _, m := range msgs {
		d := DeadLetter{ID: m.ID}
		d.OriginalID, _ = m.Values["original_id"].(string)
		d.Reason, _ = m.Values["reason"].(string)
		out = append(out, d)
	}
	return length, out, nil
}

// fields turns one element of an XINFO reply into a map: a map in RESP3, a flat field/value list in RESP2.
func fields(el any) map[string]any {
	out := map[string]any{}
	switch v := el.(type) {
	case map[any]any:
		for k, val := range v {
			if ks, ok := k.(string); ok {
				out[ks] = val
			}
		}
	case []any:
		for i := 0; i+1 < len(v); i += 2 {
			if ks, ok := v[i].(string); ok {
				out[ks] = v[i+1]
			}
		}
	}
	return out
}

// optInt is an integer field that Redis may answer with nil or leave out.
func optInt(v any) *int64 {
	n, ok := v.(int64)
	if !ok {
		return nil
	}
	return &n
}
