package report

import (
	"strings"
)

// Query is one statement a report runs, with its arguments: the Store runs exactly these, and they are
// exported so that EXPLAIN and the benchmark's bare runs (scripts/bench, mode report) send the same text.
type Query struct {
	Name string // what it reads, for errors
	SQL  string
	Args []any
}

// Every statement reads a date range through an index that starts with date (sql/schema.sql: the
// *_date_ad indexes), or one ad's rows through the (ad_id, date) keys, so a report reads the rows of its
// range and never a whole table. Dates are sent as 'YYYY-MM-DD' strings, compared with DATE columns as
// dates.

// DailyQuery sums valid impressions and clicks per date over r, for every ad (adID 0) or one. It returns
// rows (date, impressions, clicks) with one of the two counts zero: one row per date and table.
func DailyQuery(r Range, adID int64) Query {
	from, to := r.From.Format(DateLayout), r.To.Format(DateLayout)
	const sel = `SELECT date, SUM(impressions) AS imp, 0 AS clk FROM ad_daily_impressions WHERE date BETWEEN ? AND ?%s GROUP BY date
UNION ALL
SELECT date, 0, SUM(clicks) FROM ad_daily_clicks WHERE date BETWEEN ? AND ?%s GROUP BY date`
	if adID == 0 {
		return Query{Name: "daily counts", SQL: strings.ReplaceAll(sel, "%s", ""), Args: []any{from, to, from, to}}
	}
	return Query{Name: "daily counts", SQL: strings.ReplaceAll(sel, "%s", " AND ad_id = ?"),
		Args: []any{from, to, adID, from, to, adID}}
}

// FilteredQuery sums filtered impressions and clicks per ad and reason over r, for every ad (adID 0) or one.
// It returns rows (ad_id, reason, impressions, clicks) with one of the two counts zero.
func FilteredQuery(r Range, adID int64) Query {
	from, to := r.From.Format(DateLayout), r.To.Format(DateLayout)
	const sel = `SELECT ad_id, reason, SUM(impressions) AS imp, 0 AS clk FROM ad_daily_impressions_filtered WHERE date BETWEEN ? AND ?%s GROUP BY ad_id, reason
UNION ALL
SELECT ad_id, reason, 0, SUM(clicks) FROM ad_daily_clicks_filtered WHERE date BETWEEN ? AND ?%s GROUP BY ad_id, reason`
	if adID == 0 {
		return Query{Name: "filtered counts", SQL: strings.ReplaceAll(sel, "%s", ""), Args: []any{from, to, from, to}}
	}
	return Query{Name: "filtered counts", SQL: strings.ReplaceAll(sel, "%s", " AND ad_id = ?"),
		Args: []any{from, to, adID, from, to, adID}}
}

// AdsQuery sums valid impressions and clicks per ad over r (every ad with a valid count in r, or only adID),
// sorted by sort (see ParseSort) and cut to limit rows. It returns rows (ad_id, impressions, clicks).
func AdsQuery(r Range, adID int64, sort Sort, limit int) Query {
	from, to := r.From.Format(DateLayout), r.To.Format(DateLayout)
	cond, args := "", []any{from, to, from, to}
	if adID != 0 {
		cond, args = " AND ad_id = ?", []any{from, to, adID, from, to, adID}
	}
	// Each table is summed per ad on its own (an index range scan of its date range), then the two sums
	// are joined per ad: MariaDB has no FULL OUTER JOIN, and an ad may have clicks without impressions.
	q := `SELECT ad_id, SUM(i) AS imp, SUM(c) AS clk FROM (
SELECT ad_id, SUM(impressions) AS i, 0 AS c FROM ad_daily_impressions WHERE date BETWEEN ? AND ?` + cond + ` GROUP BY ad_id
UNION ALL
SELECT ad_id, 0, SUM(clicks) FROM ad_daily_clicks WHERE date BETWEEN ? AND ?` + cond + ` GROUP BY ad_id
) a GROUP BY ad_id ORDER BY ` + sort.orderBy() + ` LIMIT ?`
	return Query{Name: "ad counts", SQL: q, Args: append(args, limit)}
}

// PathsQuery reads the paths with the most hits, those starting with prefix ("" for every path), most hits
// first (ties: the newest row first), at most limit.
func PathsQuery(prefix string, limit int) Query {
	// ORDER BY hit_count DESC, id DESC walks path_counters_hits (hit_count, and the primary key id every
	// InnoDB index ends with) backwards and stops after limit rows: no sort of the table.
	const cols = `SELECT path, hit_count, created_at, updated_at FROM path_counters`
	const order = ` ORDER BY hit_count DESC, id DESC LIMIT ?`
	if prefix == "" {
		return Query{Name: "top paths", SQL: cols + order, Args: []any{limit}}
	}
	return Query{Name: "top paths", SQL: cols + ` WHERE path LIKE ? ESCAPE '!'` + order, Args: []any{likePrefix(prefix), limit}}
}

// PathQuery reads one path's row.
func PathQuery(path string) Query {
	return Query{Name: "path", SQL: `SELECT path, hit_count, created_at, updated_at FROM path_counters WHERE path = ?`, Args: []any{path}}
}

// likePrefix is a LIKE pattern matching the strings that begin with prefix: its own % and _ match only
// themselves. The escape character is '!', not a backslash, whose meaning in a literal depends on the
// server's sql_mode (NO_BACKSLASH_ESCAPES).
func likePrefix(prefix string) string {
	var b strings.Builder
	for _, r := range prefix {
		if r == '%' || r == '_' || r == '!' {
			b.WriteByte('!')
		}
		b.WriteRune(r)
	}
	b.WriteByte('%')
	return b.String()
}
