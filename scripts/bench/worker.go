package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"adly/pkg/config"
	"adly/pkg/keyspace"
)

const (
	readCount = 1000  // entries per XREADGROUP, as the worker's BATCH_SIZE
	adIDs     = 10000 // distinct ad_ids in the stream
	days      = 3     // distinct dates in the stream
	// firstDay is the first of the stream's dates (UTC midnight); the workers run with TIMEZONE=UTC.
	firstDay = 1772323200 // 2026-03-01
	poll     = 50 * time.Millisecond
	// stallAfter fails a worker run whose group has not moved for this long.
	stallAfter  = 60 * time.Second
	workerGrace = 40 * time.Second // the worker's SHUTDOWN_TIMEOUT is 30s
)

// Variables the worker reads that the benchmark sets itself or that would change what is measured.
var workerVars = []string{
	"REDIS_KEY_PREFIX", "REDIS_CLUSTER_ADDRS", "DB_NAME", "ADMIN_ADDR", "CONSUMER_NAME", "BATCH_SIZE", "BLOCK",
	"TIMEZONE", "CLAIM_MIN_IDLE", "CLAIM_INTERVAL", "MAX_DELIVERIES", "RETAIN_ENTRIES", "TRIM_INTERVAL",
	"DEAD_CONSUMER_IDLE", "SHUTDOWN_TIMEOUT", "ADLY_FAULT", "LOG_LEVEL", "LOG_FORMAT",
}

// workerEnv is mode worker's settings.
type workerEnv struct {
	Servers
	Procs
	Rounds  int `envconfig:"ROUNDS" default:"3"`
	Entries int `envconfig:"ENTRIES" default:"2000000"`
}

func (e *workerEnv) Validate() error {
	return errors.Join(e.Servers.Validate(), e.Procs.Validate(), checkRounds(e.Rounds), checkSize("ENTRIES", e.Entries))
}

type adDay struct {
	adID int64
	date string
}

// workerBench fills impressions_stream once, then runs rounds of three measurements over all of it: the
// ceiling (XREADGROUP COUNT 1000 + XACK, no database), impression-worker with one consumer and with two
// consumer processes. Each worker run starts from a fresh group at "0" and empty tables and is timed from
// the start of the processes until nothing is pending and the last entry was delivered; the counts are then
// checked against what was written, and a miscount fails the benchmark.
type workerBench struct {
	env workerEnv
	*bench
	bin    string
	stream string
	group  string
	lastID string
	want   map[adDay]int64

	ceil, w1, w2 []float64 // entries/s per round
	rss1, rss2   float64   // peak RSS of a worker process, kB
}

func newWorker() (mode, error) {
	w := &workerBench{}
	if err := config.Load(&w.env); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *workerBench) plan() string {
	// Rough figures of a 2-core VM, for the estimate only: fill, ceiling, one worker and two workers in
	// entries/s, 2 s around each run, and about 23 bytes per entry of stream in Redis.
	n, r := float64(w.env.Entries), float64(w.env.Rounds)
	s := int(n/400000 + r*(n/450000+n/75000+n/85000+3*2) + 0.5)
	return fmt.Sprintf("mode worker: %d entries, %d rounds x 3 runs (ceiling, 1 consumer, 2 consumers) over all of them: "+
		"about %ds (%s) on a 2-core VM, plus build; the stream takes about %.0f MB in Redis",
		w.env.Entries, w.env.Rounds, s, minSecs(s), n*23/1048576+1)
}

func (w *workerBench) run(ctx context.Context, b *bench) error {
	w.bench = b
	e := w.env
	names := keyspace.NewNames(fmt.Sprintf("bench:%d:", os.Getpid()))
	w.stream, w.group = names.ImpressionsStream(), names.ImpressionGroup()
	var err error
	if w.bin, err = b.build(ctx, "./cmd/impression-worker"); err != nil {
		return err
	}
	if err := b.connectRedis(ctx, e.Redis, names.Prefix()); err != nil {
		return err
	}
	if err := b.createDB(ctx, e.DB); err != nil {
		return err
	}
	gmp := e.note("workers and ceiling loop alike", "")
	info("database %s, Redis keys under %s; %s", b.dbName, b.prefix, gmp)
	if err := w.fill(ctx); err != nil {
		return err
	}

	fmt.Printf("\nadly worker benchmark: %d entries, %d rounds, XREADGROUP COUNT %d\n", e.Entries, e.Rounds, readCount)
	rate := func(d time.Duration) float64 { return float64(e.Entries) / d.Seconds() }
	for r := 1; r <= e.Rounds; r++ {
		c, err := w.ceiling(ctx)
		if err != nil {
			return fmt.Errorf("round %d, ceiling: %w", r, err)
		}
		d1, rss1, err := w.workers(ctx, r, 1)
		if err != nil {
			return fmt.Errorf("round %d, 1 consumer: %w", r, err)
		}
		d2, rss2, err := w.workers(ctx, r, 2)
		if err != nil {
			return fmt.Errorf("round %d, 2 consumers: %w", r, err)
		}
		w.ceil, w.w1, w.w2 = append(w.ceil, rate(c)), append(w.w1, rate(d1)), append(w.w2, rate(d2))
		w.rss1, w.rss2 = max(w.rss1, float64(rss1)), max(w.rss2, float64(rss2))
		fmt.Printf("round %d/%d  ceiling %9.0f entries/s | 1 consumer %9.0f entries/s (%.3f), %5.1f MB | 2 consumers %9.0f entries/s (%.3f), %5.1f MB  | counts exact\n",
			r, e.Rounds, rate(c), rate(d1), rate(d1)/rate(c), float64(rss1)/1024, rate(d2), rate(d2)/rate(c), float64(rss2)/1024)
	}
	w.summary(ctx, gmp)
	return nil
}

// summary prints the medians and the report.
func (w *workerBench) summary(ctx context.Context, gmp string) {
	e := w.env
	ceil, w1, w2 := median(w.ceil), median(w.w1), median(w.w2)
	ratio1, ratio2 := ratio(w1, ceil), ratio(w2, ceil)
	rr1, rr2 := medianRatio(w.w1, w.ceil), medianRatio(w.w2, w.ceil)
	rss1, rss2 := w.rss1/1024, w.rss2/1024
	rssMax := max(rss1, rss2)
	// Judged on the figures as printed, so that a report never shows 0.400 and "NOT met" side by side.
	tSpeed, tMem := met(round3(ratio1) >= 0.40), met(round1(rssMax) < 100)

	fmt.Printf("\nsummary (median of %d rounds, %d entries per run)\n", e.Rounds, e.Entries)
	fmt.Printf("  %-12s %9.0f entries/s  (XREADGROUP COUNT 1000 + XACK, no database)\n", "ceiling", ceil)
	fmt.Printf("  %-12s %9.0f entries/s  worker/ceiling %.3f (median of per-round ratios %.3f)  target >= 0.40: %s\n",
		"1 consumer", w1, ratio1, rr1, tSpeed)
	fmt.Printf("  %-12s %9.0f entries/s  worker/ceiling %.3f (median of per-round ratios %.3f)\n", "2 consumers", w2, ratio2, rr2)
	fmt.Printf("  peak RSS of a worker process: %.1f MB (1 consumer %.1f MB, 2 consumers %.1f MB)  target < 100 MB: %s\n",
		rssMax, rss1, rss2, tMem)
	fmt.Printf("  counts: exact after every worker run (SUM(impressions) = %d, every (ad_id, date) as written)\n", e.Entries)

	report{
		title:    "adly impression-worker benchmark",
		command:  e.command(fmt.Sprintf("ENTRIES=%d ROUNDS=%d", e.Entries, e.Rounds), "worker"),
		software: []string{w.redisVersion(ctx), w.dbVersion(ctx)},
		load: fmt.Sprintf("`impressions_stream` pre-filled with %d entries (10,000 ad_ids, 3 dates); every run reads all of them "+
			"from a fresh group at 0 with XREADGROUP COUNT 1000 over loopback; worker runs start with empty tables and are timed "+
			"from process start until nothing is pending and the last entry was delivered; %d interleaved rounds "+
			"(ceiling, 1 consumer, 2 consumers); %s", e.Entries, e.Rounds, gmp),
		header: []string{fmt.Sprintf("Run (median of %d rounds)", e.Rounds), "entries/s", "vs ceiling (ratio of medians)",
			"(median of per-round ratios)", "peak RSS", "target"},
		align: []string{"---", "--:", "--:", "--:", "--:", "---"},
		rows: [][]string{
			{"ceiling: XREADGROUP + XACK loop, no database", fmt.Sprintf("%.0f", ceil), "1.000", "1.000", "–", ""},
			{"impression-worker, 1 consumer", fmt.Sprintf("%.0f", w1), fmt.Sprintf("%.3f", ratio1), fmt.Sprintf("%.3f", rr1),
				fmt.Sprintf("%.1f MB", rss1), "≥ 0.40 of ceiling: " + tSpeed},
			{"impression-worker, 2 consumers", fmt.Sprintf("%.0f", w2), fmt.Sprintf("%.3f", ratio2), fmt.Sprintf("%.3f", rr2),
				fmt.Sprintf("%.1f MB", rss2), ""},
		},
		footer: fmt.Sprintf("Peak memory (VmHWM, largest worker process): %.1f MB, target < 100 MB: %s. "+
			"Counts exact after every worker run: SUM(impressions) = %d and every (ad_id, date) as written.\n", rssMax, tMem, e.Entries),
	}.write(os.Stdout)
}
