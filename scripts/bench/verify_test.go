package main

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"adly/pkg/stream"
	"adly/pkg/testkit"
)

// The count checks are what make a wrong run fail: each case changes one thing a correct run would leave.
func TestWorkerVerifyFailsOnWrongCounts(t *testing.T) {
	tests := []struct {
		name    string
		rows    string // inserted into ad_daily_impressions
		dead    bool   // an entry in the dead-letter stream
		wantErr string
	}{
		{"exact", "(1, '2026-03-01', 2), (2, '2026-03-02', 1)", false, ""},
		{"one too many", "(1, '2026-03-01', 3), (2, '2026-03-02', 1)", false, "SUM(impressions) = 4, but the stream has 3 entries (+1)"},
		{"one lost", "(1, '2026-03-01', 2)", false, "SUM(impressions) = 2, but the stream has 3 entries (-1)"},
		{"right total, wrong rows", "(1, '2026-03-01', 1), (2, '2026-03-02', 2)", false, "the total is right but 2 of 2 rows are wrong"},
		{"right total, wrong date", "(1, '2026-03-01', 2), (2, '2026-03-03', 1)", false, "the total is right but 1 of 2 rows are wrong"},
		{"dead-lettered", "(1, '2026-03-01', 2), (2, '2026-03-02', 1)", true, "1 entries were dead-lettered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			client, names := testkit.Redis(t)
			db, _ := testkit.MariaDB(t)
			w := &workerBench{
				env:    workerEnv{Entries: 3},
				bench:  &bench{client: client, db: db},
				stream: names.ImpressionsStream(),
				want:   map[adDay]int64{{1, "2026-03-01"}: 2, {2, "2026-03-02"}: 1},
			}
			_, err := db.ExecContext(ctx, "INSERT INTO ad_daily_impressions (ad_id, date, impressions) VALUES "+tt.rows)
			require.NoError(t, err)
			if tt.dead {
				require.NoError(t, client.XAdd(ctx, &redis.XAddArgs{Stream: stream.DeadLetterStream(w.stream), Values: []any{"ad_id", "1"}}).Err())
			}
			err = w.verify(ctx)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
			require.ErrorContains(t, err, "these figures are not a result")
		})
	}
}

func TestSyncerVerifyFailsOnWrongCounts(t *testing.T) {
	tests := []struct {
		name    string
		stdout  string
		rows    string // inserted into path_counters
		left    bool   // a counter still in Redis
		wantErr string
	}{
		{"exact", "Synced 3 paths\n", "('/bench/page/1', 2), ('/bench/page/2', 3), ('/bench/page/3', 4)", false, ""},
		{"no report", "", "('/bench/page/1', 2), ('/bench/page/2', 3), ('/bench/page/3', 4)", false, `printed no "Synced N paths" line`},
		{"reported another count", "Synced 2 paths\n", "('/bench/page/1', 2), ('/bench/page/2', 3), ('/bench/page/3', 4)", false, `printed "Synced 2 paths", want 3`},
		{"one hit too many", "Synced 3 paths\n", "('/bench/page/1', 3), ('/bench/page/2', 3), ('/bench/page/3', 4)", false, "SUM(hit_count) = 10, want 3 rows with 9 (+1 hits)"},
		{"a row lost", "Synced 3 paths\n", "('/bench/page/1', 2), ('/bench/page/2', 3)", false, "path_counters has 2 rows"},
		{"counts swapped", "Synced 3 paths\n", "('/bench/page/1', 3), ('/bench/page/2', 2), ('/bench/page/3', 4)", false, "2 rows of path_counters hold another path's count"},
		{"counter left", "Synced 3 paths\n", "('/bench/page/1', 2), ('/bench/page/2', 3), ('/bench/page/3', 4)", true, "1 hit counters are still in Redis"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			client, names := testkit.Redis(t)
			db, _ := testkit.MariaDB(t)
			s := &syncerBench{env: syncerEnv{Paths: 3}, bench: &bench{client: client, db: db}, names: names, wantSum: hits(1) + hits(2) + hits(3)}
			_, err := db.ExecContext(ctx, "INSERT INTO path_counters (path, hit_count) VALUES "+tt.rows)
			require.NoError(t, err)
			if tt.left {
				require.NoError(t, client.Set(ctx, names.HitKey(pathOf(1)), 1, 0).Err())
			}
			p := &proc{procSpec: procSpec{name: "path-syncer-r1"}, log: t.TempDir() + "/none.log"}
			p.stdout.WriteString(tt.stdout)
			err = s.verify(ctx, p)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
			require.ErrorContains(t, err, "these figures are not a result")
		})
	}
}
