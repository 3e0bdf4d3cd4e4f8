package main

import (
	"context"
	"fmt"
	"net/http"
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
