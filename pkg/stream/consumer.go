package stream

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"adly/pkg/redisconn"
	"adly/pkg/streamid"
)

//go:embed deadletter.lua
var deadLetterLua string

var deadLetterScript = redis.NewScript(deadLetterLua)

//go:embed trim.lua
var trimLua string

var trimScript = redis.NewScript(trimLua)

//go:embed ensuregroup.lua
var ensureGroupLua string

var ensureGroupScript = redis.NewScript(ensureGroupLua)

//go:embed ack.lua
var ackLua string

var ackScript = redis.NewScript(ackLua)

//go:embed setid.lua
var setIDLua string

var setIDScript = redis.NewScript(setIDLua)

// ErrReplayed means a replay moved the group after the batch was committed: its entries are not acknowledged
// (they are re-delivered and counted again, once, as the replay wants).
var ErrReplayed = errors.New("a replay moved the group since this batch was committed")

//go:embed delconsumer.lua
var delConsumerLua string

var delConsumerScript = redis.NewScript(delConsumerLua)

// DeadLetterStream is where a stream's poison entries go: "<stream>:dead".
func DeadLetterStream(stream string) string { return stream + ":dead" }

// Group is one consumer group on one stream: every command a stream worker sends.
type Group struct {
	c      redis.UniversalClient
	stream string
	group  string
}

// NewGroup returns the group.
func NewGroup(c redis.UniversalClient, stream, group string) *Group {
	return &Group{c: c, stream: stream, group: group}
}

// Stream is the stream's name; Name the group's.
func (g *Group) Stream() string { return g.stream }
func (g *Group) Name() string   { return g.group }

// Message is one entry as delivered. Deleted entries (trimmed or XDEL'd while pending) have no fields.
type Message struct {
	ID      streamid.ID
	RawID   string
	Values  map[string]any
	Deleted bool
}

// ErrFullNoStream means Redis is full (maxmemory) and the stream does not exist yet: there is nothing to
// consume, and the group is created once memory is freed.
var ErrFullNoStream = errors.New("redis is full (maxmemory) and the stream does not exist yet: nothing to consume until memory is freed")

// Ensure creates the group from the stream's start (so events published before the first worker ran are
// counted), creating the stream too; an existing group is left as it is.
//
// A full Redis refuses XGROUP CREATE for memory even when the group exists. Then ensuregroup.lua decides: an
// existing group is fine, a stream without the group gets it (allowed over maxmemory: the worker it starts
// frees memory), and with no stream at all Ensure returns ErrFullNoStream.
func (g *Group) Ensure(ctx context.Context) error {
	err := g.c.XGroupCreateMkStream(ctx, g.stream, g.group, "0").Err()
	if err == nil || redis.HasErrorPrefix(err, "BUSYGROUP") {
		return nil
	}
	if !redis.HasErrorPrefix(err, "OOM") {
		return fmt.Errorf("create group %s on %s: %w", g.group, g.stream, err)
	}
	state, err := ensureGroupScript.Run(ctx, g.c, []string{g.stream}, g.group).Text()
	switch {
	case err != nil:
		return fmt.Errorf("create group %s on %s (redis is full): %w", g.group, g.stream, err)
	case state == "no stream":
		return fmt.Errorf("create group %s on %s: %w", g.group, g.stream, ErrFullNoStream)
	case state != "exists" && state != "created":
		return fmt.Errorf("create group %s on %s: unexpected reply %q", g.group, g.stream, state)
	}
	return nil
}

// Memory reads Redis's used memory and maxmemory (INFO memory).
func (g *Group) Memory(ctx context.Context) (redisconn.Memory, error) {
	return redisconn.ReadMemory(ctx, g.c)
}

// Read delivers up to count entries to consumer: start ">" for new entries (blocking up to block; a
// negative block does not block), "0" for the consumer's own pending ones.
func (g *Group) Read(ctx context.Context, consumer, start string, count int, block time.Duration) ([]Message, error) {
	res, err := g.c.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group: g.group, Consumer: consumer, Streams: []string{g.stream, start}, Count: int64(count), Block: block,
	}).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("xreadgroup %s %s: %w", g.stream, start, err)
	}
	if len(res) == 0 {
		return nil, nil
	}
	return convert(res[0].Messages)
}

func convert(msgs []redis.XMessage) ([]Message, error) {
	out := make([]Message, 0, len(msgs))
	for _, m := range msgs {
		id, err := streamid.Parse(m.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, Message{ID: id, RawID: m.ID, Values: m.Values, Deleted: m.Values == nil})
	}
	return out, nil
}

// Ack acknowledges ids.
func (g *Group) Ack(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	if err := g.c.XAck(ctx, g.stream, g.group, ids...).Err(); err != nil {
		return fmt.Errorf("xack %s: %w", g.stream, err)
	}
	return nil
}

// replayEpoch is the key a replay advances each time it moves the group.
func (g *Group) replayEpoch() string { return g.stream + ":replay-epoch:" + g.group }

// Epoch reads the group's replay epoch ("" before the first replay). A worker reads it before a commit and
// passes it to AckSince.
func (g *Group) Epoch(ctx context.Context) (string, error) {
	v, err := g.c.Get(ctx, g.replayEpoch()).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read replay epoch of %s: %w", g.stream, err)
	}
	return v, nil
}

// AckSince acknowledges ids unless a replay moved the group since epoch was read: then it acknowledges
// nothing and returns ErrReplayed. The check and the XACK are one atomic step: WATCH on the epoch key with a
// native XACK in MULTI/EXEC (a Lua script passing every ID through Lua costs the worker about a fifth of its
// throughput, BENCHMARKS.md), and, when Redis is full and refuses commands queued in MULTI, the same check in
// a script (ack.lua), which a full Redis still runs.
func (g *Group) AckSince(ctx context.Context, epoch string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	key := g.replayEpoch()
	err := g.c.Watch(ctx, func(tx *redis.Tx) error {
		cur, err := tx.Get(ctx, key).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		if cur != epoch {
			return ErrReplayed
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.XAck(ctx, g.stream, g.group, ids...)
			return nil
		})
		return err
	}, key)
	switch {
	case errors.Is(err, redis.TxFailedErr):
		return ErrReplayed // the epoch moved between the check and EXEC
	case err != nil && (redis.HasErrorPrefix(err, "OOM") || redis.HasErrorPrefix(err, "EXECABORT")):
		return g.ackSinceScript(ctx, epoch, ids)
	case errors.Is(err, ErrReplayed):
		return err
	case err != nil:
		return fmt.Errorf("xack %s: %w", g.stream, err)
	}
	return nil
}

func (g *Group) ackSinceScript(ctx context.Context, epoch string, ids []string) error {
	args := make([]any, 0, len(ids)+2)
	args = append(args, g.group, epoch)
	for _, id := range ids {
		args = append(args, id)
	}
	n, err := ackScript.Run(ctx, g.c, []string{g.stream, g.replayEpoch()}, args...).Int64()
	if err != nil {
		return fmt.Errorf("xack %s: %w", g.stream, err)
	}
	if n < 0 {
		return ErrReplayed
	}
	return nil
}

// AutoClaim takes over entries idle longer than minIdle, scanning the pending list from start. It returns
// the claimed entries, where to continue ("0-0" when the scan is complete) and the IDs Redis reported as
// deleted (their data is gone; Redis drops them from the pending list).
func (g *Group) AutoClaim(ctx context.Context, consumer string, minIdle time.Duration, start string, count int) ([]Message, string, []string, error) {
	msgs, next, deleted, err := g.c.XAutoClaimWithDeleted(ctx, &redis.XAutoClaimArgs{
		Stream: g.stream, Group: g.group, Consumer: consumer, MinIdle: minIdle, Start: start, Count: int64(count),
	}).Result()
	if err != nil {
		return nil, "", nil, fmt.Errorf("xautoclaim %s: %w", g.stream, err)
	}
	out, err := convert(msgs)
	return out, next, deleted, err
}

// DeliveryCounts returns how many times each pending entry of consumer in [lo, hi] has been delivered.
func (g *Group) DeliveryCounts(ctx context.Context, consumer, lo, hi string, count int) (map[string]int64, error) {
	res, err := g.c.XPendingExt(ctx, &redis.XPendingExtArgs{
		Stream: g.stream, Group: g.group, Start: lo, End: hi, Count: int64(count), Consumer: consumer,
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("xpending %s: %w", g.stream, err)
	}
	out := make(map[string]int64, len(res))
	for _, p := range res {
		out[p.ID] = p.RetryCount
	}
	return out, nil
}

// DeadLetter moves one entry to the dead-letter stream and acknowledges it, atomically and at most once. It
// reports whether this call did it (false: someone else already acknowledged the entry).
func (g *Group) DeadLetter(ctx context.Context, consumer string, m Message, reason string) (bool, error) {
	args := []any{g.group, m.RawID, reason, consumer}
	keys := make([]string, 0, len(m.Values))
	for k := range m.Values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		args = append(args, k, fmt.Sprint(m.Values[k]))
	}
	n, err := deadLetterScript.Run(ctx, g.c, []string{g.stream, DeadLetterStream(g.stream)}, args...).Int()
	if err != nil {
		return false, fmt.Errorf("dead-letter %s %s: %w", g.stream, m.RawID, err)
	}
	return n == 1, nil
}

// GroupInfo is what XINFO GROUPS says of the group.
type GroupInfo struct {
	LastDelivered streamid.ID
	Pending       int64
	Lag           int64 // -1 when Redis cannot tell
	Consumers     int64
}

// Info reads the group's state.
func (g *Group) Info(ctx context.Context) (GroupInfo, error) {
	groups, err := g.c.XInfoGroups(ctx, g.stream).Result()
	if err != nil {
		return GroupInfo{}, fmt.Errorf("xinfo groups %s: %w", g.stream, err)
	}
	for _, gi := range groups {
		if gi.Name != g.group {
			continue
		}
		last, err := streamid.Parse(gi.LastDeliveredID)
		if err != nil {
			return GroupInfo{}, err
		}
		return GroupInfo{LastDelivered: last, Pending: gi.Pending, Lag: gi.Lag, Consumers: gi.Consumers}, nil
	}
	return GroupInfo{}, fmt.Errorf("group %s not found on %s", g.group, g.stream)
}

// OldestPending is the lowest pending ID and its age in the pending list, if any.
func (g *Group) OldestPending(ctx context.Context) (streamid.ID, time.Duration, bool, error) {
	res, err := g.c.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: g.stream, Group: g.group, Start: "-", End: "+", Count: 1}).Result()
	if err != nil {
		return streamid.ID{}, 0, false, fmt.Errorf("xpending %s: %w", g.stream, err)
	}
	if len(res) == 0 {
		return streamid.ID{}, 0, false, nil
	}
	id, err := streamid.Parse(res[0].ID)
	return id, res[0].Idle, err == nil, err
}

// SafePoint is the oldest entry the group may still deliver: its oldest pending entry, or the one after its
// last delivered. Entries below it have been delivered and acknowledged.
func (g *Group) SafePoint(ctx context.Context) (streamid.ID, error) {
	info, err := g.Info(ctx)
	if err != nil {
		return streamid.ID{}, err
	}
	if info.Pending > 0 {
		id, _, ok, err := g.OldestPending(ctx)
		if err != nil {
			return streamid.ID{}, err
		}
		if ok {
			return id, nil
		}
	}
	return info.LastDelivered.Next(), nil
}

// Consumers lists the group's consumers.
func (g *Group) Consumers(ctx context.Context) ([]redis.XInfoConsumer, error) {
	cs, err := g.c.XInfoConsumers(ctx, g.stream, g.group).Result()
	if err != nil {
		return nil, fmt.Errorf("xinfo consumers %s: %w", g.stream, err)
	}
	return cs, nil
}

// DeleteIdleConsumer removes consumer if it has nothing pending and has been idle at least minIdle, checked
// and done atomically (delconsumer.lua). It reports whether the consumer was removed.
func (g *Group) DeleteIdleConsumer(ctx context.Context, consumer string, minIdle time.Duration) (bool, error) {
	n, err := delConsumerScript.Run(ctx, g.c, []string{g.stream}, g.group, consumer, minIdle.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("delete consumer %s: %w", consumer, err)
	}
	return n == 1, nil
}

// SetID moves the group's last-delivered ID (replay) and advances its replay epoch, in one step (setid.lua).
func (g *Group) SetID(ctx context.Context, id string) error {
	if err := setIDScript.Run(ctx, g.c, []string{g.stream, g.replayEpoch()}, g.group, id).Err(); err != nil {
		return fmt.Errorf("xgroup setid %s %s: %w", g.stream, id, err)
	}
	return nil
}

// FirstEntry is the oldest entry still in the stream.
func (g *Group) FirstEntry(ctx context.Context) (streamid.ID, bool, error) {
	res, err := g.c.XRangeN(ctx, g.stream, "-", "+", 1).Result()
	if err != nil {
		return streamid.ID{}, false, fmt.Errorf("xrange %s: %w", g.stream, err)
	}
	if len(res) == 0 {
		return streamid.ID{}, false, nil
	}
	id, err := streamid.Parse(res[0].ID)
	return id, err == nil, err
}

// Trim trims the stream behind every group's consumption, keeping retain consumed entries (trim.lua).
func (g *Group) Trim(ctx context.Context, retain, spanCap int64) (int64, string, error) {
	reply, err := trimScript.Run(ctx, g.c, []string{g.stream}, retain, spanCap).Result()
	if err != nil {
		return 0, "", fmt.Errorf("trim %s: %w", g.stream, err)
	}
	var n int64
	var reason string
	if err := redisconn.ScanReply(reply, &n, &reason); err != nil {
		return 0, "", fmt.Errorf("trim %s: %w", g.stream, err)
	}
	return n, reason, nil
}

// ServerWarnings checks the Redis settings a stream store needs and returns what is wrong: an evicting
// policy can drop a whole stream, and without AOF a restart loses every event since the last snapshot.
func ServerWarnings(ctx context.Context, c redis.UniversalClient) []string {
	var out []string
	check := func(param, want, why string) {
		res, err := c.ConfigGet(ctx, param).Result()
		if err != nil {
			out = append(out, fmt.Sprintf("cannot read %s (%v): check that it is %s — %s", param, err, want, why))
			return
		}
		if got := res[param]; !strings.EqualFold(got, want) {
			out = append(out, fmt.Sprintf("%s is %q, not %q: %s", param, got, want, why))
		}
	}
	check("maxmemory-policy", "noeviction", "an evicting Redis can drop a whole stream, and every event in it")
	check("appendonly", "yes", "without AOF persistence a Redis restart loses the events not yet counted")
	return out
}

// Retention says what trimming removed from the stream: Removed entries were ever deleted from its front,
// First is the oldest entry left (Empty when none is).
type Retention struct {
	Removed int64
	First   streamid.ID
	Empty   bool
}

// Retained reads the stream's Retention (XINFO STREAM).
func (g *Group) Retained(ctx context.Context) (Retention, error) {
	info, err := g.c.XInfoStream(ctx, g.stream).Result()
	if err != nil {
		return Retention{}, fmt.Errorf("xinfo stream %s: %w", g.stream, err)
	}
	r := Retention{Removed: info.EntriesAdded - info.Length, Empty: info.FirstEntry.ID == ""}
	if !r.Empty {
		if r.First, err = streamid.Parse(info.FirstEntry.ID); err != nil {
			return Retention{}, fmt.Errorf("xinfo stream %s: %w", g.stream, err)
		}
	}
	return r, nil
}
