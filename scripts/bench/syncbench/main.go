// Command syncbench is the measuring half of `scripts/bench.sh syncer`, a benchmark helper that is never
// deployed. In a database and under a Redis key prefix of its own, it runs rounds of two measurements over
// the same set of path hit counters (<prefix>analytics:hit:/bench/page/<n>, n = 1..paths, each holding
// 1 + n%7):
//
//   - ceiling: a bare pass over the counters with no database, SCAN MATCH COUNT 1000 and a pipelined GET of
//     each page's keys, what Redis alone allows;
//   - sync: the path-syncer binary with --once, timed from the start of the process to its exit, on empty
//     path_counters and path_sync_log tables.
//
// The counters are written (pipelined INCRBY) before every round, since a sync empties them. After each sync
// the exit status, the "Synced N paths" line, path_counters (row count, SUM(hit_count), every row's count)
// and Redis (no counter and no staged chunk left) are checked against what was written: a sync that
// miscounts fails the benchmark.
//
// It prints one line per round on stdout and appends "round kind keys_per_s seconds peak_rss_kb" lines to
// -results. On exit, Ctrl-C included, it stops the syncer, unlinks every key under -prefix and drops -db.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"reflect"
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
	"adly/pkg/pathsync"
	"adly/pkg/redisconn"
)

const (
	scanCount  = 1000  // SCAN COUNT of the ceiling, as the syncer's
	fillBatch  = 10000 // INCRBYs per pipeline while filling
	pathPrefix = "/bench/page/"
	// stopGrace is how long an interrupted syncer gets to exit after SIGTERM. A started sync finishes even on
	// SIGTERM, but the database it writes to is about to be dropped, so there is no point in waiting long.
	stopGrace = 5 * time.Second
)

// Variables the syncer reads that the benchmark sets itself or that would change what is measured.
// SYNC_CHUNK_PATHS is not among them: when set, it is passed on, and the summary says so.
var syncerVars = []string{
	"REDIS_KEY_PREFIX", "REDIS_CLUSTER_ADDRS", "DB_NAME", "ADMIN_ADDR", "ANALYTICS_SYNC_FREQUENCY",
	"SYNC_INTERVAL", "SYNC_LOCK_TTL", "SHUTDOWN_TIMEOUT", "ADLY_FAULT", "LOG_LEVEL", "LOG_FORMAT",
}

var (
	dbNameRe = regexp.MustCompile(`^adly_bench_[A-Za-z0-9_]+$`)
	syncedRe = regexp.MustCompile(`(?m)^Synced ([0-9]+) paths$`)
)

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

type bench struct {
	cfg       env
	prefix    string
	dbName    string
	syncerBin string
	workDir   string
	paths     int
	timeout   time.Duration

	client  redis.UniversalClient
	admin   *sqlx.DB // no database selected: creates and drops the bench database
	db      *sqlx.DB // the bench database
	names   keyspace.Names
	wantSum int64 // hits written by one fill
	running *proc
}

func main() {
	b := &bench{}
	var rounds int
	var schema, results string
	flag.StringVar(&b.syncerBin, "syncer", "", "path-syncer binary (required)")
	flag.IntVar(&b.paths, "paths", 1000000, "distinct paths to write before every round")
	flag.IntVar(&rounds, "rounds", 3, "rounds of ceiling and sync")
	flag.StringVar(&b.prefix, "prefix", "", "Redis key prefix for everything the benchmark writes (required)")
	flag.StringVar(&b.dbName, "db", "", "database to create, use and drop: adly_bench_<suffix> (required)")
	flag.StringVar(&schema, "schema", "sql/schema.sql", "schema file")
	flag.StringVar(&b.workDir, "workdir", "", "directory for the syncer's output (required)")
	flag.StringVar(&results, "results", "", "file the measurements are appended to (required)")
	flag.DurationVar(&b.timeout, "timeout", 15*time.Minute, "longest a single sync may take before the benchmark fails")
	flag.Parse()

	switch {
	case flag.NArg() > 0:
		fail("unexpected arguments: %q", flag.Args())
	case b.syncerBin == "" || b.prefix == "" || b.workDir == "" || results == "":
		fail("-syncer, -prefix, -db, -workdir and -results are required")
	case !dbNameRe.MatchString(b.dbName):
		fail("-db %q: want adly_bench_ followed by letters, digits or _", b.dbName)
	case b.paths < 1 || b.paths > 100000000:
		fail("-paths must be between 1 and 100000000, got %d", b.paths)
	case rounds < 1:
		fail("-rounds must be at least 1, got %d", rounds)
	case b.timeout <= 0:
		fail("-timeout must be positive, got %s", b.timeout)
	}
	if err := config.Load(&b.cfg); err != nil {
		fail("configuration: %v", err)
	}
	if len(b.cfg.ClusterAddrs) > 0 {
		fail("REDIS_CLUSTER_ADDRS is set; the benchmark uses REDIS_HOST/REDIS_PORT")
	}
	b.names = keyspace.NewNames(b.prefix)
	for n := 1; n <= b.paths; n++ {
		b.wantSum += hits(n)
	}

	// Signals stay caught until the end: a second Ctrl-C, or bash's SIGTERM, must not cut the cleanup short.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := b.run(ctx, schema, results, rounds)
	// Whatever happened, leave Redis and MariaDB as they were.
	if cerr := b.cleanup(); cerr != nil {
		fmt.Fprintf(os.Stderr, "syncbench: cleanup: %v\n", cerr)
		if err == nil {
			err = cerr
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(os.Stderr, "syncbench: interrupted")
			os.Exit(130)
		}
		fmt.Fprintf(os.Stderr, "syncbench: %v\n", err)
		os.Exit(1)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "syncbench: "+format+"\n", args...)
	os.Exit(2)
}

func info(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "==> "+format+"\n", args...)
}

// hits is what the counter of path n holds after a fill.
func hits(n int) int64 { return 1 + int64(n%7) }

func pathOf(n int) string { return pathPrefix + strconv.Itoa(n) }

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
	if err := b.createDB(ctx, string(sql)); err != nil {
		return err
	}

	chunk := defaultChunkPaths() + " (default)"
	if v, ok := os.LookupEnv("SYNC_CHUNK_PATHS"); ok {
		chunk = v + " (set)"
	}
	fmt.Printf("\nadly path-syncer benchmark: %d paths, %d rounds, SCAN COUNT %d, SYNC_CHUNK_PATHS %s\n",
		b.paths, rounds, scanCount, chunk)
	for r := 1; r <= rounds; r++ {
		if err := b.fill(ctx, r == 1); err != nil {
			return fmt.Errorf("round %d, fill: %w", r, err)
		}
		c, err := b.ceiling(ctx)
		if err != nil {
			return fmt.Errorf("round %d, ceiling: %w", r, err)
		}
		s, err := b.sync(ctx, r)
		if err != nil {
			return fmt.Errorf("round %d, sync: %w", r, err)
		}
		for _, m := range []struct {
			kind string
			res  result
		}{{"ceiling", c}, {"sync", s}} {
			if _, err := fmt.Fprintf(out, "%d %s %.3f %.6f %d\n", r, m.kind, m.res.rate(b.paths), m.res.elapsed.Seconds(), m.res.rssKB); err != nil {
				return err
			}
		}
		fmt.Printf("round %d/%d  ceiling %9.0f keys/s %7.2fs | sync %9.0f keys/s %7.2fs (%.3f of ceiling), %5.1f MB | checks passed\n",
			r, rounds, c.rate(b.paths), c.elapsed.Seconds(),
			s.rate(b.paths), s.elapsed.Seconds(), s.rate(b.paths)/c.rate(b.paths), float64(s.rssKB)/1024)
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

// fill writes every counter with pipelined INCRBYs. Each must come back equal to what it added: a counter
// that already held something (a sync that left it behind, another writer under the prefix) fails the fill.
func (b *bench) fill(ctx context.Context, report bool) error {
	memBefore := usedMemory(ctx, b.client)
	start := time.Now()
	for done := 0; done < b.paths; {
		n := min(fillBatch, b.paths-done)
		pipe := b.client.Pipeline()
		cmds := make([]*redis.IntCmd, n)
		for i := range n {
			cmds[i] = pipe.IncrBy(ctx, b.names.HitKey(pathOf(done+i+1)), hits(done+i+1))
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return err
		}
		for i, c := range cmds {
			if want := hits(done + i + 1); c.Val() != want {
				return fmt.Errorf("%s is %d after INCRBY %d: it was not empty", b.names.HitKey(pathOf(done+i+1)), c.Val(), want)
			}
		}
		done += n
	}
	elapsed := time.Since(start)
	if report {
		mem := ""
		if memBefore > 0 {
			if after := usedMemory(ctx, b.client); after > memBefore {
				mem = fmt.Sprintf(", Redis used_memory +%.1f MB", float64(after-memBefore)/(1<<20))
			}
		}
		info("filled %d counters (%d hits) in %.1fs (%.0f keys/s%s); refilled before every round",
			b.paths, b.wantSum, elapsed.Seconds(), float64(b.paths)/elapsed.Seconds(), mem)
	}
	return nil
}

// usedMemory is Redis's used_memory in bytes, 0 if unknown. Redis may be shared, so it is only a hint.
func usedMemory(ctx context.Context, c redis.UniversalClient) int64 {
	s, err := c.Info(ctx, "memory").Result()
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(s, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

// ---------------------------------------------------------------- ceiling

// ceiling reads every counter once, SCAN page by SCAN page, with nothing else to do.
func (b *bench) ceiling(ctx context.Context) (result, error) {
	pattern := b.names.HitKeyPattern()
	var cursor uint64
	var read int
	var sum int64
	start := time.Now()
	for {
		keys, next, err := b.client.Scan(ctx, cursor, pattern, scanCount).Result()
		if err != nil {
			return result{}, fmt.Errorf("scan: %w", err)
		}
		if len(keys) > 0 {
			pipe := b.client.Pipeline()
			cmds := make([]*redis.StringCmd, len(keys))
			for i, k := range keys {
				cmds[i] = pipe.Get(ctx, k)
			}
			if _, err := pipe.Exec(ctx); err != nil {
				return result{}, fmt.Errorf("get: %w", err)
			}
			for i, c := range cmds {
				n, err := c.Int64()
				if err != nil {
					return result{}, fmt.Errorf("get %s: %w", keys[i], err)
				}
				sum += n
			}
			read += len(keys)
		}
		if next == 0 {
			break
		}
		cursor = next
	}
	elapsed := time.Since(start)
	// SCAN may return a key twice (while Redis resizes its table), never zero times: at least every key, and
	// exactly their sum when nothing was returned twice.
	if read < b.paths || (read == b.paths && sum != b.wantSum) {
		return result{}, fmt.Errorf("read %d keys holding %d hits, want %d keys holding %d", read, sum, b.paths, b.wantSum)
	}
	return result{elapsed: elapsed}, nil
}

// ------------------------------------------------------------------- sync

// sync times one path-syncer --once on empty tables, then checks what it did.
func (b *bench) sync(ctx context.Context, round int) (result, error) {
	for _, t := range []string{"path_counters", "path_sync_log"} {
		if _, err := b.db.ExecContext(ctx, "TRUNCATE TABLE "+t); err != nil {
			return result{}, fmt.Errorf("truncate %s: %w", t, err)
		}
	}
	name := fmt.Sprintf("path-syncer-r%d", round)
	p, err := b.start(name)
	if err != nil {
		return result{}, err
	}
	b.running = p
	var elapsed time.Duration
	select {
	case <-p.done:
		elapsed = p.exited.Sub(p.started)
	case <-ctx.Done():
		return result{}, ctx.Err() // cleanup stops it
	case <-time.After(b.timeout):
		return result{}, fmt.Errorf("%s did not finish within %s (-timeout)%s", name, b.timeout, p.tail())
	}
	b.running = nil
	if err := b.verify(ctx, p); err != nil {
		return result{}, err
	}
	var rss int64
	if ru, ok := p.cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss // kB on Linux
	}
	return result{elapsed: elapsed, rssKB: rss}, nil
}

// verify checks the syncer's exit, its report, the table and Redis against what fill wrote.
func (b *bench) verify(ctx context.Context, p *proc) error {
	loud := func(format string, args ...any) error {
		return fmt.Errorf("\n\n!!!!!!!! SYNC CHECK FAILED: "+format+"\n"+
			"!!!!!!!! The path-syncer run did not do its job: these figures are not a result.\n%s", append(args, p.tail())...)
	}
	if p.err != nil {
		return loud("%s exited with %v, not 0.", p.name, p.err)
	}
	m := syncedRe.FindStringSubmatch(p.stdout.String())
	if m == nil {
		return loud("%s printed no \"Synced N paths\" line (stdout: %q).", p.name, strings.TrimSpace(p.stdout.String()))
	}
	if n, _ := strconv.Atoi(m[1]); n != b.paths {
		return loud("%s printed \"Synced %d paths\", want %d.", p.name, n, b.paths)
	}
	var got struct {
		Rows int64 `db:"n"`
		Sum  int64 `db:"s"`
	}
	if err := b.db.GetContext(ctx, &got, "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(hit_count), 0) AS SIGNED) AS s FROM path_counters"); err != nil {
		return fmt.Errorf("read path_counters: %w", err)
	}
	if got.Rows != int64(b.paths) || got.Sum != b.wantSum {
		return loud("path_counters has %d rows with SUM(hit_count) = %d, want %d rows with %d (%+d hits).",
			got.Rows, got.Sum, b.paths, b.wantSum, got.Sum-b.wantSum)
	}
	// Every row holds its own path's count: 1 + n%7 for /bench/page/<n>.
	var wrong int64
	if err := b.db.GetContext(ctx, &wrong, fmt.Sprintf(
		"SELECT COUNT(*) FROM path_counters WHERE path NOT LIKE '%s%%' OR hit_count <> 1 + CAST(SUBSTRING(path, %d) AS UNSIGNED) %% 7",
		pathPrefix, len(pathPrefix)+1)); err != nil {
		return fmt.Errorf("check path_counters rows: %w", err)
	}
	if wrong != 0 {
		return loud("the totals are right but %d rows of path_counters hold another path's count.", wrong)
	}
	if n, err := countKeys(ctx, b.client, b.names.HitKeyPattern()); err != nil {
		return fmt.Errorf("scan the counters left: %w", err)
	} else if n != 0 {
		return loud("%d hit counters are still in Redis after the sync.", n)
	}
	if n, err := b.client.SCard(ctx, b.names.SyncPending()).Result(); err != nil {
		return err
	} else if n != 0 {
		return loud("%d sync chunks are still staged in Redis after the sync.", n)
	}
	return nil
}

// countKeys counts the keys matching pattern with SCAN.
func countKeys(ctx context.Context, c redis.UniversalClient, pattern string) (int, error) {
	var cursor uint64
	n := 0
	for {
		keys, next, err := c.Scan(ctx, cursor, pattern, scanCount).Result()
		if err != nil {
			return 0, err
		}
		n += len(keys)
		if next == 0 {
			return n, nil
		}
		cursor = next
	}
}

// --------------------------------------------------------------- processes

type proc struct {
	name    string
	cmd     *exec.Cmd
	log     string
	stdout  bytes.Buffer
	started time.Time
	exited  time.Time
	done    chan struct{}
	err     error // the exit status, once done is closed
}

func (b *bench) start(name string) (*proc, error) {
	logPath := filepath.Join(b.workDir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	p := &proc{name: name, log: logPath, done: make(chan struct{})}
	cmd := exec.Command(b.syncerBin, "--once")
	cmd.Env = append(syncerEnv(),
		"REDIS_KEY_PREFIX="+b.prefix,
		"DB_NAME="+b.dbName,
		"ADMIN_ADDR=127.0.0.1:0",
		"LOG_LEVEL=warn",
	)
	cmd.Stdout, cmd.Stderr = &p.stdout, logFile
	// Its own process group, so a Ctrl-C reaches only this program, which stops the syncer; and killed if
	// this program dies without doing so.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p.cmd = cmd
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("start %s: %w", b.syncerBin, err)
	}
	go func() {
		// Wait returns once the process has exited and its stdout is read to the end.
		p.err = cmd.Wait()
		p.exited = time.Now()
		_ = logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// syncerEnv is this process's environment without the syncer's own settings.
func syncerEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, v := range syncerVars {
			drop = drop || name == v
		}
		if !drop {
			out = append(out, kv)
		}
	}
	return out
}

// stop ends an interrupted syncer: SIGTERM, then SIGKILL after stopGrace.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(stopGrace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// tail is the end of the process's stderr, for error messages.
func (p *proc) tail() string {
	data, err := os.ReadFile(p.log)
	if err != nil || len(bytes.TrimSpace(data)) == 0 {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	return fmt.Sprintf("\n--- last lines of %s ---\n%s\n---", p.log, strings.Join(lines[max(0, len(lines)-20):], "\n"))
}

// ---------------------------------------------------------------- cleanup

// cleanup stops the syncer, unlinks every key under prefix and drops the database, on a context of its own:
// it also runs after Ctrl-C.
func (b *bench) cleanup() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var errs []error
	if b.running != nil {
		b.running.stop()
		b.running = nil
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

// unlinkPrefix removes the keys under prefix, a SCAN page at a time. UNLINK frees memory off Redis's main
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

// defaultChunkPaths is path-syncer's SYNC_CHUNK_PATHS default, read from its configuration so the summary
// cannot drift from it.
func defaultChunkPaths() string {
	f, _ := reflect.TypeFor[pathsync.Config]().FieldByName("ChunkPaths")
	return f.Tag.Get("default")
}
