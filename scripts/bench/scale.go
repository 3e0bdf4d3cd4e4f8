package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"adly/pkg/config"
	"adly/pkg/event"
	"adly/pkg/keyspace"
	"adly/pkg/mariadb"
	"adly/pkg/stream"
)

// Worker counts and shard counts of mode scale, measured in this order in every round.
var (
	scaleWorkers = []int{1, 2, 4}
	scaleShards  = []int{1, 4}
)

// scaleEnv is mode scale's settings.
type scaleEnv struct {
	Servers
	Procs
	Rounds    int           `envconfig:"ROUNDS" default:"2"`
	Entries   int           `envconfig:"ENTRIES" default:"200000"`
	Delay     time.Duration `envconfig:"DB_DELAY" default:"5ms"`
	BatchSize int           `envconfig:"BATCH_SIZE" default:"250"`
	// MergeReads is the workers' MERGE_READS. 1 makes every read its own MariaDB transaction, so that the
	// round trips, not the two cores, set the pace; the shipped 100 merges a backlog into transactions of up
	// to 100 reads, which hides the round trips (the run says what it used).
	MergeReads int `envconfig:"MERGE_READS" default:"1"`
}

func (e *scaleEnv) Validate() error {
	var errs []error
	if e.Delay < 0 || e.Delay > time.Second {
		errs = append(errs, fmt.Errorf("DB_DELAY must be between 0 and 1s, got %s", e.Delay))
	}
	if e.BatchSize < 1 || e.BatchSize > 10000 {
		errs = append(errs, fmt.Errorf("BATCH_SIZE must be between 1 and 10000, got %d", e.BatchSize))
	}
	if e.MergeReads < 1 || e.MergeReads > 100 {
		errs = append(errs, fmt.Errorf("MERGE_READS must be between 1 and 100, got %d", e.MergeReads))
	}
	return errors.Join(append(errs, e.Servers.Validate(), e.Procs.Validate(), checkRounds(e.Rounds), checkSize("ENTRIES", e.Entries))...)
}

// scaleBench measures how the drain rate of impression-workers grows with their number when MariaDB is the
// bottleneck: a proxy holds every statement for DB_DELAY on its way to MariaDB (a database one round trip
// away), and for each shard count (STREAM_SHARDS 1 and 4) the streams are filled once, then drained from
// fresh groups by 1, 2 and 4 worker processes. A group's commits are serial (one lock row per stream and
// group, pkg/worker/doc.go), so on one shard more workers only wait for one another; on four shards each
// shard commits under its own lock row. Every run's counts are checked.
type scaleBench struct {
	env scaleEnv
	*bench
	bin   string
	proxy *delayProxy
	rtt   time.Duration

	// per shard count: the streams, their last IDs and what they hold
	streams map[int][]string
	lastIDs map[int][]string
	want    map[adDay]int64
	rates   map[[2]int][]float64 // (shards, workers) → entries/s per round
	rss     float64
}

func newScale() (mode, error) {
	s := &scaleBench{}
	if err := config.Load(&s.env); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *scaleBench) plan() string {
	// One worker on one shard commits BATCH_SIZE × MERGE_READS entries per about 8 delayed round trips.
	perBatch := 8 * s.env.Delay.Seconds() / float64(s.env.MergeReads)
	if perBatch == 0 {
		perBatch = 0.005
	}
	one := float64(s.env.Entries) / (float64(s.env.BatchSize) / perBatch)
	secs := int(float64(s.env.Rounds)*(one*(3+1+0.5+0.3)+one*(1+0.5+0.3)+12) + 10)
	return fmt.Sprintf("mode scale: %d entries, DB_DELAY %s, BATCH_SIZE %d, MERGE_READS %d, %d rounds x (1, 2, 4 workers) x (1, 4 shards): about %ds (%s), plus build",
		s.env.Entries, s.env.Delay, s.env.BatchSize, s.env.MergeReads, s.env.Rounds, secs, minSecs(secs))
}

func (s *scaleBench) run(ctx context.Context, b *bench) error {
	s.bench = b
	e := s.env
	prefix := fmt.Sprintf("bench:%d:", os.Getpid())
	var err error
	if s.bin, err = b.build(ctx, "./cmd/impression-worker"); err != nil {
		return err
	}
	if err := b.connectRedis(ctx, e.Redis, prefix); err != nil {
		return err
	}
	if err := b.createDB(ctx, e.DB); err != nil {
		return err
	}
	if s.proxy, err = startDelayProxy(net.JoinHostPort(e.DB.Host, strconv.Itoa(e.DB.Port)), e.Delay); err != nil {
		return err
	}
	defer func() { _ = s.proxy.close() }()
	if err := s.measureRTT(ctx); err != nil {
		return err
	}
	gmp := e.note("workers", "")
	info("database %s behind a proxy adding %s per statement (median SELECT 1 through it: %s), Redis keys under %s; %s",
		b.dbName, e.Delay, s.rtt.Round(100*time.Microsecond), b.prefix, gmp)

	s.streams, s.lastIDs, s.rates = map[int][]string{}, map[int][]string{}, map[[2]int][]float64{}
	if err := s.fill(ctx); err != nil {
		return err
	}
	fmt.Printf("\nadly worker scaling benchmark: %d entries, DB_DELAY %s, BATCH_SIZE %d, MERGE_READS %d\n", e.Entries, e.Delay, e.BatchSize, e.MergeReads)
	for r := 1; r <= e.Rounds; r++ {
		for _, shards := range scaleShards {
			for _, n := range scaleWorkers {
				d, rss, err := s.drain(ctx, r, shards, n)
				if err != nil {
					return fmt.Errorf("round %d, %d shards, %d workers: %w", r, shards, n, err)
				}
				rate := float64(e.Entries) / d.Seconds()
				k := [2]int{shards, n}
				s.rates[k] = append(s.rates[k], rate)
				s.rss = max(s.rss, float64(rss))
				fmt.Printf("round %d/%d  %d shard(s)  %d worker(s)  %8.0f entries/s  %6.2fs  %5.1f MB  counts exact\n",
					r, e.Rounds, shards, n, rate, d.Seconds(), float64(rss)/1024)
			}
		}
	}
	s.summary(ctx, gmp)
	return nil
}

// measureRTT times SELECT 1 through the proxy, so the report says what a round trip cost.
func (s *scaleBench) measureRTT(ctx context.Context) error {
	cfg := s.env.DB
	cfg.Host, cfg.Port, cfg.Name = "127.0.0.1", s.proxy.Port(), s.dbName
	db, err := mariadb.Open(ctx, cfg)
	if err != nil {
		return fmt.Errorf("mariadb through the delay proxy: %w", err)
	}
	defer func() { _ = db.Close() }()
	s.rtt, err = measureRoundTrip(ctx, func(ctx context.Context) error {
		_, err := db.ExecContext(ctx, "SELECT 1")
		return err
	}, 20)
	return err
}

// fill writes the same entries for every shard count: ad_ids 1..10000 over three dates from a fixed seed,
// entry i to shard i mod shards, so every shard holds an equal share.
func (s *scaleBench) fill(ctx context.Context) error {
	s.want = map[adDay]int64{}
	for _, shards := range scaleShards {
		names := keyspace.NewNames(s.prefix + "s" + strconv.Itoa(shards) + ":").WithShards(shards)
		streams := names.Streams(event.Impression)
		s.streams[shards] = streams
		s.lastIDs[shards] = make([]string, len(streams))
		rng := rand.New(rand.NewPCG(1, 2))
		for done := 0; done < s.env.Entries; {
			n := min(fillBatch, s.env.Entries-done)
			pipe := s.client.Pipeline()
			cmds := make([]*redis.StringCmd, n)
			for i := range n {
				ad := 1 + rng.Int64N(adIDs)
				ts := firstDay + rng.Int64N(days)*86400 + rng.Int64N(86400)
				if shards == scaleShards[0] {
					s.want[adDay{ad, time.Unix(ts, 0).UTC().Format(time.DateOnly)}]++
				}
				cmds[i] = pipe.XAdd(ctx, &redis.XAddArgs{Stream: streams[(done+i)%shards],
					Values: []any{"ad_id", strconv.FormatInt(ad, 10), "ts", strconv.FormatInt(ts, 10)}})
			}
			if _, err := pipe.Exec(ctx); err != nil {
				return fmt.Errorf("fill: %w", err)
			}
			for i, c := range cmds {
				s.lastIDs[shards][(done+i)%shards] = c.Val()
			}
			done += n
		}
		info("filled %d stream(s) with %d entries", shards, s.env.Entries)
	}
	return nil
}

// drain times n worker processes over every shard from fresh groups, then checks the counts. It returns the
// time and the largest peak RSS of a worker, in kB.
func (s *scaleBench) drain(ctx context.Context, round, shards, n int) (time.Duration, int64, error) {
	group := keyspace.NewNames("").ImpressionGroup()
	for _, st := range s.streams[shards] {
		if err := s.client.XGroupDestroy(ctx, st, group).Err(); err != nil {
			return 0, 0, fmt.Errorf("xgroup destroy: %w", err)
		}
		if err := s.client.XGroupCreate(ctx, st, group, "0").Err(); err != nil {
			return 0, 0, fmt.Errorf("xgroup create: %w", err)
		}
	}
	if err := s.truncate(ctx, "ad_daily_impressions", "stream_ledger", "stream_locks", "stream_replays"); err != nil {
		return 0, 0, err
	}
	start := time.Now()
	procs := make([]*proc, 0, n)
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("scale-r%d-s%d-w%d-%d", round, shards, n, i)
		p, err := s.start(procSpec{name: name, bin: s.bin, grace: workerGrace, env: childEnv(append([]string{"STREAM_SHARDS", "DB_HOST", "DB_PORT", "MERGE_READS", "BATCH_WAIT"}, workerVars...),
			"REDIS_KEY_PREFIX="+s.prefix+"s"+strconv.Itoa(shards)+":", "STREAM_SHARDS="+strconv.Itoa(shards),
			"DB_HOST=127.0.0.1", "DB_PORT="+strconv.Itoa(s.proxy.Port()), "DB_NAME="+s.dbName,
			"ADMIN_ADDR=127.0.0.1:0", "CONSUMER_NAME="+name, "BATCH_SIZE="+strconv.Itoa(s.env.BatchSize), "MERGE_READS="+strconv.Itoa(s.env.MergeReads),
			"LOG_LEVEL=warn", "TIMEZONE=UTC", "TRIM_INTERVAL=1h", "CLAIM_INTERVAL=1h")})
		if err != nil {
			return 0, 0, err
		}
		procs = append(procs, p)
	}
	elapsed, err := s.waitDrained(ctx, start, shards, procs)
	if err != nil {
		return 0, 0, err
	}
	rss, err := s.stopReadingPeak(procs)
	if err != nil {
		return 0, 0, err
	}
	return elapsed, rss, s.verify(ctx, shards)
}

// waitDrained polls every shard's group until nothing is pending and each shard's last entry was delivered.
func (s *scaleBench) waitDrained(ctx context.Context, start time.Time, shards int, procs []*proc) (time.Duration, error) {
	group := keyspace.NewNames("").ImpressionGroup()
	t := time.NewTicker(poll)
	defer t.Stop()
	progress, moved := "", time.Now()
	for {
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-t.C:
		}
		done, state := true, ""
		for i, st := range s.streams[shards] {
			groups, err := s.client.XInfoGroups(ctx, st).Result()
			if err != nil {
				return 0, fmt.Errorf("xinfo groups %s: %w", st, err)
			}
			var g redis.XInfoGroup
			for _, x := range groups {
				if x.Name == group {
					g = x
				}
			}
			if g.Pending != 0 || g.LastDeliveredID != s.lastIDs[shards][i] {
				done = false
			}
			state += fmt.Sprintf("%s:%d/%s ", st, g.Pending, g.LastDeliveredID)
		}
		if done {
			return time.Since(start), nil
		}
		for _, p := range procs {
			if err := p.exitedEarly(); err != nil {
				return 0, fmt.Errorf("before the streams were consumed: %w", err)
			}
		}
		if state != progress {
			progress, moved = state, time.Now()
		} else if time.Since(moved) > stallAfter {
			return 0, fmt.Errorf("no progress for %s: %s%s", stallAfter, state, procs[0].tail())
		}
	}
}

// verify checks the table against what fill wrote, and that nothing was dead-lettered.
func (s *scaleBench) verify(ctx context.Context, shards int) error {
	var rows []struct {
		AdID        int64  `db:"ad_id"`
		Date        string `db:"d"`
		Impressions int64  `db:"impressions"`
	}
	if err := s.db.SelectContext(ctx, &rows, "SELECT ad_id, DATE_FORMAT(date, '%Y-%m-%d') AS d, impressions FROM ad_daily_impressions"); err != nil {
		return fmt.Errorf("read counts: %w", err)
	}
	var sum int64
	bad := 0
	for _, r := range rows {
		sum += r.Impressions
		if s.want[adDay{r.AdID, r.Date}] != r.Impressions {
			bad++
		}
	}
	if sum != int64(s.env.Entries) || bad > 0 || len(rows) != len(s.want) {
		return miscount("The workers miscounted", "SUM(impressions) = %d of %d entries; %d of %d rows wrong (want %d rows).",
			sum, s.env.Entries, bad, len(rows), len(s.want))
	}
	for _, st := range s.streams[shards] {
		if n, err := s.client.XLen(ctx, stream.DeadLetterStream(st)).Result(); err != nil {
			return err
		} else if n != 0 {
			return miscount("The workers dead-lettered entries", "%d entries of %s were dead-lettered.", n, st)
		}
	}
	return nil
}

// summary prints the medians, the speed-ups against one worker on one shard (the seed's layout), and the
// report. A worker process runs one loop per shard, so one process on four shards already commits on four
// lock rows at once.
func (s *scaleBench) summary(ctx context.Context, gmp string) {
	e := s.env
	med := func(shards, n int) float64 { return median(s.rates[[2]int{shards, n}]) }
	speedup := func(shards, n int) float64 { return ratio(med(shards, n), med(1, 1)) }
	// Judged on the figures as printed.
	t4 := met(round3(speedup(4, 4)) >= 3)
	t1 := met(round3(speedup(1, 4)) < 3)

	fmt.Printf("\nsummary (median of %d rounds, %d entries per run, DB_DELAY %s, round trip through the proxy %s)\n",
		e.Rounds, e.Entries, e.Delay, s.rtt.Round(100*time.Microsecond))
	var rows [][]string
	for _, shards := range scaleShards {
		for _, n := range scaleWorkers {
			target := ""
			switch {
			case shards == 4 && n == 4:
				target = "≥ 3×: " + t4
			case shards == 1 && n == 4:
				target = "< 3× (one shard does not scale): " + t1
			}
			fmt.Printf("  %d shard(s) %d worker(s) %9.0f entries/s  %.2f× one worker on one shard  %s\n", shards, n, med(shards, n), speedup(shards, n), target)
			rows = append(rows, []string{strconv.Itoa(shards), strconv.Itoa(n), fmt.Sprintf("%.0f", med(shards, n)),
				fmt.Sprintf("%.2f×", speedup(shards, n)), target})
		}
	}
	fmt.Printf("  peak RSS of a worker process: %.1f MB; counts exact after every run\n", s.rss/1024)

	report{
		title:    "adly worker scaling benchmark (MariaDB one round trip away)",
		command:  e.command(fmt.Sprintf("ENTRIES=%d ROUNDS=%d DB_DELAY=%s BATCH_SIZE=%d MERGE_READS=%d", e.Entries, e.Rounds, e.Delay, e.BatchSize, e.MergeReads), "scale"),
		software: []string{s.redisVersion(ctx), s.dbVersion(ctx)},
		load: fmt.Sprintf("%d impressions (10,000 ad_ids, 3 dates) written once per shard count, spread evenly over the shards "+
			"(`impressions_stream` for 1 shard, `impressions_stream:{tag}` × 4); every run drains all of them from fresh groups at 0 "+
			"with N impression-worker processes (STREAM_SHARDS as the streams, BATCH_SIZE %d, MERGE_READS %d) into empty tables through a TCP proxy "+
			"that holds each statement %s before MariaDB (median SELECT 1 through it: %s), timed from process start until nothing is "+
			"pending on any shard; %d rounds; %s", e.Entries, e.BatchSize, e.MergeReads, e.Delay, s.rtt.Round(100*time.Microsecond), e.Rounds, gmp),
		header: []string{"shards", "workers", fmt.Sprintf("entries/s (median of %d)", e.Rounds), "vs 1 worker on 1 shard", "target"},
		align:  []string{"--:", "--:", "--:", "--:", "---"},
		rows:   rows,
		footer: fmt.Sprintf("Peak memory of a worker process: %.1f MB. Counts exact after every run: every (ad_id, date) as written, "+
			"nothing dead-lettered.\n", s.rss/1024),
	}.write(os.Stdout)
}
