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

// Kind is one of the two things the workers count, impressions or clicks: its daily table of valid counts and
// its table of filtered counts (the count column is named like the kind).
type Kind struct {
	Name            string // impressions or clicks: also the tables' count column
	table, filtered string
}

// The two kinds, in the order of the statement lists below.
var (
	Impressions = Kind{"impressions", "ad_daily_impressions", "ad_daily_impressions_filtered"}
	Clicks      = Kind{"clicks", "ad_daily_clicks", "ad_daily_clicks_filtered"}
	Kinds       = [2]Kind{Impressions, Clicks}
)

// Statements are what a report sends: one list per kind (Kinds' order). Each list runs on a connection of its
// own, both at once, in one read-only transaction when it holds several statements: a worker commits a
// kind's valid and filtered counts in one transaction, so a kind's statements see one snapshot; impressions
// and clicks are committed by different workers, so no report could see them together anyway.
type Statements [2][]Query

// Every statement reads a date range through an index that starts with date (sql/schema.sql: the
// *_date_ad indexes), or one ad's rows through the (ad_id, date) keys, so a report reads the rows of its
// range and never a whole table. Dates are sent as 'YYYY-MM-DD' strings, compared with DATE columns as
// dates.

// SummaryStatements are Summary's: per kind, the daily sums over r and the range before it (DailyQuery),
// then the filtered sums of r by reason (FilteredQuery).
func SummaryStatements(r Range, adID int64) Statements {
	both := Range{From: r.Previous().From, To: r.To}
	var s Statements
	for i, k := range Kinds {
		s[i] = []Query{DailyQuery(k, both, adID), FilteredQuery(k, r, adID)}
	}
	return s
}

// AdsStatements are Ads': per kind, the sums per ad over r (AdTotalsQuery), then the filtered sums per ad and
// reason (FilteredByAdQuery). Sorting and the limit are applied to the merged rows.
func AdsStatements(r Range, adID int64) Statements {
	var s Statements
	for i, k := range Kinds {
		s[i] = []Query{AdTotalsQuery(k, r, adID), FilteredByAdQuery(k, r, adID)}
	}
	return s
}

// AdDailyStatements are AdDaily's: per kind, one ad's daily sums over r.
func AdDailyStatements(adID int64, r Range) Statements {
	var s Statements
	for i, k := range Kinds {
		s[i] = []Query{DailyQuery(k, r, adID)}
	}
	return s
}

// rangeQuery builds "SELECT <cols> FROM <table> WHERE date BETWEEN ? AND ? [AND ad_id = ?] GROUP BY <group>",
// then "ORDER BY NULL" unless the rows come in group order from the index (MariaDB sorts the groups of a
// GROUP BY otherwise; the store sums them by key and needs no order).
//
// The sums per ad over every ad read the range's index entries in date order, and MariaDB groups them by
// ad_id in a temporary table, one lookup per entry. SQL_BIG_RESULT makes it sort the entries by ad_id
// instead and sum each run: the 30-day report of 10,000 ads took 15-22 % less time (BENCHMARKS.md,
// "Reports").
func rangeQuery(name, cols, table, group string, r Range, adID int64) Query {
	from, to := r.From.Format(DateLayout), r.To.Format(DateLayout)
	hint := ""
	if adID == 0 && group == "ad_id" {
		hint = "SQL_BIG_RESULT "
	}
	q := "SELECT " + hint + cols + " FROM " + table + " WHERE date BETWEEN ? AND ?"
	args := []any{from, to}
	if adID != 0 {
		q += " AND ad_id = ?"
		args = append(args, adID)
	}
	q += " GROUP BY " + group
	if group != "date" {
		q += " ORDER BY NULL"
	}
	return Query{Name: name, SQL: q, Args: args}
}

// DailyQuery sums k's valid counts per date over r, for every ad (adID 0) or one: rows (date, n). Over every
// ad it walks the date index in order (no temporary table); for one ad, that ad's (ad_id, date) keys.
func DailyQuery(k Kind, r Range, adID int64) Query {
	return rangeQuery("daily "+k.Name, "date, SUM("+k.Name+")", k.table, "date", r, adID)
}

// AdTotalsQuery sums k's valid counts per ad over r (every ad with a count in r, or only adID): rows (ad_id,
// n).
func AdTotalsQuery(k Kind, r Range, adID int64) Query {
	return rangeQuery(k.Name+" per ad", "ad_id, SUM("+k.Name+")", k.table, "ad_id", r, adID)
}

// FilteredByAdQuery sums k's filtered counts per ad and reason over r: rows (ad_id, reason, n).
func FilteredByAdQuery(k Kind, r Range, adID int64) Query {
	return rangeQuery("filtered "+k.Name+" per ad", "ad_id, reason, SUM("+k.Name+")", k.filtered, "ad_id, reason", r, adID)
}

// FilteredQuery sums k's filtered counts per reason over r, for every ad (adID 0) or one: rows (reason, n).
func FilteredQuery(k Kind, r Range, adID int64) Query {
	return rangeQuery("filtered "+k.Name, "reason, SUM("+k.Name+")", k.filtered, "reason", r, adID)
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
