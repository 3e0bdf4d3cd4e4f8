package publish

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"adly/pkg/event"
	"adly/pkg/keyspace"
	"adly/pkg/logging"
)

//go:embed publish.lua
var publishLua string

var publishScript = redis.NewScript(publishLua)

//go:embed receipt.lua
var receiptLua string

var receiptScript = redis.NewScript(receiptLua)

// ErrUnavailable means Redis did not store the events: it is down, too slow, or full. Retrying is safe.
var ErrUnavailable = errors.New("redis unavailable")

// ErrRejected means Redis refused the events because a key holds the wrong kind of value. Nothing was stored.
var ErrRejected = errors.New("redis rejected the write")

// ErrUnconfirmed means the write was sent, its answer never came (the connection died, or the reply came
// late) and Redis could not be asked in time whether it ran: it may or may not have stored the events.
// Retrying may count them twice.
var ErrUnconfirmed = errors.New("redis did not confirm the write; it may have been stored")

// PublisherOptions tune a Publisher.
type PublisherOptions struct {
	// Timeout bounds Publish: by then the caller knows whether its events were stored. Default 500ms.
	Timeout time.Duration
	// Flushers is how many round trips may be in flight at once. Default 1: one greedy flusher makes the
	// largest batches, and so the fewest script calls per event (2 made batches of 6 events at 30k req/s
	// here, 1 made 11, for 12 % more requests a second; BENCHMARKS.md).
	Flushers int
	// MaxFlushEvents caps the events of one round trip; a single Publish call is never split. Default 4096.
	MaxFlushEvents int
	// QueueSize bounds the calls waiting for a flusher. Default 8192.
	QueueSize int
	// EventIDTTL is how long an event's event_id is remembered (EVENT_ID_TTL): an event published again with
	// the same event_id within it is not stored again, and is answered with the first write's stream ID.
	// Default 1 hour.
	EventIDTTL time.Duration
	// NewPathsPerMinute bounds the path counters that hits may create in one minute (NEW_PATHS_PER_MINUTE); a
	// request over it is refused with ErrTooManyNewPaths. 0: no bound.
	NewPathsPerMinute int
	// Now is the clock whose minutes the new-path budget counts, corrected by the measured offset of the
	// Redis clock. Default time.Now; tests move their own.
	Now func() time.Time
	// WaitReplicas (REDIS_WAIT_REPLICAS), when above 0, makes every script call wait for that many replicas
	// of its master to acknowledge it (WAIT, on the connection that sent it); a request is answered with its
	// IDs only then, and otherwise with ErrUnconfirmed (doc.go, "Replication"). Default 0: no WAIT.
	WaitReplicas int
	// WaitTimeout (REDIS_WAIT_TIMEOUT) is WAIT's timeout. The script's cutoff comes that much earlier, so
	// that the WAIT ends before Timeout does. Default 100ms, at most Timeout/2.
	WaitTimeout time.Duration
}

func (o *PublisherOptions) defaults() {
	if o.Timeout <= 0 {
		o.Timeout = 500 * time.Millisecond
	}
	if o.Flushers <= 0 {
		o.Flushers = 1
	}
	if o.MaxFlushEvents <= 0 {
		o.MaxFlushEvents = 4096
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 8192
	}
	if o.EventIDTTL <= 0 {
		o.EventIDTTL = time.Hour
	}
	if o.NewPathsPerMinute < 0 {
		o.NewPathsPerMinute = 0
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.WaitReplicas < 0 {
		o.WaitReplicas = 0
	}
	if o.WaitReplicas == 0 {
		o.WaitTimeout = 0
	} else {
		if o.WaitTimeout < time.Millisecond {
			o.WaitTimeout = 100 * time.Millisecond
		}
		o.WaitTimeout = min(o.WaitTimeout, o.Timeout/2).Truncate(time.Millisecond)
	}
}

// Publisher writes events for many concurrent callers, sharing Redis round trips: each flusher takes every
// call waiting in the queue and writes all their events with one script call (one per stream shard, with
// sharded names: doc.go), then goes back for more. It flushes as soon as it has something and the previous
// round trip is done — never on a timer — so under load the batches grow by themselves and at rest a lone
// event goes out at once.
//
// The events of a call that go to one shard are written atomically by one script (publish.lua) that refuses
// to write after the call's cutoff, a little before its deadline. So when Publish returns ErrUnavailable,
// its events were not stored, and when it returns IDs, they were (and, with WaitReplicas, WAIT confirmed
// them). When the answer to a write is lost (the connection dies after
// the script was sent, or the reply does not come back by a little after the cutoff), the script's receipt
// tells: each call sets a short-lived key holding its IDs, and once Redis's clock is past the cutoff, the
// call ran if and only if its receipt is there (receipt.lua). Only when Redis cannot be asked before the
// deadline does Publish return ErrUnconfirmed, counted as adly_api_redis_errors_total{reason="unconfirmed"}.
//
// One script call carries many callers, yet answers each on its own: an event_id stored already is answered
// with its first write's stream ID, and a caller over the new-path budget is refused with ErrTooManyNewPaths
// while the others are written. The script decides both before its first write and puts them in its reply,
// which the receipt holds too, so a lost reply is resolved to the same answers (doc.go).
type Publisher struct {
	client  redis.UniversalClient
	names   keyspace.Names
	log     *zap.Logger
	metrics *PublisherMetrics
	opts    PublisherOptions
	margin  time.Duration
	cluster bool
	shards  shards

	queue    chan *pending
	offsetMs atomic.Int64 // Redis clock minus local clock, in ms
	errLog   *logging.Every

	tokenPrefix string        // random per Publisher: receipts of several API processes never collide
	seq         atomic.Uint64 // receipt tokens
	receiptTTL  time.Duration // outlives every check of a call's receipt
}

// NewPublisher builds a Publisher. The client must be built with NoRetries.
func NewPublisher(client redis.UniversalClient, names keyspace.Names, log *zap.Logger, metrics *PublisherMetrics, opts PublisherOptions) *Publisher {
	opts.defaults()
	_, cluster := client.(*redis.ClusterClient)
	return &Publisher{
		client:  client,
		names:   names,
		log:     log,
		metrics: metrics,
		opts:    opts,
		margin:  min(opts.Timeout/4, 100*time.Millisecond),
		cluster: cluster,
		shards:  newShards(names),
		queue:   make(chan *pending, opts.QueueSize),
		errLog:  logging.NewEvery(10 * time.Second),

		tokenPrefix: randomHex(6),
		receiptTTL:  2*opts.Timeout + time.Second,
	}
}

// token names one script call's receipt.
func (p *Publisher) token() string {
	return p.tokenPrefix + ":" + strconv.FormatUint(p.seq.Add(1), 36)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

const (
	stateQueued int32 = iota
	stateTaken
	stateAbandoned
)

// pending is one Publish call on its way to Redis.
type pending struct {
	events   []event.Event
	ts       int64
	hits     bool // it has hits: with a new-path budget, it is a group of its own in the script call
	shard    int  // the shard its events without an event_id go to (sharded names)
	deadline time.Time
	state    atomic.Int32
	done     chan struct{}
	ids      []string
	err      error
	tally    tally // what became of the script calls that carry it (set by flush)
}

// newPending checks events for what only the publisher knows (a hit is never invalid traffic) and makes the
// call that carries them.
func (p *Publisher) newPending(events []event.Event, ts int64) (*pending, error) {
	pd := &pending{events: events, ts: ts, deadline: time.Now().Add(p.opts.Timeout), done: make(chan struct{})}
	if p.shards.on {
		pd.shard = p.shards.next()
	}
	for _, e := range events {
		if e.Type == event.Hit {
			if e.Invalid != "" {
				return nil, fmt.Errorf("%w: a hit is never stored as invalid traffic (%s)", event.ErrInvalid, e.Invalid)
			}
			pd.hits = true
		}
	}
	return pd, nil
}

// Publish stores events (all of them or none) with the given ts, and returns one stream ID per event ("" for
// hits). An event whose event_id (Event.ID) was stored within EventIDTTL is not stored again; its ID is the
// first write's. It returns within the configured timeout; on error nothing was stored (but see
// ErrUnconfirmed). A hit with Event.Invalid set is refused (event.ErrInvalid): the API drops invalid hits.
func (p *Publisher) Publish(ctx context.Context, events []event.Event, ts int64) ([]string, error) {
	pd, err := p.newPending(events, ts)
	if err != nil {
		return nil, err
	}
	timer := time.NewTimer(p.opts.Timeout)
	defer timer.Stop()
	select {
	case p.queue <- pd:
	case <-timer.C:
		p.metrics.errors.WithLabelValues("queue_full").Inc()
		return nil, fmt.Errorf("%w: write queue stayed full for %s", ErrUnavailable, p.opts.Timeout)
	case <-ctx.Done():
		return nil, fmt.Errorf("publish: %w", ctx.Err())
	}
	select {
	case <-pd.done:
		return pd.ids, pd.err
	case <-timer.C:
	case <-ctx.Done():
	}
	if pd.state.CompareAndSwap(stateQueued, stateAbandoned) {
		p.metrics.errors.WithLabelValues("timeout").Inc()
		return nil, fmt.Errorf("%w: no round trip was free within %s", ErrUnavailable, p.opts.Timeout)
	}
	// A flusher holds the call; its round trip ends by the call's deadline, so this wait is short.
	<-pd.done
	return pd.ids, pd.err
}

// Run keeps the flushers and the clock-offset probe going until ctx ends, then flushes what is still queued
// and returns. Cancel ctx only once no more Publish calls will come (after the HTTP server has shut down).
func (p *Publisher) Run(ctx context.Context) error {
	p.measureOffset(ctx)
	var wg sync.WaitGroup
	for range p.opts.Flushers {
		wg.Go(func() { p.flushLoop(ctx) })
	}
	wg.Go(func() {
		t := time.NewTicker(30 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				p.measureOffset(ctx)
			}
		}
	})
	wg.Wait()
	return nil
}

func (p *Publisher) flushLoop(ctx context.Context) {
	batch := make([]*pending, 0, 256)
	for {
		var first *pending
		select {
		case first = <-p.queue:
		case <-ctx.Done():
			// Drain: callers still waiting get a real answer, not a timeout.
			for {
				select {
				case first = <-p.queue:
					p.flush([]*pending{first})
				default:
					return
				}
			}
		}
		batch = append(batch[:0], first)
		n := len(first.events)
	collect:
		for n < p.opts.MaxFlushEvents {
			select {
			case pd := <-p.queue:
				batch = append(batch, pd)
				n += len(pd.events)
			default:
				break collect
			}
		}
		p.flush(batch)
		clear(batch)
	}
}

// measureOffset estimates the Redis clock against the local one, so cutoffs are set on Redis's clock even
// when the two hosts' clocks differ.
func (p *Publisher) measureOffset(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	t0 := time.Now()
	rt, err := p.client.Time(ctx).Result()
	t1 := time.Now()
	if err != nil || t1.Sub(t0) > 50*time.Millisecond {
		return // keep the previous estimate; a slow answer says little about the clock
	}
	mid := t0.Add(t1.Sub(t0) / 2)
	off := rt.Sub(mid).Milliseconds()
	if old := p.offsetMs.Swap(off); abs(off-old) > 100 {
		p.log.Warn("redis clock differs from local clock", zap.Int64("offset_ms", off))
	}
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// classify maps a failed round trip to what the caller can be told truthfully, and the reason it is counted
// under; "unconfirmed" means the write may have run.
func (p *Publisher) classify(err error) (string, error) {
	msg := err.Error()
	var reason string
	var out error
	switch {
	case strings.HasPrefix(msg, "ADLYDEADLINE"):
		reason, out = "deadline", fmt.Errorf("%w: redis was too slow: %s", ErrUnavailable, msg)
	case strings.HasPrefix(msg, "ADLYBADKEY"), strings.HasPrefix(msg, "WRONGTYPE"):
		reason, out = "rejected", fmt.Errorf("%w: %s", ErrRejected, msg)
	case errors.Is(err, errNoMaster), movedSlot(err):
		// A cluster in failover: the call went to no node, or to one that no longer serves its slot, which
		// runs nothing.
		reason, out = "unavailable", fmt.Errorf("%w: the slot's master is changing (failover); nothing was stored: %s", ErrUnavailable, msg)
	case strings.HasPrefix(msg, "OOM"):
		// publish.lua declares itself (#!lua), so Redis refuses it for memory before it runs.
		reason, out = "oom", fmt.Errorf("%w: redis is out of memory", ErrUnavailable)
	case notSent(err):
		reason, out = "unavailable", fmt.Errorf("%w: %s", ErrUnavailable, msg)
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		// Sent, or maybe sent: Redis may have run the script.
		reason, out = "unconfirmed", fmt.Errorf("%w: no answer by the deadline", ErrUnconfirmed)
	default:
		reason, out = "unconfirmed", fmt.Errorf("%w: the connection to redis failed", ErrUnconfirmed)
	}
	return reason, out
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// notSent tells the failures that certainly ran nothing: Redis answered with an error (a script that fails
// does so before its first write), or no connection could be had. Anything else, a timeout, a connection that
// broke while writing or reading, leaves the outcome unknown.
func notSent(err error) bool {
	var re redis.Error
	if errors.As(err, &re) {
		return true
	}
	if errors.Is(err, redis.ErrPoolTimeout) || errors.Is(err, redis.ErrClosed) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
