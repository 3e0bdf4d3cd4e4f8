package pathsync

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"

	"adly/pkg/event"
	"adly/pkg/hits"
)

// ErrLocked means another sync holds the lock.
var ErrLocked = errors.New("another sync is running")

// ErrLockLost means the sync stopped because its lock expired under it (the syncer was paused or cut off
// from Redis longer than LockTTL): it moved or finished nothing after that, and what it left staged is
// recovered by the lock's next owner.
var ErrLockLost = hits.ErrLockLost

// releaseTimeout bounds the lock's release after a sync, which runs even when the sync's context ended.
const releaseTimeout = time.Second

// Options tune a Syncer.
type Options struct {
	ChunkPaths int           // paths per chunk (one MariaDB transaction); default 20000
	ScanCount  int64         // SCAN COUNT hint; default 5000
	LockTTL    time.Duration // default 60s, renewed while syncing
	Hooks      Hooks
	// Now stamps when a chunk's counters were read from Redis (its commit is refused a day after that, by
	// MariaDB's clock); time.Now when nil. Tests set it to stand for a syncer frozen for days.
	Now func() time.Time
}

// Hooks are fault-injection points for crash tests.
type Hooks struct {
	AfterMove   func() // counters staged, chunk not committed
	AfterCommit func() // chunk committed, staging not dropped
}

// Syncer moves hit counters into path_counters.
type Syncer struct {
	hits    Counters
	paths   Table
	log     *zap.Logger
	metrics *Metrics
	opts    Options
}

// New builds a Syncer.
func New(hits Counters, paths Table, log *zap.Logger, metrics *Metrics, opts Options) *Syncer {
	if opts.ChunkPaths <= 0 {
		opts.ChunkPaths = 20000
	}
	if opts.ScanCount <= 0 {
		opts.ScanCount = 5000
	}
	if opts.LockTTL <= 0 {
		opts.LockTTL = 60 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Syncer{hits: hits, paths: paths, log: log, metrics: metrics, opts: opts}
}

// Result is what one sync did.
type Result struct {
	Paths     int      // distinct paths added to path_counters (including recovered chunks)
	Hits      int64    // hits moved
	Recovered int      // chunks of a crashed sync finished
	Errors    []string // keys that could not be synced (parked), one line each
}

// Sync runs one sync: recover, then move and commit chunk by chunk. It stops with ErrLockLost as soon as it
// finds its lock gone (a fenced step refused, or a renewal found another owner), and with ctx's error when
// ctx ends; either way what it staged stays pending for the next sync.
func (s *Syncer) Sync(ctx context.Context) (Result, error) {
	start := time.Now()
	token := newID()
	ok, err := s.hits.AcquireLock(ctx, token, s.opts.LockTTL)
	if err != nil {
		return Result{}, err
	}
	if !ok {
		return Result{}, ErrLocked
	}
	lockCtx, lost := context.WithCancelCause(ctx)
	renewed := make(chan struct{})
	go func() { defer close(renewed); s.renewLock(lockCtx, token, lost) }()
	defer func() {
		lost(context.Canceled)
		<-renewed
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
		defer cancel()
		if err := s.hits.ReleaseLock(rctx, token); err != nil {
			s.log.Warn("release sync lock", zap.Error(err))
		}
	}()

	var res Result
	fence, pending, err := s.hits.Claim(lockCtx, token)
	if err == nil {
		err = s.recoverPending(lockCtx, fence, pending, &res)
	}
	if err == nil {
		err = s.moveAndCommit(lockCtx, fence, &res)
	}
	if err != nil {
		if errors.Is(context.Cause(lockCtx), ErrLockLost) && !errors.Is(err, ErrLockLost) {
			err = fmt.Errorf("%w: %w", ErrLockLost, err)
		}
		if errors.Is(err, ErrLockLost) {
			s.log.Warn("sync lock lost (expired under this syncer); stopped, the lock's next owner finishes the staged chunks")
		}
		s.metrics.errors.Inc()
		return res, err
	}
	s.metrics.seconds.Observe(time.Since(start).Seconds())
	s.metrics.lastSuccess.SetToCurrentTime()
	return res, nil
}

// renewLock extends the lock every LockTTL/3 until ctx ends. When an extension finds the lock no longer
// ours, it calls lost(ErrLockLost), which stops the sync; the fenced scripts refuse its steps anyway, this
// only stops it sooner (and cuts off a MariaDB commit in progress, which recovery redoes exactly).
func (s *Syncer) renewLock(ctx context.Context, token string, lost context.CancelCauseFunc) {
	t := time.NewTicker(s.opts.LockTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if ok, err := s.hits.ExtendLock(ctx, token, s.opts.LockTTL); err == nil && !ok {
				lost(ErrLockLost)
				return
			}
		}
	}
}

// recoverPending commits (or just finishes) the chunks a crashed sync left staged, which Claim returned:
// their records are final, since Claim fenced out every earlier owner before it read them.
func (s *Syncer) recoverPending(ctx context.Context, fence string, chunks []*hits.Chunk, res *Result) error {
	for _, c := range chunks {
		read := s.opts.Now()
		counts, err := s.hits.Staged(ctx, c)
		if err != nil {
			return err
		}
		counts = event.MergePathCounts(counts)
		committed, err := s.commit(ctx, fence, c, counts, read)
		if err != nil {
			return err
		}
		s.log.Info("finished a chunk left by an interrupted sync", zap.String("sync_id", c.ID),
			zap.Int("paths", len(counts)), zap.Bool("committed_now", committed))
		res.Recovered++
		if committed {
			res.Paths += len(counts)
			res.Hits += event.SumHits(counts)
		}
	}
	return nil
}

// committers is how many chunks are committed to MariaDB at once. Each committer takes the chunks of its own
// range of paths (see move), one after the other, so concurrent upserts share no row and touch different
// parts of the path index: MariaDB spent ≈ 7 % less CPU than with chunks in SCAN order (BENCHMARKS.md). Rows
// shared with a second syncer (after its lock expired) cannot deadlock either: every upsert takes its rows
// in path order.
const committers = 2

// moveAndCommit scans every counter once, moving them into chunks; other goroutines commit the full chunks
// while the next ones are being moved, so Redis and MariaDB work at the same time. Each chunk is staged (and
// registered as pending) before it is handed over, so an error or a crash on either side leaves nothing that
// the next sync's recovery does not finish.
func (s *Syncer) moveAndCommit(ctx context.Context, fence string, res *Result) error {
	type chunk struct {
		c      *hits.Chunk
		counts []event.PathCount
		since  time.Time // its first move
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	queues := make([]chan chunk, committers)
	committed := make(chan error, committers)
	var mu sync.Mutex // guards res
	for i := range queues {
		queues[i] = make(chan chunk, 1)
		go func(full <-chan chunk) {
			var err error
			for c := range full {
				if err != nil {
					continue // drain; the chunks stay staged for the next sync
				}
				counts := event.MergePathCounts(c.counts)
				if _, err = s.commit(ctx, fence, c.c, counts, c.since); err != nil {
					cancel()
					continue
				}
				mu.Lock()
				res.Paths += len(counts)
				res.Hits += event.SumHits(counts)
				mu.Unlock()
			}
			committed <- err
		}(queues[i])
	}
	moveErr := s.move(ctx, fence, len(queues), func(part int, c *hits.Chunk, counts []event.PathCount, since time.Time) bool {
		select {
		case queues[part] <- chunk{c, counts, since}:
			return true
		case <-ctx.Done():
			return false
		}
	}, res)
	for _, q := range queues {
		close(q)
	}
	var commitErr error
	for range committers {
		// The first committer to fail cancels the other, whose "context canceled" says nothing: keep the
		// cause (a lost lock above all, which tells the caller to stop).
		if err := <-committed; err != nil && (commitErr == nil || errors.Is(commitErr, context.Canceled) || errors.Is(err, ErrLockLost)) {
			commitErr = err
		}
	}
	if commitErr != nil {
		return commitErr
	}
	return moveErr
}

// move scans the counters (every master of a cluster) and hands each full chunk (and the last ones) to
// emit. Paths are split into parts ranges of about equal size, bounded by quantiles of the first page SCAN
// returns (a random sample: SCAN walks the hash table); each range fills its own chunks. A chunk holds at
// most ChunkPaths moved counters (a path moved twice, because SCAN returned it twice and a hit arrived in
// between, counts twice here and is merged before the commit); on a cluster its counters come from many
// slots, each slot's part staged in that slot.
func (s *Syncer) move(ctx context.Context, fence string, parts int, emit func(int, *hits.Chunk, []event.PathCount, time.Time) bool, res *Result) error {
	type open struct {
		c      *hits.Chunk
		counts []event.PathCount
		since  time.Time // before its first move; zero while empty
	}
	fresh := func() open {
		return open{c: hits.NewChunk(newID()), counts: make([]event.PathCount, 0, s.opts.ChunkPaths)}
	}
	chunks := make([]open, parts)
	for i := range chunks {
		chunks[i] = fresh()
	}
	flush := func(p int) bool {
		c := &chunks[p]
		if len(c.counts) == 0 {
			return true
		}
		ok := emit(p, c.c, c.counts, c.since)
		*c = fresh()
		return ok
	}
	var bounds []string // the first key of ranges 1..parts-1; nil until a page held keys
	byPart := make([][]string, parts)
	err := s.hits.Scan(ctx, s.opts.ScanCount, func(keys []string) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		keys, err := s.parkInvalid(ctx, fence, keys, chunks[0].c.ID, res)
		if err != nil {
			return err
		}
		if bounds == nil && len(keys) > 0 {
			bounds = quantiles(keys, parts)
		}
		for p := range byPart {
			byPart[p] = byPart[p][:0]
		}
		for _, k := range keys {
			p := partOf(bounds, k)
			byPart[p] = append(byPart[p], k)
		}
		for p, keys := range byPart {
			for len(keys) > 0 { // never let a chunk grow past ChunkPaths, whatever SCAN's page size
				c := &chunks[p]
				part := keys[:min(len(keys), max(s.opts.ChunkPaths-len(c.counts), 1))]
				keys = keys[len(part):]
				var parked []hits.Parked
				var err error
				if c.since.IsZero() {
					c.since = s.opts.Now()
				}
				c.counts, parked, err = s.hits.Move(ctx, fence, c.c, part, c.counts)
				for _, pk := range parked {
					s.reportParked(pk.Key, pk.Reason, nil, res)
				}
				if err != nil {
					return err
				}
				if len(c.counts) >= s.opts.ChunkPaths && !flush(p) {
					return ctx.Err()
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for p := range chunks {
		if !flush(p) {
			return ctx.Err()
		}
	}
	return nil
}

// partOf returns the range of key: how many bounds are at most key.
func partOf(bounds []string, key string) int {
	p, found := slices.BinarySearch(bounds, key)
	if found {
		p++
	}
	return p
}

// quantiles returns up to n-1 increasing keys that split a sorted copy of keys (not empty) into n runs of
// about equal length; fewer when keys holds fewer than n distinct keys.
func quantiles(keys []string, n int) []string {
	sorted := slices.Clone(keys)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	bounds := make([]string, 0, n-1)
	for i := 1; i < n; i++ {
		b := sorted[i*len(sorted)/n]
		if len(bounds) == 0 || b > bounds[len(bounds)-1] {
			bounds = append(bounds, b)
		}
	}
	return bounds
}

// commit writes one staged chunk (merged: sorted by path, each path once) whose counts were read from Redis
// at read or later to MariaDB, unless that was more than commitWindow ago, and drops its staging.
func (s *Syncer) commit(ctx context.Context, fence string, c *hits.Chunk, counts []event.PathCount, read time.Time) (bool, error) {
	call(s.opts.Hooks.AfterMove)
	committed, err := s.paths.CommitChunk(ctx, c.ID, counts, read.Add(commitWindow))
	if err != nil {
		return false, err
	}
	call(s.opts.Hooks.AfterCommit)
	if err := s.hits.Finish(ctx, fence, c); err != nil {
		return committed, err
	}
	if committed {
		s.metrics.paths.Add(float64(len(counts)))
		s.metrics.hits.Add(float64(event.SumHits(counts)))
	}
	return committed, nil
}

// parkInvalid parks the keys whose path breaks event.CheckPath (the rule the API and the tracking middleware
// hold their paths to: a path no client could send is never synced, whoever wrote it) and returns the others.
// It stops at ErrLockLost.
func (s *Syncer) parkInvalid(ctx context.Context, fence string, keys []string, chunkID string, res *Result) ([]string, error) {
	valid := keys[:0]
	for _, k := range keys {
		path, ok := s.hits.Names().PathOfHitKey(k)
		if !ok {
			continue
		}
		bad := event.CheckPath(path)
		if bad == nil {
			valid = append(valid, k)
			continue
		}
		err := s.hits.Park(ctx, fence, k, path, chunkID)
		if errors.Is(err, ErrLockLost) {
			return nil, err
		}
		s.reportParked(k, event.Reason(bad), err, res)
	}
	return valid, nil
}

// reportParked logs, counts and reports a key that cannot be synced: parked (parkErr nil), or left where it is
// when parking it failed (parkErr), to be reported again by the next sync.
func (s *Syncer) reportParked(key, reason string, parkErr error, res *Result) {
	s.metrics.parkedKeys.Inc()
	if parkErr != nil {
		s.log.Error("could not park a bad key; it stays and is reported again next sync", zap.String("key", key), zap.Error(parkErr))
		res.Errors = append(res.Errors, fmt.Sprintf("%q: %s (could not park: %v)", key, reason, parkErr))
		return
	}
	path, _ := s.hits.Names().PathOfHitKey(key)
	parkedAs := s.hits.ParkedKeyOf(key, path)
	s.log.Error("hit counter cannot be synced; parked", zap.String("key", key), zap.String("reason", reason),
		zap.String("parked_as", parkedAs))
	res.Errors = append(res.Errors, fmt.Sprintf("%q: %s (parked under %q)", key, reason, parkedAs))
}

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return time.Now().UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b)
}

func call(f func()) {
	if f != nil {
		f()
	}
}
