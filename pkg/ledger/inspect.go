package ledger

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// Reader reads the daily tables, their filtered tables and the ledger for the operator's inspection. It never
// writes.
type Reader struct {
	db *sqlx.DB
}

// NewReader returns a Reader over db.
func NewReader(db *sqlx.DB) *Reader { return &Reader{db: db} }

// AdDay is one ad's counts on one day. CTR is clicks per 100 impressions, rounded by MariaDB to two
// decimals ("3.33"), and not valid when there were no impressions.
type AdDay struct {
	AdID        int64          `db:"ad_id"`
	Impressions int64          `db:"imp"`
	Clicks      int64          `db:"clk"`
	CTR         sql.NullString `db:"ctr"`
}

// DayTotal is the counts of every ad on one day.
type DayTotal struct {
	Ads         int64          `db:"ads"`
	Impressions int64          `db:"imp"`
	Clicks      int64          `db:"clk"`
	CTR         sql.NullString `db:"ctr"`
}

// Day reads the top ads of day (YYYY-MM-DD) by impressions, then clicks, then ad ID, from both daily
// tables, and the day's totals.
func (r *Reader) Day(ctx context.Context, day string, top int) ([]AdDay, DayTotal, error) {
	// No FULL OUTER JOIN in MariaDB: the union of both tables' keys, then each side joined on it.
	const topSQL = `SELECT k.ad_id, COALESCE(i.impressions, 0) AS imp, COALESCE(c.clicks, 0) AS clk,
		IF(COALESCE(i.impressions, 0) > 0, ROUND(100 * COALESCE(c.clicks, 0) / i.impressions, 2), NULL) AS ctr
	FROM (SELECT ad_id, date FROM ad_daily_impressions WHERE date = ?
		UNION SELECT ad_id, date FROM ad_daily_clicks WHERE date = ?) k
	LEFT JOIN ad_daily_impressions i ON i.ad_id = k.ad_id AND i.date = k.date
	LEFT JOIN ad_daily_clicks c ON c.ad_id = k.ad_id AND c.date = k.date
	ORDER BY imp DESC, clk DESC, k.ad_id LIMIT ?`
	const totalSQL = `SELECT t.ads, t.imp, t.clk, IF(t.imp > 0, ROUND(100 * t.clk / t.imp, 2), NULL) AS ctr
	FROM (SELECT
		(SELECT COUNT(*) FROM (SELECT ad_id FROM ad_daily_impressions WHERE date = ?
			UNION SELECT ad_id FROM ad_daily_clicks WHERE date = ?) u) AS ads,
		(SELECT COALESCE(SUM(impressions), 0) FROM ad_daily_impressions WHERE date = ?) AS imp,
		(SELECT COALESCE(SUM(clicks), 0) FROM ad_daily_clicks WHERE date = ?) AS clk) t`
	var rows []AdDay
	if err := r.db.SelectContext(ctx, &rows, topSQL, day, day, top); err != nil {
		return nil, DayTotal{}, fmt.Errorf("read counts of %s: %w", day, err)
	}
	var total DayTotal
	if err := r.db.GetContext(ctx, &total, totalSQL, day, day, day, day); err != nil {
		return nil, DayTotal{}, fmt.Errorf("read totals of %s: %w", day, err)
	}
	return rows, total, nil
}

// FilteredDay is the filtered traffic of one reason on one day, over every ad: counted in the filtered tables,
// never in the daily tables Day reads.
type FilteredDay struct {
	Reason      string `db:"reason"`
	Impressions int64  `db:"imp"`
	Clicks      int64  `db:"clk"`
}

// Filtered reads the filtered traffic of day (YYYY-MM-DD) per reason, most impressions first, then clicks,
// then reason.
func (r *Reader) Filtered(ctx context.Context, day string) ([]FilteredDay, error) {
	const filteredSQL = `SELECT reason, SUM(imp) AS imp, SUM(clk) AS clk FROM (
		SELECT reason, impressions AS imp, 0 AS clk FROM ad_daily_impressions_filtered WHERE date = ?
		UNION ALL SELECT reason, 0, clicks FROM ad_daily_clicks_filtered WHERE date = ?) f
	GROUP BY reason ORDER BY imp DESC, clk DESC, reason`
	var rows []FilteredDay
	if err := r.db.SelectContext(ctx, &rows, filteredSQL, day, day); err != nil {
		return nil, fmt.Errorf("read filtered counts of %s: %w", day, err)
	}
	return rows, nil
}

// LedgerRows is the number of ledger rows of every stream and group.
func (r *Reader) LedgerRows(ctx context.Context) (int64, error) {
	var n int64
	if err := r.db.GetContext(ctx, &n, "SELECT COUNT(*) FROM stream_ledger"); err != nil {
		return 0, fmt.Errorf("count stream_ledger: %w", err)
	}
	return n, nil
}
