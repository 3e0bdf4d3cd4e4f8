package main

import (
	"adly/pkg/config"
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// Variables the workers of modes load and pipeline must not inherit, beyond workerVars: those modes measure
// the worker as it ships, BATCH_WAIT and MERGE_READS at their defaults.
var shippedWorkerVars = append([]string{"BATCH_WAIT", "MERGE_READS"}, workerVars...)

// startAPI starts the real API on the run's key prefix and waits until it is ready.
func (b *bench) startAPI(ctx context.Context, httpAddr, adminAddr string, within time.Duration) (*proc, error) {
	api, err := b.start(procSpec{name: "api", bin: b.apiBin, grace: serverGrace, env: childEnv(nil,
		"HTTP_ADDR="+httpAddr, "ADMIN_ADDR="+adminAddr, "REDIS_KEY_PREFIX="+b.prefix, "LOG_LEVEL=warn")})
	if err != nil {
		return nil, err
	}
	return api, waitStatus(ctx, api, "http://"+adminAddr+"/readyz", http.StatusOK, within)
}

// startWorker starts one real impression-worker, with its shipped batching settings, on the run's key prefix
// and database, and waits until it is ready.
func (b *bench) startWorker(ctx context.Context, name, adminAddr string, within time.Duration) (*proc, error) {
	w, err := b.start(procSpec{name: name, bin: b.workerBin, grace: workerGrace, env: childEnv(shippedWorkerVars,
		"REDIS_KEY_PREFIX="+b.prefix, "DB_NAME="+b.dbName, "ADMIN_ADDR="+adminAddr, "CONSUMER_NAME="+name,
		"LOG_LEVEL=warn", "TIMEZONE=UTC")})
	if err != nil {
		return nil, err
	}
	return w, waitStatus(ctx, w, "http://"+adminAddr+"/readyz", http.StatusOK, within)
}

// sumImpressions is SUM(impressions) of the run's database.
func (b *bench) sumImpressions(ctx context.Context) (int64, error) {
	var sum int64
	if err := b.db.GetContext(ctx, &sum, "SELECT CAST(COALESCE(SUM(impressions), 0) AS SIGNED) FROM ad_daily_impressions"); err != nil {
		return 0, fmt.Errorf("sum impressions: %w", err)
	}
	return sum, nil
}

// comCommit is the server's Com_commit: COMMIT statements of every connection to it, other databases
// included.
func (b *bench) comCommit(ctx context.Context) (int64, error) {
	var row struct {
		Name  string `db:"Variable_name"`
		Value int64  `db:"Value"`
	}
	if err := b.admin.GetContext(ctx, &row, "SHOW GLOBAL STATUS LIKE 'Com_commit'"); err != nil {
		return 0, fmt.Errorf("read Com_commit: %w", err)
	}
	return row.Value, nil
}

// waitSum polls SUM(impressions) every pollSum until it reaches want, and fails if it ever exceeds it
// (counted twice) or if it has not moved for stallAfter. It returns when the sum was first seen at want.
func (b *bench) waitSum(ctx context.Context, want int64, watch ...*proc) (time.Time, error) {
	moved, last := time.Now(), int64(-1)
	for {
		sum, err := b.sumImpressions(ctx)
		if err != nil {
			return time.Time{}, err
		}
		now := time.Now()
		switch {
		case sum == want:
			return now, nil
		case sum > want:
			return time.Time{}, miscount("The worker counted more than was stored",
				"SUM(impressions) = %d, but the API stored %d events (%+d).", sum, want, sum-want)
		case sum != last:
			moved, last = now, sum
		case now.Sub(moved) > stallAfter:
			return time.Time{}, miscount("The worker stopped counting",
				"SUM(impressions) = %d for %s, but the API stored %d events (%+d).", sum, stallAfter, want, sum-want)
		}
		for _, p := range watch {
			if err := p.exitedEarly(); err != nil {
				return time.Time{}, err
			}
		}
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-time.After(pollSum):
		}
	}
}

// waitStatus waits until url answers want while p runs.
func waitStatus(ctx context.Context, p *proc, url string, want int, within time.Duration) error {
	client := http.Client{Timeout: 3 * time.Second}
	deadline := time.Now().Add(within)
	last := "no answer"
	for time.Now().Before(deadline) {
		if resp, err := client.Get(url); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == want {
				return nil
			}
			last = resp.Status
		}
		if err := p.exitedEarly(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s: %s did not answer %d within %s (last: %s)%s", p.name, url, want, within, last, p.tail())
}

// gomaxprocsOf is the GOMAXPROCS a server chose, from its /metrics; empty if unknown.
func gomaxprocsOf(url string) string {
	v, err := scrapeMetric(url, "go_sched_gomaxprocs_threads")
	if err != nil {
		return ""
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// scrapeMetric reads one sample from a /metrics page: series is the metric's name with its labels as the
// page prints them, e.g. adly_api_events_total{type="impression"}, or a bare name, which matches the first
// sample of that name whatever its labels.
func scrapeMetric(url, series string) (float64, error) {
	client := http.Client{Timeout: 3 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			continue
		}
		if name, _, _ := strings.Cut(f[0], "{"); f[0] == series || name == series {
			return strconv.ParseFloat(f[1], 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read %s: %w", url, err)
	}
	return 0, fmt.Errorf("%s has no %s", url, series)
}

// portsFree fails when something already listens at one of the addresses: it would be measured instead.
func portsFree(addrs ...string) error {
	for _, addr := range addrs {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			_ = c.Close()
			return fmt.Errorf("something already listens at %s; pick free ports with the BENCH_*_ADDR settings", addr)
		}
	}
	return nil
}

// prepareAPIAndWorker builds the API and the impression-worker, connects to Redis under this run's prefix,
// creates the run's database and checks that the listeners' ports are free.
func (b *bench) prepareAPIAndWorker(ctx context.Context, rc config.Redis, db config.DB, addrs ...string) error {
	var err error
	if b.apiBin, err = b.build(ctx, "./cmd/api"); err != nil {
		return err
	}
	if b.workerBin, err = b.build(ctx, "./cmd/impression-worker"); err != nil {
		return err
	}
	if err := b.connectRedis(ctx, rc, fmt.Sprintf("bench:%d:", os.Getpid())); err != nil {
		return err
	}
	if err := b.createDB(ctx, db); err != nil {
		return err
	}
	return portsFree(addrs...)
}
