// Command workerbench is the measuring half of `scripts/bench.sh worker`, a benchmark helper that is never
// deployed. In a database and under a Redis key prefix of its own, it fills the impressions stream once,
// then runs rounds of three measurements over the whole stream:
//
//   - ceiling: a bare loop of XREADGROUP COUNT 1000 + XACK with no database, what Redis alone allows;
//   - w1: the impression-worker binary with one consumer;
//   - w2: the same with two consumer processes.
//
// Each worker run starts from a fresh group at "0" and empty tables, and is timed from the start of the
// processes until the group has nothing pending and has delivered the stream's last entry. The counts are
// then checked against what was written: a run that miscounts fails the benchmark.
//
// It prints one line per round on stdout and appends "round kind entries_per_s seconds peak_rss_kb" lines to
// -results. On exit, Ctrl-C included, it stops the workers, unlinks every key under -prefix and drops -db.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/redis/go-redis/v9"

	"adly/pkg/config"
	"adly/pkg/keyspace"
	"adly/pkg/mariadb"
	"adly/pkg/redisconn"
	"adly/pkg/stream"
)

const (
	readCount = 1000  // entries per XREADGROUP, as the worker's BATCH_SIZE
	fillBatch = 10000 // XADDs per pipeline while filling
	adIDs     = 10000 // distinct ad_ids in the stream
	days      = 3     // distinct dates in the stream
	// firstDay is the first of the stream's dates (UTC midnight); the workers run with TIMEZONE=UTC.
	firstDay = 1772323200 // 2026-03-01
	poll     = 50 * time.Millisecond
	// stallAfter fails a worker run whose group has not moved for this long.
	stallAfter = 60 * time.Second
	stopGrace  = 40 * time.Second // the worker's SHUTDOWN_TIMEOUT is 30s
)

// Variables the worker reads that the benchmark sets itself or that would change what is measured.
var workerVars = []string{
	"REDIS_KEY_PREFIX", "REDIS_CLUSTER_ADDRS", "DB_NAME", "ADMIN_ADDR", "CONSUMER_NAME", "BATCH_SIZE", "BLOCK",
	"TIMEZONE", "CLAIM_MIN_IDLE", "CLAIM_INTERVAL", "MAX_DELIVERIES", "RETAIN_ENTRIES", "TRIM_INTERVAL",
	"DEAD_CONSUMER_IDLE", "SHUTDOWN_TIMEOUT", "ADLY_FAULT", "LOG_LEVEL", "LOG_FORMAT",
}

var dbNameRe = regexp.MustCompile(`^adly_bench_[A-Za-z0-9_]+$`)

// env is the connection settings, from the same variables the binaries read.
type env struct {
	config.Redis
	config.DB
}

func (e *env) Validate() error {
	if err := e.Redis.Validate(); err != nil {
		return err
	}
	return e.DB.Validate()
}

type key struct {
	adID int64
	date string
}

type bench struct {
	cfg       env
	prefix    string
	dbName    string
	workerBin string
	workDir   string
	entries   int

	client  redis.UniversalClient
	admin   *sqlx.DB // no database selected: creates and drops the bench database
	db      *sqlx.DB // the bench database
	stream  string
	group   string
	lastID  string
	want    map[key]int64
	running []*proc
}

func main() {
	b := &bench{}
	var rounds int
	var schema, results string
	flag.StringVar(&b.workerBin, "worker", "", "impression-worker binary (required)")
	flag.IntVar(&b.entries, "entries", 2000000, "entries to put in the stream")
	flag.IntVar(&rounds, "rounds", 3, "rounds of ceiling, 1 consumer, 2 consumers")
	flag.StringVar(&b.prefix, "prefix", "", "Redis key prefix for everything the benchmark writes (required)")
	flag.StringVar(&b.dbName, "db", "", "database to create, use and drop: adly_bench_<suffix> (required)")
	flag.StringVar(&schema, "schema", "sql/schema.sql", "schema file")
	flag.StringVar(&b.workDir, "workdir", "", "directory for the worker logs (required)")
	flag.StringVar(&results, "results", "", "file the measurements are appended to (required)")
	flag.Parse()

	switch {
	case flag.NArg() > 0:
		fail("unexpected arguments: %q", flag.Args())
	case b.workerBin == "" || b.prefix == "" || b.workDir == "" || results == "":
		fail("-worker, -prefix, -db, -workdir and -results are required")
	case !dbNameRe.MatchString(b.dbName):
		fail("-db %q: want adly_bench_ followed by letters, digits or _", b.dbName)
	case b.entries < 1 || b.entries > 100000000:
		fail("-entries must be between 1 and 100000000, got %d", b.entries)
	case rounds < 1:
		fail("-rounds must be at least 1, got %d", rounds)
	}
	if err := config.Load(&b.cfg); err != nil {
		fail("configuration: %v", err)
	}
	if len(b.cfg.ClusterAddrs) > 0 {
		fail("REDIS_CLUSTER_ADDRS is set; the benchmark uses REDIS_HOST/REDIS_PORT")
	}
	names := keyspace.NewNames(b.prefix)
	b.stream, b.group = names.ImpressionsStream(), names.ImpressionGroup()

	// Signals stay caught until the end: a second Ctrl-C, or bash's SIGTERM, must not cut the cleanup short.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := b.run(ctx, schema, results, rounds)
	// Whatever happened, leave Redis and MariaDB as they were.
	if cerr := b.cleanup(); cerr != nil {
		fmt.Fprintf(os.Stderr, "workerbench: cleanup: %v\n", cerr)
		if err == nil {
			err = cerr
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(os.Stderr, "workerbench: interrupted")
			os.Exit(130)
		}
		fmt.Fprintf(os.Stderr, "workerbench: %v\n", err)
		os.Exit(1)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "workerbench: "+format+"\n", args...)
	os.Exit(2)
}

func info(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "==> "+format+"\n", args...)
}

func (b *bench) run(ctx context.Context, schema, results string, rounds int) error {
	sql, err := os.ReadFile(schema)
	if err != nil {
		return err
	}
	out, err := os.OpenFile(results, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer func() { _ = out.Close() }()

	b.client = redisconn.NewClient(b.cfg.Redis, redisconn.ClientOptions{NoRetries: true})
	if err := redisconn.Ping(ctx, b.client, 5*time.Second); err != nil {
		return err
	}
	if n, err := b.client.Exists(ctx, b.stream).Result(); err != nil {
		return err
	} else if n != 0 {
		return fmt.Errorf("%s already exists in Redis; pick another prefix", b.stream)
	}
	if err := b.createDB(ctx, string(sql)); err != nil {
		return err
	}
	if err := b.fill(ctx); err != nil {
		return err
	}

	fmt.Printf("\nadly worker benchmark: %d entries, %d rounds, XREADGROUP COUNT %d\n", b.entries, rounds, readCount)
	for r := 1; r <= rounds; r++ {
		c, err := b.ceiling(ctx)
		if err != nil {
			return fmt.Errorf("round %d, ceiling: %w", r, err)
		}
		w1, err := b.workers(ctx, r, 1)
		if err != nil {
			return fmt.Errorf("round %d, 1 consumer: %w", r, err)
		}
		w2, err := b.workers(ctx, r, 2)
		if err != nil {
			return fmt.Errorf("round %d, 2 consumers: %w", r, err)
		}
		for _, m := range []struct {
			kind string
			res  result
		}{{"ceiling", c}, {"w1", w1}, {"w2", w2}} {
			if _, err := fmt.Fprintf(out, "%d %s %.3f %.6f %d\n", r, m.kind, m.res.rate(b.entries), m.res.elapsed.Seconds(), m.res.rssKB); err != nil {
				return err
			}
		}
		fmt.Printf("round %d/%d  ceiling %9.0f entries/s | 1 consumer %9.0f entries/s (%.3f), %5.1f MB | 2 consumers %9.0f entries/s (%.3f), %5.1f MB  | counts exact\n",
			r, rounds, c.rate(b.entries),
			w1.rate(b.entries), w1.rate(b.entries)/c.rate(b.entries), float64(w1.rssKB)/1024,
			w2.rate(b.entries), w2.rate(b.entries)/c.rate(b.entries), float64(w2.rssKB)/1024)
	}
	return nil
}

type result struct {
	elapsed time.Duration
	rssKB   int64
}

func (r result) rate(n int) float64 { return float64(n) / r.elapsed.Seconds() }

// ------------------------------------------------------------------ setup

func (b *bench) createDB(ctx context.Context, schema string) error {
	cfg := b.cfg.DB
	cfg.Name = ""
	admin, err := mariadb.Open(ctx, cfg)
	if err != nil {
		return err
	}
	b.admin = admin
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE `"+b.dbName+"` DEFAULT CHARACTER SET utf8mb4"); err != nil {
		b.admin = nil // it did not create the database, so it must not drop it
		_ = admin.Close()
		return fmt.Errorf("create database %s: %w", b.dbName, err)
	}
	cfg.Name = b.dbName
	if b.db, err = mariadb.Open(ctx, cfg); err != nil {
		return err
	}
	for _, stmt := range mariadb.SplitStatements(schema) {
		if _, err := b.db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("apply schema to %s: %w", b.dbName, err)
		}
	}
	info("created database %s and applied the schema", b.dbName)
	return nil
}

// fill writes the entries with pipelined XADDs: ad_ids 1..10000 and three consecutive UTC dates, drawn from a
// fixed seed so that every run writes the same stream. It remembers how many of each (ad_id, date) it wrote.
func (b *bench) fill(ctx context.Context) error {
	rng := rand.New(rand.NewPCG(1, 2))
	b.want = make(map[key]int64, adIDs*days)
	start := time.Now()
	for done := 0; done < b.entries; {
		n := min(fillBatch, b.entries-done)
		pipe := b.client.Pipeline()
		cmds := make([]*redis.StringCmd, n)
		for i := range n {
			ad := 1 + rng.Int64N(adIDs)
			day := rng.Int64N(days)
			ts := firstDay + day*86400 + rng.Int64N(86400)
			b.want[key{ad, time.Unix(ts, 0).UTC().Format(time.DateOnly)}]++
			cmds[i] = pipe.XAdd(ctx, &redis.XAddArgs{Stream: b.stream, Values: []any{"ad_id", strconv.FormatInt(ad, 10), "ts", strconv.FormatInt(ts, 10)}})
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("fill: %w", err)
		}
		b.lastID = cmds[n-1].Val()
		done += n
	}
	elapsed := time.Since(start)
	xlen, err := b.client.XLen(ctx, b.stream).Result()
	if err != nil {
		return err
	}
	if xlen != int64(b.entries) {
		return fmt.Errorf("fill: stream has %d entries, want %d", xlen, b.entries)
	}
	mem := ""
	if used, err := b.client.MemoryUsage(ctx, b.stream, 0).Result(); err == nil {
		mem = fmt.Sprintf(", %.1f MB in Redis", float64(used)/(1<<20))
	}
	info("filled %s with %d entries (%d ad_ids x %d dates) in %.1fs (%.0f entries/s%s)",
		b.stream, b.entries, adIDs, days, elapsed.Seconds(), float64(b.entries)/elapsed.Seconds(), mem)
	return nil
}

// freshGroup recreates the group at the stream's start, so the next run reads every entry.
func (b *bench) freshGroup(ctx context.Context) error {
	if err := b.client.XGroupDestroy(ctx, b.stream, b.group).Err(); err != nil {
		return fmt.Errorf("xgroup destroy: %w", err)
	}
	if err := b.client.XGroupCreate(ctx, b.stream, b.group, "0").Err(); err != nil {
		return fmt.Errorf("xgroup create: %w", err)
	}
	return nil
}

func (b *bench) groupInfo(ctx context.Context) (redis.XInfoGroup, error) {
	groups, err := b.client.XInfoGroups(ctx, b.stream).Result()
	if err != nil {
		return redis.XInfoGroup{}, fmt.Errorf("xinfo groups: %w", err)
	}
	for _, g := range groups {
		if g.Name == b.group {
			return g, nil
		}
	}
	return redis.XInfoGroup{}, fmt.Errorf("group %s is missing from %s", b.group, b.stream)
}

// ---------------------------------------------------------------- ceiling

// ceiling reads and acknowledges the whole stream in one loop, with nothing else to do.
func (b *bench) ceiling(ctx context.Context) (result, error) {
	if err := b.freshGroup(ctx); err != nil {
		return result{}, err
	}
	read := 0
	start := time.Now()
	for {
		res, err := b.client.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group: b.group, Consumer: "ceiling", Streams: []string{b.stream, ">"}, Count: readCount, Block: -1,
		}).Result()
		if errors.Is(err, redis.Nil) {
			break
		}
		if err != nil {
			return result{}, fmt.Errorf("xreadgroup: %w", err)
		}
		if len(res) == 0 || len(res[0].Messages) == 0 {
			break
		}
		ids := make([]string, len(res[0].Messages))
		for i, m := range res[0].Messages {
			ids[i] = m.ID
		}
		if err := b.client.XAck(ctx, b.stream, b.group, ids...).Err(); err != nil {
			return result{}, fmt.Errorf("xack: %w", err)
		}
		read += len(ids)
	}
	elapsed := time.Since(start)
	g, err := b.groupInfo(ctx)
	if err != nil {
		return result{}, err
	}
	if read != b.entries || g.Pending != 0 || g.LastDeliveredID != b.lastID {
		return result{}, fmt.Errorf("read %d entries (want %d), %d pending, last delivered %s (want %s)",
			read, b.entries, g.Pending, g.LastDeliveredID, b.lastID)
	}
	return result{elapsed: elapsed}, nil
}

// ---------------------------------------------------------------- workers

// workers times n worker processes over the whole stream, then checks what they counted.
func (b *bench) workers(ctx context.Context, round, n int) (result, error) {
	if err := b.freshGroup(ctx); err != nil {
		return result{}, err
	}
	for _, t := range []string{"ad_daily_impressions", "stream_ledger", "stream_locks", "stream_replays"} {
		if _, err := b.db.ExecContext(ctx, "TRUNCATE TABLE "+t); err != nil {
			return result{}, fmt.Errorf("truncate %s: %w", t, err)
		}
	}

	start := time.Now()
	procs := make([]*proc, 0, n)
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("bench-r%d-%dc-%d", round, n, i)
		p, err := b.start(name)
		if err != nil {
			return result{}, err
		}
		procs = append(procs, p)
	}
	elapsed, err := b.waitDone(ctx, start, procs)
	if err != nil {
		return result{}, err
	}
	// Peak RSS so far, read while the processes still run.
	var rss int64
	for _, p := range procs {
		kb, err := peakRSS(p.cmd.Process.Pid)
		if err != nil {
			return result{}, fmt.Errorf("%s: %w", p.name, err)
		}
		rss = max(rss, kb)
	}
	if err := b.stopAll(); err != nil {
		return result{}, err
	}
	if err := b.verify(ctx); err != nil {
		return result{}, err
	}
	return result{elapsed: elapsed, rssKB: rss}, nil
}

// waitDone polls the group until nothing is pending and the last entry has been delivered.
func (b *bench) waitDone(ctx context.Context, start time.Time, procs []*proc) (time.Duration, error) {
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
		g, err := b.groupInfo(ctx)
		if err != nil {
			return 0, err
		}
		if g.Pending == 0 && g.LastDeliveredID == b.lastID {
			return time.Since(start), nil
		}
		for _, p := range procs {
			select {
			case <-p.done:
				p.reported = true
				return 0, fmt.Errorf("%s exited before the stream was consumed (%v)%s", p.name, p.err, p.tail())
			default:
			}
		}
		if g.Pending != last.Pending || g.LastDeliveredID != last.LastDeliveredID {
			last, moved = g, time.Now()
		} else if time.Since(moved) > stallAfter {
			return 0, fmt.Errorf("no progress for %s: %d pending, last delivered %s of %s%s",
				stallAfter, g.Pending, g.LastDeliveredID, b.lastID, procs[0].tail())
		}
	}
}

// verify checks the table against what fill wrote: the total first, then every (ad_id, date).
func (b *bench) verify(ctx context.Context) error {
	var sum int64
	if err := b.db.GetContext(ctx, &sum, "SELECT CAST(COALESCE(SUM(impressions), 0) AS SIGNED) FROM ad_daily_impressions"); err != nil {
		return fmt.Errorf("sum impressions: %w", err)
	}
	if sum != int64(b.entries) {
		return fmt.Errorf("\n\n!!!!!!!! COUNT MISMATCH: SUM(impressions) = %d, but the stream has %d entries (%+d).\n"+
			"!!!!!!!! The worker miscounted: these figures are not a result", sum, b.entries, sum-int64(b.entries))
	}
	var rows []struct {
		AdID        int64  `db:"ad_id"`
		Date        string `db:"d"`
		Impressions int64  `db:"impressions"`
	}
	if err := b.db.SelectContext(ctx, &rows, "SELECT ad_id, DATE_FORMAT(date, '%Y-%m-%d') AS d, impressions FROM ad_daily_impressions"); err != nil {
		return fmt.Errorf("read counts: %w", err)
	}
	bad := 0
	for _, r := range rows {
		if b.want[key{r.AdID, r.Date}] != r.Impressions {
			bad++
		}
	}
	if bad > 0 || len(rows) != len(b.want) {
		return fmt.Errorf("\n\n!!!!!!!! COUNT MISMATCH: the total is right but %d of %d rows are wrong (%d rows, want %d).\n"+
			"!!!!!!!! The worker miscounted: these figures are not a result", bad, len(rows), len(rows), len(b.want))
	}
	if n, err := b.client.XLen(ctx, stream.DeadLetterStream(b.stream)).Result(); err != nil {
		return err
	} else if n != 0 {
		return fmt.Errorf("%d entries were dead-lettered", n)
	}
	return nil
}

// --------------------------------------------------------------- processes

type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error // the exit status, once done is closed
	// reported is set once an early exit has been reported, so that stop does not report it again.
	reported bool
}

func (b *bench) start(consumer string) (*proc, error) {
	logPath := filepath.Join(b.workDir, consumer+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer func() { _ = logFile.Close() }()
	cmd := exec.Command(b.workerBin)
	cmd.Env = append(workerEnv(),
		"REDIS_KEY_PREFIX="+b.prefix,
		"DB_NAME="+b.dbName,
		"ADMIN_ADDR=127.0.0.1:0",
		"CONSUMER_NAME="+consumer,
		"BATCH_SIZE="+strconv.Itoa(readCount),
		"LOG_LEVEL=warn",
		"TIMEZONE=UTC",
		"TRIM_INTERVAL=1h",
		"CLAIM_INTERVAL=1h",
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group, so a Ctrl-C reaches only this program, which stops the workers in order; and
	// killed if this program dies without doing so.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", b.workerBin, err)
	}
	p := &proc{name: consumer, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	b.running = append(b.running, p)
	return p, nil
}

// workerEnv is this process's environment without the worker's own settings.
func workerEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, v := range workerVars {
			drop = drop || name == v
		}
		if !drop {
			out = append(out, kv)
		}
	}
	return out
}

// stop sends SIGTERM, waits for the batch in hand to finish, and kills the process if it does not.
func (p *proc) stop() error {
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(stopGrace):
			_ = p.cmd.Process.Kill()
			<-p.done
			return fmt.Errorf("%s did not stop within %s of SIGTERM%s", p.name, stopGrace, p.tail())
		}
	}
	if p.err != nil && !p.reported {
		return fmt.Errorf("%s: %v%s", p.name, p.err, p.tail())
	}
	return nil
}

func (b *bench) stopAll() error {
	var errs []error
	for _, p := range b.running {
		errs = append(errs, p.stop())
	}
	b.running = nil
	return errors.Join(errs...)
}

// tail is the end of the process's log, for error messages.
func (p *proc) tail() string {
	data, err := os.ReadFile(p.log)
	if err != nil || len(bytes.TrimSpace(data)) == 0 {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	return fmt.Sprintf("\n--- last lines of %s ---\n%s\n---", p.log, strings.Join(lines[max(0, len(lines)-20):], "\n"))
}

// peakRSS is VmHWM, the process's peak resident set, in kB.
func peakRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			return strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}

// ---------------------------------------------------------------- cleanup

// cleanup stops the workers, unlinks every key under prefix and drops the database, on a context of its own:
// it also runs after Ctrl-C.
func (b *bench) cleanup() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var errs []error
	if err := b.stopAll(); err != nil {
		errs = append(errs, err)
	}
	if b.client != nil {
		if err := unlinkPrefix(ctx, b.client, b.prefix); err != nil {
			errs = append(errs, fmt.Errorf("remove the Redis keys under %s: %w", b.prefix, err))
		}
		_ = b.client.Close()
	}
	if b.db != nil {
		_ = b.db.Close()
	}
	if b.admin != nil {
		if _, err := b.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+b.dbName+"`"); err != nil {
			errs = append(errs, fmt.Errorf("drop database %s: %w", b.dbName, err))
		}
		_ = b.admin.Close()
	}
	return errors.Join(errs...)
}

// unlinkPrefix removes the keys under prefix. UNLINK frees a stream of millions of entries off Redis's main
// thread, so a Redis others use does not stall.
func unlinkPrefix(ctx context.Context, c redis.UniversalClient, prefix string) error {
	var pat strings.Builder
	for _, r := range prefix {
		if strings.ContainsRune(`*?[]\`, r) {
			pat.WriteByte('\\')
		}
		pat.WriteRune(r)
	}
	pat.WriteByte('*')
	var cursor uint64
	for {
		keys, next, err := c.Scan(ctx, cursor, pat.String(), 1000).Result()
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			if err := c.Unlink(ctx, keys...).Err(); err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}
