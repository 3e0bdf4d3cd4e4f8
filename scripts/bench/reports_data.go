package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"adly/pkg/config"
	"adly/pkg/mariadb"
)

// The data of mode report: a year of daily counts of 10,000 ads, and 200,000 paths. Every count is a
// function of its key, so the answers can be checked without reading the tables again.
const (
	reportDB    = "adly_bench_report" // kept between runs; `bench -drop report` drops it
	reportAds   = 10000
	reportDays  = 365
	reportPaths = 200000
	reportYear  = "2025-01-01" // the first of the 365 days
	fillAds     = 1000         // ads per INSERT … SELECT
	fillRows    = 5000         // rows per multi-row INSERT, without the SEQUENCE engine
)

func reportImpressions(ad, day int64) int64 { return 1 + (ad*7+day*13)%1000 }
func reportClicks(ad, day int64) int64      { return (ad*3 + day*5) % 40 }
func reportHits(n int64) int64              { return 1 + (n*7919)%100000 }

// The same functions, in SQL, over a (ad) and d (day, 0-based) or n.
const (
	impressionsSQL = "1 + (a * 7 + d * 13) % 1000"
	clicksSQL      = "(a * 3 + d * 5) % 40"
	hitsSQL        = "1 + (n * 7919) % 100000"
)

// reportTotals is what the tables hold when they are complete.
type reportTotals struct {
	Impressions int64 `db:"imp"`
	Clicks      int64 `db:"clk"`
	ImpRows     int64 `db:"imp_rows"`
	ClkRows     int64 `db:"clk_rows"`
	Paths       int64 `db:"paths"`
	Hits        int64 `db:"hits"`
}

func wantTotals() reportTotals {
	t := reportTotals{ImpRows: reportAds * reportDays, ClkRows: reportAds * reportDays, Paths: reportPaths}
	for a := int64(1); a <= reportAds; a++ {
		for d := int64(0); d < reportDays; d++ {
			t.Impressions += reportImpressions(a, d)
			t.Clicks += reportClicks(a, d)
		}
	}
	for n := int64(1); n <= reportPaths; n++ {
		t.Hits += reportHits(n)
	}
	return t
}

// openReportDB connects to the benchmark's database, creating it if needed, and applies the schema (the
// report indexes included: on a database kept from a run without them, they are built now).
func openReportDB(ctx context.Context, cfg config.DB) (*sqlx.DB, error) {
	cfg.Name = ""
	admin, err := mariadb.Open(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("mariadb at %s:%d: %w", cfg.Host, cfg.Port, err)
	}
	_, err = admin.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS `"+reportDB+"` DEFAULT CHARACTER SET utf8mb4")
	_ = admin.Close()
	if err != nil {
		return nil, fmt.Errorf("create database %s: %w", reportDB, err)
	}
	cfg.Name = reportDB
	db, err := mariadb.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	schema, err := os.ReadFile(schemaPath)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	for _, stmt := range mariadb.SplitStatements(string(schema)) {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("apply schema to %s: %w", reportDB, err)
		}
	}
	return db, nil
}

// dropReportDB drops the benchmark's database.
func dropReportDB(ctx context.Context, cfg config.DB) error {
	cfg.Name = ""
	admin, err := mariadb.Open(ctx, cfg)
	if err != nil {
		return fmt.Errorf("mariadb at %s:%d: %w", cfg.Host, cfg.Port, err)
	}
	defer func() { _ = admin.Close() }()
	if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+reportDB+"`"); err != nil {
		return fmt.Errorf("drop database %s: %w", reportDB, err)
	}
	return nil
}

func readTotals(ctx context.Context, db *sqlx.DB) (reportTotals, error) {
	var t reportTotals
	err := db.GetContext(ctx, &t, `SELECT
		(SELECT CAST(COALESCE(SUM(impressions), 0) AS SIGNED) FROM ad_daily_impressions) AS imp,
		(SELECT COUNT(*) FROM ad_daily_impressions) AS imp_rows,
		(SELECT CAST(COALESCE(SUM(clicks), 0) AS SIGNED) FROM ad_daily_clicks) AS clk,
		(SELECT COUNT(*) FROM ad_daily_clicks) AS clk_rows,
		(SELECT COUNT(*) FROM path_counters) AS paths,
		(SELECT CAST(COALESCE(SUM(hit_count), 0) AS SIGNED) FROM path_counters) AS hits`)
	if err != nil {
		return t, fmt.Errorf("read the totals of %s: %w", reportDB, err)
	}
	return t, nil
}

// ensureReportData keeps the tables when they hold exactly the benchmark's data, and otherwise empties and
// fills them. It returns how long filling took (0 when the data was kept).
func ensureReportData(ctx context.Context, db *sqlx.DB) (time.Duration, error) {
	want := wantTotals()
	got, err := readTotals(ctx, db)
	if err != nil {
		return 0, err
	}
	if got == want {
		info("database %s already holds the data (%d + %d daily rows, %d paths): kept", reportDB, got.ImpRows, got.ClkRows, got.Paths)
		return 0, nil
	}
	info("database %s: filling %d ads x %d days of impressions and clicks (%d rows) and %d paths", reportDB,
		reportAds, reportDays, 2*reportAds*reportDays, reportPaths)
	start := time.Now()
	for _, t := range []string{"ad_daily_impressions", "ad_daily_clicks", "ad_daily_impressions_filtered", "ad_daily_clicks_filtered", "path_counters"} {
		if _, err := db.ExecContext(ctx, "TRUNCATE TABLE "+t); err != nil {
			return 0, fmt.Errorf("truncate %s: %w", t, err)
		}
	}
	var seq int
	fill := fillRowsFromGo
	if db.GetContext(ctx, &seq, "SELECT COUNT(*) FROM seq_1_to_3") == nil && seq == 3 {
		fill = fillFromSequence
	}
	if err := fill(ctx, db); err != nil {
		return 0, err
	}
	if _, err := db.ExecContext(ctx, "ANALYZE TABLE ad_daily_impressions, ad_daily_clicks, path_counters"); err != nil {
		return 0, fmt.Errorf("analyze: %w", err)
	}
	took := time.Since(start)
	if got, err = readTotals(ctx, db); err != nil {
		return 0, err
	}
	if got != want {
		return 0, fmt.Errorf("after the fill %s holds %+v, want %+v", reportDB, got, want)
	}
	info("filled in %.1fs", took.Seconds())
	return took, nil
}

// fillFromSequence writes every row with INSERT … SELECT over MariaDB's SEQUENCE engine (seq_1_to_N): the
// rows are made in the server, in key order, 1000 ads a statement.
func fillFromSequence(ctx context.Context, db *sqlx.DB) error {
	for first := 1; first <= reportAds; first += fillAds {
		last := min(first+fillAds-1, reportAds)
		for _, t := range []struct{ table, col, expr string }{
			{"ad_daily_impressions", "impressions", impressionsSQL},
			{"ad_daily_clicks", "clicks", clicksSQL},
		} {
			q := fmt.Sprintf(`INSERT INTO %s (ad_id, date, %s)
				SELECT a, '%s' + INTERVAL d DAY, %s FROM (SELECT ads.seq AS a, days.seq AS d
					FROM seq_%d_to_%d ads JOIN seq_0_to_%d days) k ORDER BY a, d`,
				t.table, t.col, reportYear, t.expr, first, last, reportDays-1)
			if _, err := db.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("fill %s: %w", t.table, err)
			}
		}
		info("  ads %d-%d written", first, last)
	}
	q := fmt.Sprintf(`INSERT INTO path_counters (path, hit_count, created_at, updated_at)
		SELECT CONCAT('%s', n), %s, '%s 00:00:00', '%s 00:00:00' FROM (SELECT seq AS n FROM seq_1_to_%d) k`,
		pathPrefix, hitsSQL, reportYear, reportYear, reportPaths)
	if _, err := db.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("fill path_counters: %w", err)
	}
	return nil
}

// fillRowsFromGo writes every row with multi-row INSERTs from here, for a server without the SEQUENCE
// engine (MySQL).
func fillRowsFromGo(ctx context.Context, db *sqlx.DB) error {
	first := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	insert := func(table string, n int, row func(i int) []any) error {
		var q strings.Builder
		args := make([]any, 0, fillRows*4)
		flush := func() error {
			if len(args) == 0 {
				return nil
			}
			_, err := db.ExecContext(ctx, strings.TrimSuffix(q.String(), ","), args...)
			q.Reset()
			args = args[:0]
			return err
		}
		for i := range n {
			r := row(i)
			if len(args) == 0 {
				q.WriteString(table)
			}
			q.WriteString("(?" + strings.Repeat(",?", len(r)-1) + "),")
			args = append(args, r...)
			if len(args) >= fillRows*len(r) {
				if err := flush(); err != nil {
					return fmt.Errorf("fill: %w", err)
				}
			}
		}
		return flush()
	}
	day := func(i int) (int64, int64, string) {
		a, d := int64(i/reportDays+1), int64(i%reportDays)
		return a, d, first.AddDate(0, 0, int(d)).Format("2006-01-02")
	}
	if err := insert("INSERT INTO ad_daily_impressions (ad_id, date, impressions) VALUES ", reportAds*reportDays, func(i int) []any {
		a, d, date := day(i)
		return []any{a, date, reportImpressions(a, d)}
	}); err != nil {
		return err
	}
	if err := insert("INSERT INTO ad_daily_clicks (ad_id, date, clicks) VALUES ", reportAds*reportDays, func(i int) []any {
		a, d, date := day(i)
		return []any{a, date, reportClicks(a, d)}
	}); err != nil {
		return err
	}
	return insert("INSERT INTO path_counters (path, hit_count, created_at, updated_at) VALUES ", reportPaths, func(i int) []any {
		n := int64(i + 1)
		return []any{pathOf(int(n)), reportHits(n), reportYear + " 00:00:00", reportYear + " 00:00:00"}
	})
}
