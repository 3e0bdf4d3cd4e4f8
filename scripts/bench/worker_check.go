package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"adly/pkg/stream"
)

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
	rss, err := w.stopReadingPeak(procs)
	if err != nil {
		return 0, 0, err
	}
	return elapsed, rss, w.verify(ctx)
}

// waitDone polls the group until nothing is pending and the last entry has been delivered.
func (w *workerBench) waitDone(ctx context.Context, start time.Time, procs []*proc) (time.Duration, error) {
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
		for _, p := range procs {
			if err := p.exitedEarly(); err != nil {
				return 0, fmt.Errorf("before the stream was consumed: %w", err)
			}
		}
		if g.Pending != last.Pending || g.LastDeliveredID != last.LastDeliveredID {
			last, moved = g, time.Now()
		} else if time.Since(moved) > stallAfter {
			return 0, fmt.Errorf("no progress for %s: %d pending, last delivered %s of %s%s",
				stallAfter, g.Pending, g.LastDeliveredID, w.lastID, procs[0].tail())
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
