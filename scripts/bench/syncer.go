package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"time"

	"adly/pkg/config"
	"adly/pkg/keyspace"
)

const (
	pathPrefix = "/bench/page/"
	// syncerGrace is how long an interrupted syncer gets to exit after SIGTERM. A started sync finishes even
	// on SIGTERM, but the database it writes to is about to be dropped, so there is no point in waiting long.
	syncerGrace = 5 * time.Second
	// syncTimeout fails a sync that takes longer than this.
	syncTimeout = 15 * time.Minute
)

// Variables the syncer reads that the benchmark sets itself or that would change what is measured.
// SYNC_CHUNK_PATHS is not among them: when set, it is passed on, and the report says so.
var syncerVars = []string{
	"REDIS_KEY_PREFIX", "REDIS_CLUSTER_ADDRS", "DB_NAME", "ADMIN_ADDR", "ANALYTICS_SYNC_FREQUENCY",
	"SYNC_INTERVAL", "SYNC_LOCK_TTL", "SHUTDOWN_TIMEOUT", "ADLY_FAULT", "LOG_LEVEL", "LOG_FORMAT",
}

var syncedRe = regexp.MustCompile(`(?m)^Synced ([0-9]+) paths$`)

// syncerEnv is mode syncer's settings.
type syncerEnv struct {
	Servers
	Procs
	Rounds     int    `envconfig:"ROUNDS" default:"3"`
	Paths      int    `envconfig:"PATHS" default:"1000000"`
	ChunkPaths string `envconfig:"SYNC_CHUNK_PATHS"`
}

func (e *syncerEnv) Validate() error {
	err := errors.Join(e.Servers.Validate(), e.Procs.Validate(), checkRounds(e.Rounds), checkSize("PATHS", e.Paths))
	if n, cerr := strconv.Atoi(e.ChunkPaths); e.ChunkPaths != "" && (cerr != nil || !positive(e.ChunkPaths) || n > maxChunkPaths) {
		err = errors.Join(err, fmt.Errorf("SYNC_CHUNK_PATHS must be an integer between 1 and %d, got %q", maxChunkPaths, e.ChunkPaths))
	}
	return err
}

// chunkNote says how SYNC_CHUNK_PATHS was set.
func (e *syncerEnv) chunkNote() string {
	if e.ChunkPaths != "" {
		return "SYNC_CHUNK_PATHS=" + e.ChunkPaths
	}
	return "SYNC_CHUNK_PATHS unset (path-syncer default: " + defaultChunkPaths() + ")"
}

// syncerBench runs rounds of two measurements over the same set of path hit counters
// (<prefix>analytics:hit:/bench/page/<n>, n = 1..PATHS, each holding 1 + n%7), written before every round
// since a sync empties them: the ceiling (SCAN MATCH COUNT 1000 and a pipelined GET of each page, no
// database) and path-syncer --once on empty path_counters and path_sync_log, timed from its start to its
// exit. After each sync the exit status, the "Synced N paths" line, path_counters (row count, SUM(hit_count),
// every row's count) and Redis (no counter and no staged chunk left) are checked: a miscount fails the run.
type syncerBench struct {
	env syncerEnv
	*bench
	bin     string
	names   keyspace.Names
	wantSum int64 // hits written by one fill

	ceil, sync   []float64 // keys/s per round
	ceilS, syncS []float64 // seconds per round
	rss          float64   // peak RSS of a sync, kB
}

func newSyncer() (mode, error) {
	s := &syncerBench{}
	if err := config.Load(&s.env); err != nil {
		return nil, err
	}
	for n := 1; n <= s.env.Paths; n++ {
		s.wantSum += hits(n)
	}
	return s, nil
}

// hits is what the counter of path n holds after a fill.
func hits(n int) int64 { return 1 + int64(n%7) }

func pathOf(n int) string { return pathPrefix + strconv.Itoa(n) }

func (s *syncerBench) plan() string {
	// Rough figures of a 2-core VM, for the estimate only: fill, ceiling and sync in keys/s, the checks after
	// each sync, 2 s around each round, and about 115 bytes per counter in Redis.
	n, r := float64(s.env.Paths), float64(s.env.Rounds)
	secs := int(r*(n/400000+n/500000+n/120000+n/1000000+2) + 0.5)
	return fmt.Sprintf("mode syncer: %d paths, %d rounds x (fill, ceiling, path-syncer --once) over all of them: "+
		"about %ds (%s) on a 2-core VM, plus build; the counters take about %.0f MB in Redis",
		s.env.Paths, s.env.Rounds, secs, minSecs(secs), n*115/1048576+1)
}

func (s *syncerBench) run(ctx context.Context, b *bench) error {
	s.bench = b
	e := s.env
	var err error
	if s.bin, err = b.build(ctx, "./cmd/path-syncer"); err != nil {
		return err
	}
	if err := b.createDB(ctx, e.DB); err != nil {
		return err
	}
	// The random part keeps the prefix apart from any other run on this Redis. It is short so that the keys
	// stay close to production's, which have none.
	s.names = keyspace.NewNames("b" + b.dbName[len("adly_bench_"):][:8] + ":")
	if err := b.connectRedis(ctx, e.Redis, s.names.Prefix()); err != nil {
		return err
	}
	gmp := e.note("path-syncer and ceiling loop alike", "")
	info("database %s, Redis keys under %s; %s; %s", b.dbName, b.prefix, e.chunkNote(), gmp)

	fmt.Printf("\nadly path-syncer benchmark: %d paths, %d rounds, SCAN COUNT %d, %s\n", e.Paths, e.Rounds, scanCount, e.chunkNote())
	rate := func(d time.Duration) float64 { return float64(e.Paths) / d.Seconds() }
	for r := 1; r <= e.Rounds; r++ {
		if err := s.fill(ctx, r == 1); err != nil {
			return fmt.Errorf("round %d, fill: %w", r, err)
		}
		c, err := s.ceiling(ctx)
		if err != nil {
			return fmt.Errorf("round %d, ceiling: %w", r, err)
		}
		d, rss, err := s.syncOnce(ctx, r)
		if err != nil {
			return fmt.Errorf("round %d, sync: %w", r, err)
		}
		s.ceil, s.ceilS = append(s.ceil, rate(c)), append(s.ceilS, c.Seconds())
		s.sync, s.syncS = append(s.sync, rate(d)), append(s.syncS, d.Seconds())
		s.rss = max(s.rss, float64(rss))
		fmt.Printf("round %d/%d  ceiling %9.0f keys/s %7.2fs | sync %9.0f keys/s %7.2fs (%.3f of ceiling), %5.1f MB | checks passed\n",
			r, e.Rounds, rate(c), c.Seconds(), rate(d), d.Seconds(), rate(d)/rate(c), float64(rss)/1024)
	}
	s.summary(ctx, gmp)
	return nil
}

// summary prints the medians and the report.
func (s *syncerBench) summary(ctx context.Context, gmp string) {
	e := s.env
	ceil, ceilS, sync, syncS := median(s.ceil), median(s.ceilS), median(s.sync), median(s.syncS)
	r, rr, rss := ratio(sync, ceil), medianRatio(s.sync, s.ceil), s.rss/1024
	// The time target is for 1,000,000 paths; at another size, only say what the measured rate would give.
	tTime := fmt.Sprintf("not judged (PATHS=%d; at this rate 1,000,000 paths take about %.1fs)", e.Paths, ratio(1000000, sync))
	if e.Paths == 1000000 {
		tTime = met(syncS <= 10)
	}
	tRatio := met(round3(r) >= 0.40)

	fmt.Printf("\nsummary (median of %d rounds, %d paths per run)\n", e.Rounds, e.Paths)
	fmt.Printf("  %-8s %9.0f keys/s %8.2fs  (SCAN MATCH COUNT 1000 + pipelined GET, no database)\n", "ceiling", ceil, ceilS)
	fmt.Printf("  %-8s %9.0f keys/s %8.2fs  sync/ceiling %.3f (median of per-round ratios %.3f), peak RSS %.1f MB\n",
		"sync", sync, syncS, r, rr, rss)
	fmt.Printf("  target: 1,000,000 paths in <= 10 s: %s\n", tTime)
	fmt.Printf("  target: sync >= 0.40 of the ceiling's keys/s: %s (%.3f)\n", tRatio, r)
	fmt.Printf("  checks: passed after every sync (exit 0, \"Synced %d paths\", %d rows, SUM(hit_count) = %d, each row as written, no counter left in Redis)\n",
		e.Paths, e.Paths, s.wantSum)

	settings := fmt.Sprintf("PATHS=%d ROUNDS=%d", e.Paths, e.Rounds)
	if e.ChunkPaths != "" {
		settings = "SYNC_CHUNK_PATHS=" + e.ChunkPaths + " " + settings
	}
	report{
		title:    "adly path-syncer benchmark",
		command:  e.command(settings, "syncer"),
		software: []string{s.redisVersion(ctx), s.dbVersion(ctx)},
		load: fmt.Sprintf("%d distinct path hit counters (`analytics:hit:/bench/page/<n>`, each 1 + n%%7, %d hits), written by "+
			"pipelined INCRBY before every round; the ceiling reads them all with SCAN MATCH COUNT 1000 and a pipelined GET per "+
			"page; `path-syncer --once` starts on empty `path_counters` and `path_sync_log` and is timed from process start to "+
			"exit, over loopback; %d interleaved rounds (ceiling, sync); %s; %s", e.Paths, s.wantSum, e.Rounds, e.chunkNote(), gmp),
		header: []string{fmt.Sprintf("Run (median of %d rounds)", e.Rounds), "keys/s", "seconds", "vs ceiling (ratio of medians)",
			"(median of per-round ratios)", "peak RSS", "target"},
		align: []string{"---", "--:", "--:", "--:", "--:", "--:", "---"},
		rows: [][]string{
			{"ceiling: SCAN + pipelined GET, no database", fmt.Sprintf("%.0f", ceil), fmt.Sprintf("%.2f", ceilS), "1.000", "1.000", "–", ""},
			{"`path-syncer --once`", fmt.Sprintf("%.0f", sync), fmt.Sprintf("%.2f", syncS), fmt.Sprintf("%.3f", r), fmt.Sprintf("%.3f", rr),
				fmt.Sprintf("%.1f MB", rss), "1,000,000 paths ≤ 10 s: " + tTime + "; ≥ 0.40 of ceiling: " + tRatio},
		},
		footer: fmt.Sprintf("Checks passed after every sync: exit status 0, `Synced %d paths`, %d rows in `path_counters` with "+
			"SUM(hit_count) = %d and every row's count as written, no hit counter or staged chunk left in Redis.\n", e.Paths, e.Paths, s.wantSum),
	}.write(os.Stdout)
}
