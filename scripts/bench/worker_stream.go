package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

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
