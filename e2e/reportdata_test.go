package e2e

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"
)

// zoneAwayFromUTC is a zone whose calendar date differs from UTC's at now and for at least the next hour: a
// report that took "today" or its days in UTC instead of TIMEZONE would show other figures. From 10:00 UTC
// the date at UTC+14 is already tomorrow's; until 11:00 UTC the date at UTC−11 is still yesterday's. Choosing
// at 10:00 leaves at least an hour either way.
func zoneAwayFromUTC(t *testing.T, now time.Time) *time.Location {
	t.Helper()
	name := "Pacific/Kiritimati" // UTC+14
	if now.UTC().Hour() < 10 {
		name = "Pacific/Pago_Pago" // UTC−11
	}
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

// civilToday is today's date in loc as YYYY-MM-DD.
func civilToday(loc *time.Location) string { return time.Now().In(loc).Format(time.DateOnly) }

// addDays moves a YYYY-MM-DD date by n days.
func addDays(t *testing.T, date string, n int) string {
	t.Helper()
	d, err := time.Parse(time.DateOnly, date)
	require.NoError(t, err)
	return d.AddDate(0, 0, n).Format(time.DateOnly)
}

// dates lists every day from from to to, both included.
func dates(t *testing.T, from, to string) []string {
	t.Helper()
	var out []string
	for d := from; d <= to; d = addDays(t, d, 1) {
		out = append(out, d)
	}
	return out
}

// writeReportRows writes the daily rows the report tests read, for the days from today−104 to tomorrow
// (dates of the workers' zone, as the workers write them), and a few path counters:
//
//   - ad 11 every day, with crawler and headless traffic filtered apart; tomorrow it has 77,777 impressions,
//     which no range that ends today may show;
//   - ad 12 on five days of six;
//   - ad 13 only until 40 days ago: the 7- and 30-day ranges do not have it, the 90-day range does;
//   - ad 14 only clicks, every fifth day (no impressions: no CTR);
//   - ad 15 only filtered traffic: never a row of the ad table, but in the filtered traffic of every ad.
func writeReportRows(t *testing.T, db *sqlx.DB, today string) {
	t.Helper()
	var imps, clicks, fimps, fclicks []string
	for off := -104; off <= 1; off++ {
		date := addDays(t, today, off)
		k := int64(off + 200)
		imp := func(ad, n int64) { imps = append(imps, fmt.Sprintf("(%d,'%s',%d)", ad, date, n)) }
		clk := func(ad, n int64) { clicks = append(clicks, fmt.Sprintf("(%d,'%s',%d)", ad, date, n)) }
		fimp := func(ad int64, reason string, n int64) {
			fimps = append(fimps, fmt.Sprintf("(%d,'%s','%s',%d)", ad, date, reason, n))
		}
		fclk := func(ad int64, reason string, n int64) {
			fclicks = append(fclicks, fmt.Sprintf("(%d,'%s','%s',%d)", ad, date, reason, n))
		}
		if off == 1 {
			imp(11, 77777)
			clk(11, 7777)
			continue
		}
		n := 900 + (k*37)%200
		imp(11, n)
		clk(11, n*(2+k%5)/100)
		fimp(11, "crawler", 20+k%9)
		if k%2 == 0 {
			fclk(11, "crawler", 1+k%3)
			fimp(11, "headless", 5+k%4)
		}
		if k%6 != 0 {
			n := 400 + (k*53)%150
			imp(12, n)
			clk(12, n*(1+k%3)/100)
		}
		if off <= -40 {
			imp(13, 250+(k*11)%90)
			if k%4 != 0 {
				clk(13, k%4)
			}
		}
		if off%5 == 0 {
			clk(14, 1+k%3)
		}
		fimp(15, "crawler", 30+k%7)
		fclk(15, "crawler", 1)
	}
	ctx := context.Background()
	for table, rows := range map[string][]string{
		"ad_daily_impressions (ad_id, date, impressions)":                  imps,
		"ad_daily_clicks (ad_id, date, clicks)":                            clicks,
		"ad_daily_impressions_filtered (ad_id, date, reason, impressions)": fimps,
		"ad_daily_clicks_filtered (ad_id, date, reason, clicks)":           fclicks,
	} {
		_, err := db.ExecContext(ctx, "INSERT INTO "+table+" VALUES "+strings.Join(rows, ","))
		require.NoError(t, err, table)
	}
	_, err := db.ExecContext(ctx, `INSERT INTO path_counters (path, hit_count, created_at, updated_at) VALUES
		('/', 51234, '2026-01-05 08:00:00', '2026-03-30 14:55:00'),
		('/pricing', 1200, '2026-01-05 08:00:00', '2026-03-30 14:55:00'),
		('/blog/counting', 300, '2026-02-01 10:30:00', '2026-03-29 23:45:00')`)
	require.NoError(t, err)
}

// sums are what MariaDB holds for a range, read with SQL of the test's own, not through the reports.
type sums struct{ imp, clk int64 }

type adSums struct {
	id       int64
	sums                     // valid traffic
	filtered map[string]sums // by reason
}

// mariaDB reads the expected figures from the test's database.
type mariaDB struct {
	t  *testing.T
	db *sqlx.DB
}

// adFilter is the condition on ad_id: every ad when ad is 0.
func adFilter(ad int64) (string, []any) {
	if ad == 0 {
		return "", nil
	}
	return " AND ad_id = ?", []any{ad}
}

// query runs a SELECT whose rows are (key, count) over the range and the ad, adding each count to add.
func (m mariaDB) query(sel, table, group string, from, to string, ad int64, add func(key string, n int64)) {
	m.t.Helper()
	cond, args := adFilter(ad)
	q := "SELECT " + sel + " FROM " + table + " WHERE date BETWEEN ? AND ?" + cond + " GROUP BY " + group
	rows, err := m.db.Query(q, append([]any{from, to}, args...)...)
	require.NoError(m.t, err, q)
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var key string
		var n int64
		require.NoError(m.t, rows.Scan(&key, &n))
		add(key, n)
	}
	require.NoError(m.t, rows.Err())
}

// total is the valid traffic of the range.
func (m mariaDB) total(from, to string, ad int64) sums {
	var s sums
	m.query("'all', SUM(impressions)", "ad_daily_impressions", "1", from, to, ad, func(_ string, n int64) { s.imp += n })
	m.query("'all', SUM(clicks)", "ad_daily_clicks", "1", from, to, ad, func(_ string, n int64) { s.clk += n })
	return s
}

// days is the valid traffic of each day of the range that has some.
func (m mariaDB) days(from, to string, ad int64) map[string]sums {
	out := map[string]sums{}
	day := "DATE_FORMAT(date, '%Y-%m-%d')"
	m.query(day+", SUM(impressions)", "ad_daily_impressions", "date", from, to, ad, func(d string, n int64) {
		s := out[d]
		s.imp += n
		out[d] = s
	})
	m.query(day+", SUM(clicks)", "ad_daily_clicks", "date", from, to, ad, func(d string, n int64) {
		s := out[d]
		s.clk += n
		out[d] = s
	})
	return out
}

// filtered is the filtered traffic of the range by reason.
func (m mariaDB) filtered(from, to string, ad int64) map[string]sums {
	out := map[string]sums{}
	m.query("reason, SUM(impressions)", "ad_daily_impressions_filtered", "reason", from, to, ad, func(r string, n int64) {
		s := out[r]
		s.imp += n
		out[r] = s
	})
	m.query("reason, SUM(clicks)", "ad_daily_clicks_filtered", "reason", from, to, ad, func(r string, n int64) {
		s := out[r]
		s.clk += n
		out[r] = s
	})
	return out
}

// ads are the ads with valid traffic in the range — or the one ad asked for, with zeros if it had none, as
// the API documents — with their filtered traffic, in the order of the sort
// parameter: "-impressions" (the default: most impressions first) or "-ctr" (the highest click-through rate
// first, ads without impressions last); ties by ad_id.
func (m mariaDB) ads(from, to string, ad int64, order string) []adSums {
	byID := map[int64]*adSums{}
	get := func(key string) *adSums {
		id, err := strconv.ParseInt(key, 10, 64)
		require.NoError(m.t, err)
		if byID[id] == nil {
			byID[id] = &adSums{id: id, filtered: map[string]sums{}}
		}
		return byID[id]
	}
	if ad != 0 {
		get(strconv.FormatInt(ad, 10))
	}
	m.query("ad_id, SUM(impressions)", "ad_daily_impressions", "ad_id", from, to, ad, func(k string, n int64) { get(k).imp += n })
	m.query("ad_id, SUM(clicks)", "ad_daily_clicks", "ad_id", from, to, ad, func(k string, n int64) { get(k).clk += n })
	var out []adSums
	for _, a := range byID {
		if a.imp == 0 && a.clk == 0 && a.id != ad {
			continue
		}
		for reason, s := range m.filtered(from, to, a.id) {
			a.filtered[reason] = s
		}
		out = append(out, *a)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		switch order {
		case "-impressions", "":
			if a.imp != b.imp {
				return a.imp > b.imp
			}
		case "-ctr":
			if (a.imp == 0) != (b.imp == 0) {
				return b.imp == 0
			}
			// a.clk/a.imp against b.clk/b.imp, in whole numbers.
			if l, r := a.clk*b.imp, b.clk*a.imp; a.imp != 0 && l != r {
				return l > r
			}
		default:
			m.t.Fatalf("the test knows no sort %q", order)
		}
		return a.id < b.id
	})
	return out
}

// The page's formats, written out here rather than taken from package dashboard: 1,234 and 2.50%.

func commas(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func pageCTR(s sums) string {
	if s.imp == 0 {
		return "–"
	}
	return strconv.FormatFloat(float64(s.clk)/float64(s.imp)*100, 'f', 2, 64) + "%"
}

// csvCTR is the CSV's ctr cell: the fraction in full, empty without impressions.
func csvCTR(s sums) string {
	if s.imp == 0 {
		return ""
	}
	return strconv.FormatFloat(float64(s.clk)/float64(s.imp), 'f', -1, 64)
}
