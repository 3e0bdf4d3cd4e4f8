package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// fill writes every counter with pipelined INCRBYs. Each must come back equal to what it added: a counter
// that already held something (a sync that left it behind, another writer under the prefix) fails the fill.
func (s *syncerBench) fill(ctx context.Context, report bool) error {
	memBefore := usedMemory(ctx, s.client)
	start := time.Now()
	for done := 0; done < s.env.Paths; {
		n := min(fillBatch, s.env.Paths-done)
		pipe := s.client.Pipeline()
		cmds := make([]*redis.IntCmd, n)
		for i := range n {
			cmds[i] = pipe.IncrBy(ctx, s.names.HitKey(pathOf(done+i+1)), hits(done+i+1))
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return err
		}
		for i, c := range cmds {
			if want := hits(done + i + 1); c.Val() != want {
				return fmt.Errorf("%s is %d after INCRBY %d: it was not empty", s.names.HitKey(pathOf(done+i+1)), c.Val(), want)
			}
		}
		done += n
	}
	elapsed := time.Since(start)
	if report {
		mem := ""
		if memBefore > 0 {
			if after := usedMemory(ctx, s.client); after > memBefore {
				mem = fmt.Sprintf(", Redis used_memory +%.1f MB", float64(after-memBefore)/(1<<20))
			}
		}
		info("filled %d counters (%d hits) in %.1fs (%.0f keys/s%s); refilled before every round",
			s.env.Paths, s.wantSum, elapsed.Seconds(), float64(s.env.Paths)/elapsed.Seconds(), mem)
	}
	return nil
}

// usedMemory is Redis's used_memory in bytes, 0 if unknown. Redis may be shared, so it is only a hint.
func usedMemory(ctx context.Context, c redis.UniversalClient) int64 {
	info, err := c.Info(ctx, "memory").Result()
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

// ceiling reads every counter once, SCAN page by SCAN page, with nothing else to do.
func (s *syncerBench) ceiling(ctx context.Context) (time.Duration, error) {
	var read int
	var sum int64
	start := time.Now()
	err := scanKeys(ctx, s.client, s.names.HitKeyPattern(), func(keys []string) error {
		pipe := s.client.Pipeline()
		cmds := make([]*redis.StringCmd, len(keys))
		for i, k := range keys {
			cmds[i] = pipe.Get(ctx, k)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("get: %w", err)
		}
		for i, c := range cmds {
			n, err := c.Int64()
			if err != nil {
				return fmt.Errorf("get %s: %w", keys[i], err)
			}
			sum += n
		}
		read += len(keys)
		return nil
	})
	if err != nil {
		return 0, err
	}
	elapsed := time.Since(start)
	// At least every key, and exactly their sum when SCAN returned none twice.
	if read < s.env.Paths || (read == s.env.Paths && sum != s.wantSum) {
		return 0, fmt.Errorf("read %d keys holding %d hits, want %d keys holding %d", read, sum, s.env.Paths, s.wantSum)
	}
	return elapsed, nil
}

// syncOnce times one path-syncer --once on empty tables, then checks what it did. It returns the time and
// the syncer's peak RSS in kB.
func (s *syncerBench) syncOnce(ctx context.Context, round int) (time.Duration, int64, error) {
	if err := s.truncate(ctx, "path_counters", "path_sync_log"); err != nil {
		return 0, 0, err
	}
	p, err := s.start(procSpec{name: fmt.Sprintf("path-syncer-r%d", round), bin: s.bin, args: []string{"--once"},
		grace: syncerGrace, keepStdout: true, env: childEnv(syncerVars,
			"REDIS_KEY_PREFIX="+s.prefix, "DB_NAME="+s.dbName, "ADMIN_ADDR=127.0.0.1:0", "LOG_LEVEL=warn")})
	if err != nil {
		return 0, 0, err
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		return 0, 0, ctx.Err() // cleanup stops it
	case <-time.After(syncTimeout):
		return 0, 0, fmt.Errorf("%s did not finish within %s%s", p.name, syncTimeout, p.tail())
	}
	s.forget(p)
	if err := s.verify(ctx, p); err != nil {
		return 0, 0, err
	}
	return p.exited.Sub(p.started), exitRSS(p), nil
}

// verify checks the syncer's exit, its report, the table and Redis against what fill wrote.
func (s *syncerBench) verify(ctx context.Context, p *proc) error {
	loud := func(format string, args ...any) error {
		return fmt.Errorf("\n\n!!!!!!!! SYNC CHECK FAILED: "+format+"\n"+
			"!!!!!!!! The path-syncer run did not do its job: these figures are not a result.%s", append(args, p.tail())...)
	}
	if p.err != nil {
		return loud("%s exited with %v, not 0.", p.name, p.err)
	}
	m := syncedRe.FindStringSubmatch(p.stdout.String())
	if m == nil {
		return loud("%s printed no \"Synced N paths\" line (stdout: %q).", p.name, strings.TrimSpace(p.stdout.String()))
	}
	if n, _ := strconv.Atoi(m[1]); n != s.env.Paths {
		return loud("%s printed \"Synced %d paths\", want %d.", p.name, n, s.env.Paths)
	}
	var got struct {
		Rows int64 `db:"n"`
		Sum  int64 `db:"s"`
	}
	if err := s.db.GetContext(ctx, &got, "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(hit_count), 0) AS SIGNED) AS s FROM path_counters"); err != nil {
		return fmt.Errorf("read path_counters: %w", err)
	}
	if got.Rows != int64(s.env.Paths) || got.Sum != s.wantSum {
		return loud("path_counters has %d rows with SUM(hit_count) = %d, want %d rows with %d (%+d hits).",
			got.Rows, got.Sum, s.env.Paths, s.wantSum, got.Sum-s.wantSum)
	}
	// Every row holds its own path's count: 1 + n%7 for /bench/page/<n>.
	var wrong int64
	if err := s.db.GetContext(ctx, &wrong, fmt.Sprintf(
		"SELECT COUNT(*) FROM path_counters WHERE path NOT LIKE '%s%%' OR hit_count <> 1 + CAST(SUBSTRING(path, %d) AS UNSIGNED) %% 7",
		pathPrefix, len(pathPrefix)+1)); err != nil {
		return fmt.Errorf("check path_counters rows: %w", err)
	}
	if wrong != 0 {
		return loud("the totals are right but %d rows of path_counters hold another path's count.", wrong)
	}
	if n, err := countKeys(ctx, s.client, s.names.HitKeyPattern()); err != nil {
		return fmt.Errorf("scan the counters left: %w", err)
	} else if n != 0 {
		return loud("%d hit counters are still in Redis after the sync.", n)
	}
	if n, err := s.client.SCard(ctx, s.names.SyncPending()).Result(); err != nil {
		return err
	} else if n != 0 {
		return loud("%d sync chunks are still staged in Redis after the sync.", n)
	}
	return nil
}

// countKeys counts the keys matching pattern with SCAN.
func countKeys(ctx context.Context, c redis.UniversalClient, pattern string) (int, error) {
	n := 0
	err := scanKeys(ctx, c, pattern, func(keys []string) error {
		n += len(keys)
		return nil
	})
	return n, err
}
