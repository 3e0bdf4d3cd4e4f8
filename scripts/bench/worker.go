package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"adly/pkg/config"
	"adly/pkg/keyspace"
	"adly/pkg/stream"
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

// fill writes the entries with pipelined XADDs: ad_ids 1..10000 and three consecutive UTC dates, drawn from a
// fixed seed so that every run writes the same stream. It remembers how many of each (ad_id, date) it wrote.
func (w *workerBench) fill(ctx context.Context) error {
	rng := rand.New(rand.NewPCG(1, 2))
	w.want = make(map[adDay]int64, adIDs*days)
	start := time.Now()
	for done := 0; done < w.env.Entries; {
		n := min(fillBatch, w.env.Entries-done)
		pipe := w.client.Pipeline()
		cmds := make([]*redis.StringCmd, n)
		for i := range n {
			ad := 1 + rng.Int64N(adIDs)
			day := rng.Int64N(days)
			ts := firstDay + day*86400 + rng.Int64N(86400)
			w.want[adDay{ad, time.Unix(ts, 0).UTC().Format(time.DateOnly)}]++
			cmds[i] = pipe.XAdd(ctx, &redis.XAddArgs{Stream: w.stream, Values: []any{"ad_id", strconv.FormatInt(ad, 10), "ts", strconv.FormatInt(ts, 10)}})
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("fill: %w", err)
		}
		w.lastID = cmds[n-1].Val()
		done += n
	}
	elapsed := time.Since(start)
	xlen, err := w.client.XLen(ctx, w.stream).Result()
	if err != nil {
		return err
	}
	if xlen != int64(w.env.Entries) {
		return fmt.Errorf("fill: stream has %d entries, want %d", xlen, w.env.Entries)
	}
	mem := ""
	if used, err := w.client.MemoryUsage(ctx, w.stream, 0).Result(); err == nil {
		mem = fmt.Sprintf(", %.1f MB in Redis", float64(used)/(1<<20))
	}
	info("filled %s with %d entries (%d ad_ids x %d dates) in %.1fs (%.0f entries/s%s)",
		w.stream, w.env.Entries, adIDs, days, elapsed.Seconds(), float64(w.env.Entries)/elapsed.Seconds(), mem)
	return nil
}

// freshGroup recreates the group at the stream's start, so the next run reads every entry.
func (w *workerBench) freshGroup(ctx context.Context) error {
	if err := w.client.XGroupDestroy(ctx, w.stream, w.group).Err(); err != nil {
		return fmt.Errorf("xgroup destroy: %w", err)
	}
	if err := w.client.XGroupCreate(ctx, w.stream, w.group, "0").Err(); err != nil {
		return fmt.Errorf("xgroup create: %w", err)
	}
	return nil
}

func (w *workerBench) groupInfo(ctx context.Context) (redis.XInfoGroup, error) {
	groups, err := w.client.XInfoGroups(ctx, w.stream).Result()
	if err != nil {
		return redis.XInfoGroup{}, fmt.Errorf("xinfo groups: %w", err)
	}
	for _, g := range groups {
		if g.Name == w.group {
			return g, nil
		}
	}
	return redis.XInfoGroup{}, fmt.Errorf("group %s is missing from %s", w.group, w.stream)
}

// ceiling reads and acknowledges the whole stream in one loop, with nothing else to do.
func (w *workerBench) ceiling(ctx context.Context) (time.Duration, error) {
	if err := w.freshGroup(ctx); err != nil {
		return 0, err
	}
	read := 0
	start := time.Now()
	for {
		res, err := w.client.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group: w.group, Consumer: "ceiling", Streams: []string{w.stream, ">"}, Count: readCount, Block: -1,
		}).Result()
		if errors.Is(err, redis.Nil) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("xreadgroup: %w", err)
		}
		if len(res) == 0 || len(res[0].Messages) == 0 {
			break
		}
		ids := make([]string, len(res[0].Messages))
		for i, m := range res[0].Messages {
			ids[i] = m.ID
		}
		if err := w.client.XAck(ctx, w.stream, w.group, ids...).Err(); err != nil {
			return 0, fmt.Errorf("xack: %w", err)
		}
		read += len(ids)
	}
	elapsed := time.Since(start)
	g, err := w.groupInfo(ctx)
	if err != nil {
		return 0, err
	}
	if read != w.env.Entries || g.Pending != 0 || g.LastDeliveredID != w.lastID {
		return 0, fmt.Errorf("read %d entries (want %d), %d pending, last delivered %s (want %s)",
			read, w.env.Entries, g.Pending, g.LastDeliveredID, w.lastID)
	}
	return elapsed, nil
}

// workers times n worker processes over the whole stream, then checks what they counted. It returns the
// time and the largest peak RSS of a worker, in kB.
func (w *workerBench) workers(ctx context.Context, round, n int) (time.Duration, int64, error) {
	if err := w.freshGroup(ctx); err != nil {
		return 0, 0, err
	}
	if err := w.truncate(ctx, "ad_daily_impressions", "stream_ledger", "stream_locks", "stream_replays"); err != nil {
		return 0, 0, err
	}
	start := time.Now()
	procs := make([]*proc, 0, n)
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("bench-r%d-%dc-%d", round, n, i)
		p, err := w.start(procSpec{name: name, bin: w.bin, grace: workerGrace, env: childEnv(workerVars,
			"REDIS_KEY_PREFIX="+w.prefix, "DB_NAME="+w.dbName, "ADMIN_ADDR=127.0.0.1:0", "CONSUMER_NAME="+name,
			"BATCH_SIZE="+strconv.Itoa(readCount), "LOG_LEVEL=warn", "TIMEZONE=UTC", "TRIM_INTERVAL=1h", "CLAIM_INTERVAL=1h")})
		if err != nil {
			return 0, 0, err
		}
		procs = append(procs, p)
	}
	elapsed, err := w.waitDone(ctx, start, procs)
	if err != nil {
		return 0, 0, err
	}
	// Peak RSS so far, read while the processes still run.
	var rss int64
	for _, p := range procs {
		kb, err := peakRSS(p.cmd.Process.Pid)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %w", p.name, err)
		}
		rss = max(rss, kb)
	}
	if err := w.stopAll(); err != nil {
		return 0, 0, err
	}
	return elapsed, rss, w.verify(ctx)
}

// waitDone polls the group until nothing is pending and the last entry has been delivered.
func (w *workerBench) waitDone(ctx context.Context, start time.Time, Procs []*proc) (time.Duration, error) {
	t := time.NewTicker(poll)
	defer t.Stop()
	var last redis.XInfoGroup
	moved := time.Now()
	for {
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-t.C:
		}
		g, err := w.groupInfo(ctx)
		if err != nil {
			return 0, err
		}
		if g.Pending == 0 && g.LastDeliveredID == w.lastID {
			return time.Since(start), nil
		}
		for _, p := range Procs {
			if err := p.exitedEarly(); err != nil {
				return 0, fmt.Errorf("before the stream was consumed: %w", err)
			}
		}
		if g.Pending != last.Pending || g.LastDeliveredID != last.LastDeliveredID {
			last, moved = g, time.Now()
		} else if time.Since(moved) > stallAfter {
			return 0, fmt.Errorf("no progress for %s: %d pending, last delivered %s of %s%s",
				stallAfter, g.Pending, g.LastDeliveredID, w.lastID, Procs[0].tail())
		}
	}
}

// verify checks the table against what fill wrote: the total first, then every (ad_id, date); and that
// nothing was dead-lettered.
func (w *workerBench) verify(ctx context.Context) error {
	var sum int64
	if err := w.db.GetContext(ctx, &sum, "SELECT CAST(COALESCE(SUM(impressions), 0) AS SIGNED) FROM ad_daily_impressions"); err != nil {
		return fmt.Errorf("sum impressions: %w", err)
	}
	if want := int64(w.env.Entries); sum != want {
		return miscount("The worker miscounted", "SUM(impressions) = %d, but the stream has %d entries (%+d).", sum, want, sum-want)
	}
	var rows []struct {
		AdID        int64  `db:"ad_id"`
		Date        string `db:"d"`
		Impressions int64  `db:"impressions"`
	}
	if err := w.db.SelectContext(ctx, &rows, "SELECT ad_id, DATE_FORMAT(date, '%Y-%m-%d') AS d, impressions FROM ad_daily_impressions"); err != nil {
		return fmt.Errorf("read counts: %w", err)
	}
	bad := 0
	for _, r := range rows {
		if w.want[adDay{r.AdID, r.Date}] != r.Impressions {
			bad++
		}
	}
	if bad > 0 || len(rows) != len(w.want) {
		return miscount("The worker miscounted", "the total is right but %d of %d rows are wrong (%d rows, want %d).",
			bad, len(rows), len(rows), len(w.want))
	}
	if n, err := w.client.XLen(ctx, stream.DeadLetterStream(w.stream)).Result(); err != nil {
		return err
	} else if n != 0 {
		return miscount("The worker dead-lettered entries", "%d entries were dead-lettered.", n)
	}
	return nil
}

// miscount is the loud error of a run whose counts are wrong: its figures are not a result.
func miscount(who, format string, args ...any) error {
	return fmt.Errorf("\n\n!!!!!!!! COUNT MISMATCH: "+format+"\n!!!!!!!! %s: these figures are not a result", append(args, who)...)
}
