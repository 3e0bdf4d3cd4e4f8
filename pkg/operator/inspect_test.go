package operator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"adly/pkg/event"
	"adly/pkg/hits"
	"adly/pkg/ledger"
	"adly/pkg/pathtable"
	"adly/pkg/stream"
	"adly/pkg/streamid"
)

var (
	day     = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC) // the entries' time
	idFirst = msOf(day) + "-0"
	idLast  = msOf(day.Add(4*time.Second)) + "-0"
)

// known builds a known state through the services' own packages: five impressions of 2026-11-20, three of
// them read by two consumers (pending) and one of those dead-lettered; two counted into MariaDB with a
// click, and filtered traffic beside them (an impression and a click of crawlers, a prefetched click); a
// clicks stream without its group; path hits waiting, one not an integer, one parked, two chunks
// pending and the lock held; two paths counted and one sync logged.
func (e *env) known(t *testing.T) (deadID string) {
	t.Helper()
	ctx := context.Background()
	imp := stream.NewGroup(e.client, e.names.ImpressionsStream(), e.names.ImpressionGroup())
	for i := range 5 {
		require.NoError(t, e.client.XAdd(ctx, &redis.XAddArgs{Stream: imp.Stream(), ID: msOf(day.Add(time.Duration(i)*time.Second)) + "-0",
			Values: map[string]any{"ad_id": fmt.Sprint(1 + i%2), "ts": fmt.Sprint(day.Unix())}}).Err())
	}
	require.NoError(t, imp.Ensure(ctx))
	a, err := imp.Read(ctx, "host-a", ">", 2, -1)
	require.NoError(t, err)
	_, err = imp.Read(ctx, "host-b", ">", 1, -1)
	require.NoError(t, err)
	ok, err := imp.DeadLetter(ctx, "host-a", a[1], "MariaDB rejected the entry: Out of range value for column ad_id")
	require.NoError(t, err)
	require.True(t, ok)
	dead, err := e.client.XRevRangeN(ctx, stream.DeadLetterStream(imp.Stream()), "+", "-", 1).Result()
	require.NoError(t, err)
	require.NoError(t, e.client.XAdd(ctx, &redis.XAddArgs{Stream: e.names.ClicksStream(), ID: idLast,
		Values: map[string]any{"ad_id": "1", "ts": fmt.Sprint(day.Unix())}}).Err())

	h := hits.NewHitCounters(e.client, e.names)
	require.NoError(t, h.Incr(ctx, map[string]int64{"/a": 2, "/b": 3}))
	require.NoError(t, e.client.Set(ctx, e.names.HitKey("/bad"), "x", 0).Err())
	require.NoError(t, e.client.Set(ctx, e.names.ParkedKey("/p"), "4", 0).Err())
	require.NoError(t, e.client.SAdd(ctx, e.names.SyncPending(), "c1", "c2").Err())
	held, err := h.AcquireLock(ctx, "syncer-1", time.Minute)
	require.NoError(t, err)
	require.True(t, held)

	entry := func(id string, ad int64) ledger.Entry {
		return ledger.Entry{ID: streamid.MustParse(id), AdID: ad, TS: day.Unix(), Date: "2026-11-20"}
	}
	filtered := func(id string, ad int64, reason string) ledger.Entry {
		e := entry(id, ad)
		e.Reason = reason
		return e
	}
	idAt := func(s int) string { return msOf(day.Add(time.Duration(s)*time.Second)) + "-0" }
	_, err = ledger.NewCounter(e.db, ledger.Impressions, imp.Stream(), imp.Name()).Commit(ctx, ledger.Batch{
		Entries: []ledger.Entry{entry(idFirst, 1), entry(idAt(1), 2), filtered(idAt(3), 2, "crawler")}, Zone: "UTC"})
	require.NoError(t, err)
	_, err = ledger.NewCounter(e.db, ledger.Clicks, e.names.ClicksStream(), e.names.ClickGroup()).Commit(ctx, ledger.Batch{
		Entries: []ledger.Entry{filtered(idAt(2), 1, "prefetch"), filtered(idAt(3), 1, "crawler"), entry(idLast, 1)}, Zone: "UTC"})
	require.NoError(t, err)
	_, err = pathtable.NewPathCounts(e.db).CommitChunk(ctx, "chunk-0", []event.PathCount{{Path: "/about", Hits: 10}, {Path: "/x", Hits: 3}}, time.Now().Add(time.Hour))
	require.NoError(t, err)
	// Fixed times, so that the screen is known to the second.
	_, err = e.db.Exec("UPDATE path_counters SET updated_at = '2026-11-20 10:00:00'")
	require.NoError(t, err)
	_, err = e.db.Exec("UPDATE path_sync_log SET created_at = '2026-11-20 10:00:01'")
	require.NoError(t, err)
	return dead[0].ID
}

// volatile are the figures that depend on when the test runs: ages and idle times on Redis's clock, the
// lock's time to live.
var volatile = regexp.MustCompile(`(age|idle|ttl) [0-9]+s`)

func TestInspectShowsTheKnownState(t *testing.T) {
	e := newEnv(t)
	deadID := e.known(t)
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	in := NewInspector(e.client, "127.0.0.1:6379", e.names, e.dbCfg, time.UTC, func() time.Time { return now })
	t.Cleanup(func() { _ = in.Close() })

	var out bytes.Buffer
	require.NoError(t, inspect(context.Background(), in, inspectOptions{day: "2026-11-20"}, &out))
	deadMs, _ := idMs(deadID)
	p := e.names.Prefix()
	want := fmt.Sprintf(`adly inspect  2026-11-21 12:00:00 UTC

== Redis 127.0.0.1:6379  prefix '%[1]s'
%[1]simpressions_stream: length 5
  first %-20[2]s 2026-11-20 09:00:00   last %-20[3]s 2026-11-20 09:00:04
  group impression_group: last-delivered %[4]s-0  entries-read 3  lag 2  pending 2
  oldest pending %[2]s  age Ns  idle Ns  delivered 1x  consumer host-a
  consumer host-a                       pending 1      idle Ns
  consumer host-b                       pending 1      idle Ns
  dead letters (%[1]simpressions_stream:dead): 1, latest:
    %[5]s  orig %-20[6]s MariaDB rejected the entry: Out of range ...
%[1]sclicks_stream: length 1
  first %-20[3]s 2026-11-20 09:00:04   last %-20[3]s 2026-11-20 09:00:04
  group click_group: no group yet
  dead letters (%[1]sclicks_stream:dead): 0
-- path hits
waiting to sync: 2 counters, 5 hits   parked: 1   sync chunks pending: 2
sync lock: held by syncer-1, ttl Ns
note: 1 hit keys hold something other than an integer (the syncer parks them)

== MariaDB %[7]s at 127.0.0.1:3306
day 2026-11-20 (UTC)
ad_id           impressions       clicks    CTR %%
1                         1            1   100.00
2                         1            0     0.00
total 2 ads               2            1    50.00
filtered                  1            1  crawler
filtered                  0            1  prefetch
path                                                        hit_count  updated_at (UTC)
/about                                                             10  2026-11-20 10:00:00
/x                                                                  3  2026-11-20 10:00:00
path_counters: 2 paths, 13 hits
stream_ledger rows: 6   path_sync_log rows: 1 (last 2026-11-20 10:00:01)
`, p, idFirst, idLast, msOf(day.Add(2*time.Second)), time.UnixMilli(deadMs).UTC().Format(time.DateTime),
		msOf(day.Add(time.Second))+"-0", e.dbCfg.Name)
	require.Equal(t, want, volatile.ReplaceAllString(out.String(), "$1 Ns"))
}

func TestInspectJSON(t *testing.T) {
	e := newEnv(t)
	e.known(t)
	e.setenv(t)
	code, stdout, stderr := run(t, "inspect", "--json", "--date", "2026-11-20")
	require.Equal(t, 0, code, stderr)

	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &doc), "one JSON document")
	get := func(path ...any) any {
		var v any = doc
		for _, k := range path {
			switch k := k.(type) {
			case string:
				v = v.(map[string]any)[k]
			case int:
				v = v.([]any)[k]
			}
		}
		return v
	}
	p := e.names.Prefix()
	tests := []struct {
		path []any
		want any
	}{
		{[]any{"ok"}, true},
		{[]any{"redis", "prefix"}, p},
		{[]any{"redis", "streams", 0, "stream"}, p + "impressions_stream"},
		{[]any{"redis", "streams", 0, "type"}, "stream"},
		{[]any{"redis", "streams", 0, "length"}, 5.0},
		{[]any{"redis", "streams", 0, "first", "id"}, idFirst},
		{[]any{"redis", "streams", 0, "first", "time"}, "2026-11-20T09:00:00Z"},
		{[]any{"redis", "streams", 0, "group", "exists"}, true},
		{[]any{"redis", "streams", 0, "group", "pending"}, 2.0},
		{[]any{"redis", "streams", 0, "group", "lag"}, 2.0},
		{[]any{"redis", "streams", 0, "group", "entries_read"}, 3.0},
		{[]any{"redis", "streams", 0, "group", "oldest_pending", "id"}, idFirst},
		{[]any{"redis", "streams", 0, "group", "oldest_pending", "consumer"}, "host-a"},
		{[]any{"redis", "streams", 0, "group", "oldest_pending", "deliveries"}, 1.0},
		{[]any{"redis", "streams", 0, "group", "consumers", 1, "name"}, "host-b"},
		{[]any{"redis", "streams", 0, "group", "consumers_total"}, 2.0},
		{[]any{"redis", "streams", 0, "dead_letters", "length"}, 1.0},
		{[]any{"redis", "streams", 0, "dead_letters", "latest", 0, "original_id"}, msOf(day.Add(time.Second)) + "-0"},
		{[]any{"redis", "streams", 0, "dead_letters", "latest", 0, "reason"}, "MariaDB rejected the entry: Out of range value for column ad_id"},
		{[]any{"redis", "streams", 1, "group", "exists"}, false},
		{[]any{"redis", "streams", 1, "dead_letters", "length"}, 0.0},
		{[]any{"redis", "path_hits", "counters"}, 2.0},
		{[]any{"redis", "path_hits", "hits"}, 5.0},
		{[]any{"redis", "path_hits", "non_integer"}, 1.0},
		{[]any{"redis", "path_hits", "parked"}, 1.0},
		{[]any{"redis", "path_hits", "chunks_pending"}, 2.0},
		{[]any{"redis", "path_hits", "complete"}, true},
		{[]any{"redis", "path_hits", "lock", "held"}, true},
		{[]any{"redis", "path_hits", "lock", "owner"}, "syncer-1"},
		{[]any{"mariadb", "database"}, e.dbCfg.Name},
		{[]any{"mariadb", "exists"}, true},
		{[]any{"mariadb", "day"}, "2026-11-20"},
		{[]any{"mariadb", "today"}, false},
		{[]any{"mariadb", "timezone"}, "UTC"},
		{[]any{"mariadb", "ads", "top", 0, "ad_id"}, 1.0},
		{[]any{"mariadb", "ads", "top", 0, "ctr_percent"}, 100.0},
		{[]any{"mariadb", "ads", "top", 1, "clicks"}, 0.0},
		{[]any{"mariadb", "ads", "total", "ads"}, 2.0},
		{[]any{"mariadb", "ads", "total", "impressions"}, 2.0},
		{[]any{"mariadb", "ads", "total", "ctr_percent"}, 50.0},
		{[]any{"mariadb", "ads", "filtered", 0, "reason"}, "crawler"},
		{[]any{"mariadb", "ads", "filtered", 0, "impressions"}, 1.0},
		{[]any{"mariadb", "ads", "filtered", 0, "clicks"}, 1.0},
		{[]any{"mariadb", "ads", "filtered", 1, "reason"}, "prefetch"},
		{[]any{"mariadb", "ads", "filtered", 1, "impressions"}, 0.0},
		{[]any{"mariadb", "paths", "top", 0, "path"}, "/about"},
		{[]any{"mariadb", "paths", "top", 0, "updated_at"}, "2026-11-20T10:00:00Z"},
		{[]any{"mariadb", "paths", "paths"}, 2.0},
		{[]any{"mariadb", "paths", "hits"}, 13.0},
		{[]any{"mariadb", "stream_ledger_rows"}, 6.0},
		{[]any{"mariadb", "path_sync_log", "rows"}, 1.0},
		{[]any{"mariadb", "path_sync_log", "last"}, "2026-11-20T10:00:01Z"},
		{[]any{"mariadb", "missing_tables"}, []any{}},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, get(tt.path...), "%v", tt.path)
	}
	ttl, ok := get("redis", "path_hits", "lock", "ttl_seconds").(float64)
	require.True(t, ok)
	require.InDelta(t, 60, ttl, 5)
}

// Bad input gets a message and exit status 2; a Redis or MariaDB that does not answer, the rest of the
// screen and exit status 1.
func TestInspectExitStatus(t *testing.T) {
	e := newEnv(t)
	e.setenv(t)
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		code     int
		stdout   []string
		stderr   string
		noStdout bool
	}{
		{name: "empty", args: []string{"inspect"}, code: 0,
			stdout: []string{"impressions_stream: no stream yet", "today " + time.Now().UTC().Format(time.DateOnly) + " (UTC)", "(no counts for "}},
		{name: "help", args: []string{"inspect", "--help"}, code: 0, stdout: []string{"usage: adly inspect", "--json", "ctr_percent"}},
		{name: "not a day", args: []string{"inspect", "--date", "2026-02-30"}, code: 2, noStdout: true,
			stderr: "adly inspect: --date must be a real day as YYYY-MM-DD, got '2026-02-30'\nusage: adly inspect"},
		{name: "bad watch", args: []string{"inspect", "--watch=0"}, code: 2, noStdout: true, stderr: "--watch must be a whole number of seconds from 1 to 86400"},
		{name: "watch without value", args: []string{"inspect", "--watch"}, code: 2, noStdout: true, stderr: "--watch needs a value"},
		{name: "unknown option", args: []string{"inspect", "--everything"}, code: 2, noStdout: true, stderr: "unknown argument"},
		{name: "json and watch", args: []string{"inspect", "--json", "--watch", "5"}, code: 2, noStdout: true, stderr: "does not go with --watch"},
		{name: "unknown command", args: []string{"inspct"}, code: 2, noStdout: true, stderr: "adly: unknown command 'inspct'"},
		{name: "bad timezone", args: []string{"inspect"}, env: map[string]string{"TIMEZONE": "Mars/Olympus"}, code: 2, noStdout: true, stderr: "TIMEZONE"},
		{name: "no database", args: []string{"inspect"}, env: map[string]string{"DB_NAME": e.dbCfg.Name + "_none"}, code: 0,
			stdout: []string{"database " + e.dbCfg.Name + "_none does not exist"}},
		{name: "redis down", args: []string{"inspect"}, env: map[string]string{"REDIS_PORT": "1"}, code: 1,
			stdout: []string{"Redis: not answering: ", "day", "stream_ledger rows: 0"}, stderr: "adly inspect: no answer from Redis or MariaDB"},
		{name: "redis down json", args: []string{"inspect", "--json"}, env: map[string]string{"REDIS_PORT": "1"}, code: 1,
			stdout: []string{`"ok": false`, `"error": "redis ping: `}},
		{name: "mariadb down", args: []string{"inspect"}, env: map[string]string{"DB_PORT": "1"}, code: 1,
			stdout: []string{"-- path hits", "MariaDB: not answering: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			code, stdout, stderr := run(t, tt.args...)
			require.Equal(t, tt.code, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
			for _, s := range tt.stdout {
				require.Contains(t, stdout, s)
			}
			require.Contains(t, stderr, tt.stderr)
			if tt.noStdout {
				require.Empty(t, stdout)
			}
		})
	}
}

// --watch redraws until interrupted, then ends with success.
func TestInspectWatch(t *testing.T) {
	e := newEnv(t)
	in := NewInspector(e.client, "127.0.0.1:6379", e.names, e.dbCfg, time.UTC, time.Now)
	t.Cleanup(func() { _ = in.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	var out bytes.Buffer
	require.NoError(t, inspect(ctx, in, inspectOptions{watch: time.Second}, &out))
	frames := bytes.Count(out.Bytes(), []byte("\033[H\033[2J"))
	require.GreaterOrEqual(t, frames, 2)
	require.Contains(t, out.String(), "(every 1s, Ctrl-C to stop)")
}

// Times from MariaDB are shown in TIMEZONE, converted by Go as the workers date events (MariaDB's time
// zone tables are not needed); "today" is today there.
func TestInspectTimezone(t *testing.T) {
	e := newEnv(t)
	e.known(t)
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	now := time.Date(2026, 11, 20, 23, 30, 0, 0, time.UTC) // already the 21st in Berlin
	in := NewInspector(e.client, "127.0.0.1:6379", e.names, e.dbCfg, berlin, func() time.Time { return now })
	t.Cleanup(func() { _ = in.Close() })

	var out bytes.Buffer
	require.NoError(t, inspect(context.Background(), in, inspectOptions{}, &out))
	for _, want := range []string{
		"today 2026-11-21 (Europe/Berlin)\n",
		"(no counts for 2026-11-21)\n",
		"updated_at (Europe/Berlin)\n",
		"/about                                                             10  2026-11-20 11:00:00\n",
		"(last 2026-11-20 11:00:01)\n",
	} {
		require.Contains(t, out.String(), want)
	}
}
