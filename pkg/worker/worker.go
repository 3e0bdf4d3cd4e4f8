package worker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"

	"adly/pkg/ledger"
	"adly/pkg/logging"
	"adly/pkg/mariadb"
	"adly/pkg/stream"
	"adly/pkg/streamid"
)

// Options tune a Worker.
type Options struct {
	Consumer  string
	BatchSize int
	// MergeReads is how many reads waiting in hand one transaction may count together.
	MergeReads int
	// BatchWait is how long a read shorter than BatchSize waits for more entries before its batch is
	// counted: at moderate rates, about one commit per BatchWait (0: count every read at once).
	BatchWait        time.Duration
	Block            time.Duration
	Location         *time.Location
	ClaimMinIdle     time.Duration
	ClaimInterval    time.Duration
	MaxDeliveries    int64
	RetainEntries    int64
	TrimInterval     time.Duration
	DeadConsumerIdle time.Duration
	// BatchTimeout bounds the handling of one batch; on shutdown the batch in hand finishes within it.
	BatchTimeout time.Duration
	Hooks        Hooks

	// MemoryGuard is REDIS_MEMORY_GUARD: above this share of maxmemory, trimming ignores RetainEntries.
	MemoryGuard float64
}

// Worker consumes one stream's consumer group into one daily table.
type Worker struct {
	group   Group
	counter Ledger
	log     *zap.Logger
	metrics *Metrics
	opts    Options

	mu     sync.Mutex
	errLog map[string]*logging.Every // per operation
}

// New builds a Worker.
func New(group Group, counter Ledger, log *zap.Logger, metrics *Metrics, opts Options) *Worker {
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	return &Worker{group: group, counter: counter, log: log, metrics: metrics, opts: opts, errLog: map[string]*logging.Every{}}
}

// Run creates the group if needed, then runs the consume, reclaim, trim and maintenance loops until ctx
// ends. The batch in hand when ctx ends is committed and acknowledged (within BatchTimeout) before Run
// returns.
func (w *Worker) Run(ctx context.Context) error {
	bo := backoff{min: 100 * time.Millisecond, max: 5 * time.Second}
	for {
		err := w.group.Ensure(ctx)
		if err == nil {
			break
		}
		w.fail("read", "create consumer group", err)
		if !sleep(ctx, bo.next()) {
			return nil
		}
	}
	w.log.Info("consuming", zap.String("stream", w.group.Stream()), zap.String("group", w.group.Name()),
		zap.String("consumer", w.opts.Consumer), zap.Int("batch_size", w.opts.BatchSize))
	var wg sync.WaitGroup
	wg.Go(func() { w.consume(ctx) })
	wg.Go(func() { w.reclaimLoop(ctx) })
	wg.Go(func() { w.trimLoop(ctx) })
	wg.Go(func() { w.maintainLoop(ctx) })
	wg.Wait()
	return nil
}

// item is one delivered entry, parsed as soon as it is read. A valid entry read with '>' keeps only what is
// counted (56 bytes, its date string shared), so a backlog of reads in hand costs little memory; the rest is
// kept only where a dead letter may need it. The reason of filtered traffic lives in extra, which the
// entries of one read with the same reason share, so that valid entries carry no room for it.
type item struct {
	id    streamid.ID
	adID  int64 // adID, ts and date for entries that can be counted
	ts    int64
	date  string
	extra *itemExtra // nil for a valid entry without kept fields
}

type itemExtra struct {
	reason  string // why it cannot be counted (poison)
	ivt     string // the reason of filtered traffic; "" for valid traffic
	deleted bool   // Redis no longer has its data
	values  map[string]any
}

// raw is the entry's ID as Redis writes it (IDs are canonical, so this is the string Redis sent).
func (it item) raw() string { return it.id.String() }

func (it item) message() stream.Message {
	m := stream.Message{ID: it.id, RawID: it.raw()}
	if it.extra != nil {
		m.Values = it.extra.values
	}
	return m
}

// ledgerEntry is what the ledger counts of the entry.
func (it item) ledgerEntry() ledger.Entry {
	e := ledger.Entry{ID: it.id, AdID: it.adID, TS: it.ts, Date: it.date}
	if it.extra != nil {
		e.Reason = it.extra.ivt
	}
	return e
}

// prepare parses delivered entries. keepValues keeps every entry's fields (needed for entries that may be
// dead-lettered for too many deliveries: those re-read or reclaimed); otherwise only poison entries keep them,
// and filtered entries share one extra per reason.
func (w *Worker) prepare(msgs []stream.Message, keepValues bool) []item {
	items := make([]item, len(msgs))
	dates := map[int64]string{}
	var shared map[string]*itemExtra // by ivt; never written through an item
	for i, m := range msgs {
		if m.Deleted {
			items[i] = item{id: m.ID, extra: &itemExtra{deleted: true}}
			continue
		}
		e, poison := parseEntry(m, w.opts.Location, dates)
		it := item{id: m.ID, adID: e.AdID, ts: e.TS, date: e.Date}
		switch {
		case keepValues || poison != "":
			it.extra = &itemExtra{reason: poison, ivt: e.Reason, values: m.Values}
		case e.Reason != "":
			x, ok := shared[e.Reason]
			if !ok {
				if shared == nil {
					shared = map[string]*itemExtra{}
				}
				x = &itemExtra{ivt: e.Reason}
				shared[e.Reason] = x
			}
			it.extra = x
		}
		items[i] = it
	}
	return items
}

// handle counts one batch and acknowledges it. ranges are the contiguous runs the batch was read as with
// '>' (one per read; nil for entries re-read from the pending list or reclaimed, which must have been
// prepared with their values). On error nothing is acknowledged except dead letters, so the entries stay
// pending and come back.
//
// An entry delivered more than MaxDeliveries times is still committed with the others: a commit that failed
// because MariaDB or Redis was unreachable says nothing against the entry, and one that was counted before
// (committed, then its acknowledgement failed) is skipped by the ledger. It is dead-lettered only when
// MariaDB rejects its data (mariadb.IsDataError), as isolateSuspects finds out.
func (w *Worker) handle(ctx context.Context, items []item, ranges []ledger.Range) error {
	if len(items) == 0 {
		return nil
	}
	start := time.Now()
	var deliveries map[string]int64
	if len(ranges) == 0 {
		var err error
		deliveries, err = w.group.DeliveryCounts(ctx, w.opts.Consumer, items[0].raw(), items[len(items)-1].raw(), 2*len(items)+w.opts.BatchSize)
		if err != nil {
			return err
		}
	}
	// Read before the commit: if a replay moves the group after it, the acknowledgement below is refused.
	epoch, err := w.group.Epoch(ctx)
	if err != nil {
		return err
	}
	entries := make([]ledger.Entry, 0, len(items)) // valid and filtered traffic
	ack := make([]string, 0, len(items))
	var suspects []item // delivered more than MaxDeliveries times
	deleted := 0
	for _, it := range items {
		raw := it.raw()
		if it.extra != nil && it.extra.deleted {
			deleted++
			ack = append(ack, raw)
			continue
		}
		if it.extra != nil && it.extra.reason != "" {
			if err := w.deadLetter(ctx, it.message(), it.extra.reason, "poison"); err != nil {
				return err
			}
			continue
		}
		if deliveries[raw] > w.opts.MaxDeliveries {
			suspects = append(suspects, it)
		}
		entries = append(entries, it.ledgerEntry())
		ack = append(ack, raw)
	}

	var res ledger.Result
	if len(entries) > 0 {
		call(w.opts.Hooks.BeforeCommit)
		cstart := time.Now()
		batch := ledger.Batch{Entries: entries, Ranges: ranges, Zone: w.opts.Location.String()}
		res, err = w.counter.Commit(ctx, batch)
		if err != nil && len(suspects) > 0 && mariadb.IsDataError(err) {
			res, ack, err = w.isolateSuspects(ctx, batch, ack, suspects, deliveries)
		}
		w.metrics.upsertSeconds.Observe(time.Since(cstart).Seconds())
		if err != nil {
			w.metrics.errors.WithLabelValues("commit").Inc()
			return fmt.Errorf("commit batch: %w", err)
		}
		call(w.opts.Hooks.AfterCommit)
	}
	if err := w.ack(ctx, epoch, ack); err != nil {
		if !errors.Is(err, stream.ErrReplayed) {
			w.metrics.errors.WithLabelValues("ack").Inc()
		}
		return err
	}
	w.metrics.counted.Add(float64(res.Counted))
	w.metrics.filtered.Add(float64(res.Filtered))
	w.metrics.duplicates.Add(float64(res.Duplicates))
	w.metrics.deleted.Add(float64(deleted))
	w.metrics.batchSeconds.Observe(time.Since(start).Seconds())
	w.metrics.batches.Inc() // last: a batch counted here has its other figures in place
	return nil
}

// isolateSuspects commits a batch MariaDB rejected for its data without the entries delivered more than
// MaxDeliveries times, then each of those alone: one MariaDB rejects too is dead-lettered, the others are
// counted. It returns what was counted and the acknowledgement list without the dead letters. Suspects
// exist only in batches re-read from the pending list, whose ledger rows are one per entry, so the separate
// transactions vouch for exactly what each counted.
func (w *Worker) isolateSuspects(ctx context.Context, b ledger.Batch, ack []string, suspects []item, deliveries map[string]int64) (ledger.Result, []string, error) {
	isSuspect := make(map[string]bool, len(suspects))
	for _, it := range suspects {
		isSuspect[it.raw()] = true
	}
	rest := b
	rest.Entries = slices.DeleteFunc(slices.Clone(b.Entries), func(e ledger.Entry) bool { return isSuspect[e.ID.String()] })
	var total ledger.Result
	if len(rest.Entries) > 0 {
		res, err := w.counter.Commit(ctx, rest)
		if err != nil {
			return total, ack, err
		}
		total = addResults(total, res)
	}
	dead := map[string]bool{}
	for _, it := range suspects {
		one := b
		one.Entries = []ledger.Entry{it.ledgerEntry()}
		res, err := w.counter.Commit(ctx, one)
		if err != nil && mariadb.IsDataError(err) {
			reason := fmt.Sprintf("delivered %d times (MAX_DELIVERIES=%d) and MariaDB rejects it: %v", deliveries[it.raw()], w.opts.MaxDeliveries, err)
			if err := w.deadLetter(ctx, it.message(), reason, "max_deliveries"); err != nil {
				return total, ack, err
			}
			dead[it.raw()] = true
			continue
		}
		if err != nil {
			return total, ack, err
		}
		total = addResults(total, res)
	}
	return total, slices.DeleteFunc(ack, func(id string) bool { return dead[id] }), nil
}

func addResults(a, b ledger.Result) ledger.Result {
	return ledger.Result{Counted: a.Counted + b.Counted, Filtered: a.Filtered + b.Filtered, Duplicates: a.Duplicates + b.Duplicates}
}

// ack acknowledges ids unless a replay moved the group since epoch; the MidAck hook splits it in two to
// crash in between.
func (w *Worker) ack(ctx context.Context, epoch string, ids []string) error {
	if w.opts.Hooks.MidAck != nil && len(ids) > 1 {
		if err := w.group.AckSince(ctx, epoch, ids[:len(ids)/2]); err != nil {
			return err
		}
		w.opts.Hooks.MidAck()
		ids = ids[len(ids)/2:]
	}
	return w.group.AckSince(ctx, epoch, ids)
}

func (w *Worker) deadLetter(ctx context.Context, m stream.Message, reason, label string) error {
	done, err := w.group.DeadLetter(ctx, w.opts.Consumer, m, reason)
	if err != nil {
		w.metrics.errors.WithLabelValues("dead_letter").Inc()
		return err
	}
	if done {
		w.metrics.deadLettered.WithLabelValues(label).Inc()
		w.log.Warn("entry dead-lettered", zap.String("id", m.RawID), zap.String("reason", reason),
			zap.String("dead_letter_stream", stream.DeadLetterStream(w.group.Stream())))
	}
	return nil
}

// boundedHandle runs handle under a context that survives shutdown but not BatchTimeout counted from
// readAt, when the oldest of the entries was read: the batch in hand is finished, never abandoned half-way
// because SIGTERM arrived, and no entry is held longer than BatchTimeout (= SHUTDOWN_TIMEOUT) from its read
// to its acknowledgement — including entries read ahead that waited for the batch before them. That is the
// bound CLAIM_MIN_IDLE must exceed (Config.Validate), so a live worker's entries are not reclaimed.
func (w *Worker) boundedHandle(ctx context.Context, readAt time.Time, items []item, ranges []ledger.Range) error {
	hctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), readAt.Add(w.opts.BatchTimeout))
	defer cancel()
	return w.handle(hctx, items, ranges)
}

// span is the contiguous run one '>' read delivered.
func span(msgs []stream.Message) ledger.Range {
	return ledger.Range{First: msgs[0].ID, Last: msgs[len(msgs)-1].ID}
}

// fail counts an error and logs it at most once a minute per operation.
func (w *Worker) fail(op, what string, err error) {
	w.metrics.errors.WithLabelValues(op).Inc()
	w.mu.Lock()
	every, ok := w.errLog[op]
	if !ok {
		every = logging.NewEvery(time.Minute)
		w.errLog[op] = every
	}
	w.mu.Unlock()
	if every.Allow() && !errors.Is(err, context.Canceled) {
		w.log.Error(what+" failed; retrying with backoff", zap.String("op", op), zap.Error(err))
	}
}

// backoff doubles from min to max.
type backoff struct {
	min, max, cur time.Duration
}

func (b *backoff) next() time.Duration {
	if b.cur == 0 {
		b.cur = b.min
	} else {
		b.cur = min(2*b.cur, b.max)
	}
	return b.cur
}

func (b *backoff) reset() { b.cur = 0 }

// sleep waits d or until ctx ends; false when ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
