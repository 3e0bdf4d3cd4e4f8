package operator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"adly/pkg/mariadb"
	"adly/pkg/redisconn"

	"go.uber.org/zap"
)

const inspectUsageLine = "usage: adly inspect [--date YYYY-MM-DD] [--watch N] [--json] [-h|--help]"

const inspectUsage = inspectUsageLine + `

Shows the Redis streams, consumer groups, dead letters and path-hit counters, and MariaDB's counts for a
day (today in TIMEZONE, default UTC). Read-only. With STREAM_SHARDS above 1 (or on a cluster) each kind is
one line per shard and a total.

  --date YYYY-MM-DD  show MariaDB's counts for that day instead of today
  --watch N          redraw every N seconds (1-86400) until interrupted
  --json             print the same data as one JSON document instead of the screen (not with --watch)
  -h, --help         this help

JSON document (stable field names; counts that could not be read are null, "error" fields say why;
times are RFC 3339, entry times UTC, MariaDB times in TIMEZONE):
  time, ok (false: Redis or MariaDB did not answer)
  redis: addr, prefix, error,
    streams[] (every shard of each kind, STREAM_SHARDS of them): stream, kind ("impressions" or "clicks"),
      type ("stream", "none" or another key type), error, length,
      first, last: {id, time},
      group: {name, exists, error, last_delivered, entries_read, lag, pending,
        oldest_pending: {id, age_ms, idle_ms, deliveries, consumer},
        consumers[]: {name, pending, idle_ms, inactive_ms (-1: never read)}, consumers_total},
      dead_letters: {stream, error, length, latest[]: {id, time, original_id, reason}} (latest 3)
    kinds[]: kind, group, shards, length, lag, pending, dead_letters (the totals of the kind's shards; null
      when some shard cannot tell)
    path_hits: counters, hits, non_integer, parked, chunks_pending, complete, note,
      lock: {held, owner, ttl_seconds (null: no expiry)}
  mariadb: addr, database, error, exists, tables[], missing_tables[], day, today, timezone,
    ads: {top[]: {ad_id, impressions, clicks, ctr_percent}, total: {ads, impressions, clicks, ctr_percent},
      filtered[]: {reason, impressions, clicks} (filtered traffic, in neither top nor total)},
    paths: {top[]: {path, hit_count, updated_at}, paths, hits},
    stream_ledger_rows, path_sync_log: {rows, last}
  (top 10 ads by impressions, then clicks; every filtered reason; top 10 paths by hits; every consumer)

Environment: REDIS_HOST REDIS_PORT REDIS_PASSWORD REDIS_DB REDIS_KEY_PREFIX REDIS_CLUSTER_ADDRS DB_HOST
DB_PORT DB_USER DB_PASS DB_NAME TIMEZONE. Exit status: 0 all answered, 1 Redis or MariaDB did not answer,
2 bad arguments.
`

var (
	dayPattern   = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
	watchPattern = regexp.MustCompile(`^[0-9]{1,5}$`)
)

// inspectOptions is inspect's command line.
type inspectOptions struct {
	day   string        // "" for today
	watch time.Duration // 0: once
	json  bool
}

func parseInspect(args []string, stdout io.Writer) (inspectOptions, error) {
	fs := flag.NewFlagSet("adly inspect", flag.ContinueOnError)
	day := fs.String("date", "", "")
	watch := fs.String("watch", "", "")
	asJSON := fs.Bool("json", false, "")
	if err := parseFlags(fs, args, inspectUsage, stdout, inspectUsageLine); err != nil {
		return inspectOptions{}, err
	}
	o := inspectOptions{day: *day, json: *asJSON}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["date"] {
		if _, err := time.Parse(time.DateOnly, o.day); err != nil || !dayPattern.MatchString(o.day) {
			return o, &usageError{msg: fmt.Sprintf("--date must be a real day as YYYY-MM-DD, got '%s'", o.day), usage: inspectUsageLine}
		}
	}
	if set["watch"] {
		n, err := strconv.Atoi(*watch)
		if !watchPattern.MatchString(*watch) || err != nil || n < 1 || n > 86400 {
			return o, &usageError{msg: fmt.Sprintf("--watch must be a whole number of seconds from 1 to 86400, got '%s'", *watch), usage: inspectUsageLine}
		}
		o.watch = time.Duration(n) * time.Second
	}
	if o.json && o.watch > 0 {
		return o, &usageError{msg: "--json prints one document; it does not go with --watch", usage: inspectUsageLine}
	}
	return o, nil
}

func runInspect(ctx context.Context, args []string, stdout io.Writer) error {
	opts, err := parseInspect(args, stdout)
	if errors.Is(err, errHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	// The driver would print its own complaints on stderr; the screen says what went wrong.
	mariadb.LogDriverTo(zap.NewNop())
	client := redisconn.NewClient(cfg.Redis, redisconn.ClientOptions{NoRetries: true, PoolSize: 2})
	defer func() { _ = client.Close() }()
	addr := cfg.Redis.Addr()
	if len(cfg.ClusterAddrs) > 0 {
		addr = strings.Join(cfg.ClusterAddrs, ",")
	}
	in := NewInspector(client, addr, redisconn.Names(cfg.Redis), cfg.DB, cfg.location(), time.Now)
	defer func() { _ = in.Close() }()
	return inspect(ctx, in, opts, stdout)
}

// inspect shows one report, or redraws one every opts.watch until ctx ends.
func inspect(ctx context.Context, in *Inspector, opts inspectOptions, stdout io.Writer) error {
	if opts.watch == 0 {
		r := in.Report(ctx, opts.day)
		if opts.json {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			if err := enc.Encode(r); err != nil {
				return fmt.Errorf("write json: %w", err)
			}
		} else {
			Render(stdout, r, 0)
		}
		if !r.OK {
			return ErrIncomplete
		}
		return nil
	}
	for {
		// Drawn off-screen first so a slow query does not leave a half-cleared screen.
		var frame bytes.Buffer
		r := in.Report(ctx, opts.day)
		if ctx.Err() != nil {
			return nil // interrupted: the last screen stays
		}
		Render(&frame, r, opts.watch)
		fmt.Fprintf(stdout, "\033[H\033[2J%s", frame.Bytes())
		if !r.OK {
			fmt.Fprintln(stdout, "(Redis or MariaDB did not answer)")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(opts.watch):
		}
	}
}
