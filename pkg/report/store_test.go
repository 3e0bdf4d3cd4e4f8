package report_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"adly/pkg/report"
	"adly/pkg/testkit"
)

// counts are the rows a test writes, as the workers and the syncer would have committed them.
type counts struct {
	impressions, clicks []row         // (ad_id, date, n)
	filtered            []filteredRow // (kind, ad_id, date, reason, n)
	paths               map[string]int64
}

type row struct {
	ad   int64
	date string
	n    int64
}

type filteredRow struct {
	clicks bool
	ad     int64
	date   string
	reason string
	n      int64
}

func write(t *testing.T, db *sqlx.DB, c counts) {
	t.Helper()
	for _, r := range c.impressions {
		_, err := db.Exec("INSERT INTO ad_daily_impressions (ad_id, date, impressions) VALUES (?, ?, ?)", r.ad, r.date, r.n)
		require.NoError(t, err)
	}
	for _, r := range c.clicks {
		_, err := db.Exec("INSERT INTO ad_daily_clicks (ad_id, date, clicks) VALUES (?, ?, ?)", r.ad, r.date, r.n)
		require.NoError(t, err)
	}
	for _, f := range c.filtered {
		table, col := "ad_daily_impressions_filtered", "impressions"
		if f.clicks {
			table, col = "ad_daily_clicks_filtered", "clicks"
		}
		_, err := db.Exec("INSERT INTO "+table+" (ad_id, date, reason, "+col+") VALUES (?, ?, ?, ?)", f.ad, f.date, f.reason, f.n)
		require.NoError(t, err)
	}
	for p, n := range c.paths {
		_, err := db.Exec("INSERT INTO path_counters (path, hit_count, created_at, updated_at) VALUES (?, ?, '2026-03-01 10:00:00', '2026-03-02 23:30:00')", p, n)
		require.NoError(t, err)
	}
}

// fixture: March 2026 and the days before, two ads with traffic, one with clicks only, filtered traffic.
var fixture = counts{
	impressions: []row{
		{1, "2026-03-01", 100}, {1, "2026-03-03", 50}, {2, "2026-03-01", 10},
		{1, "2026-02-27", 40}, {2, "2026-02-26", 2}, // the previous period of 2026-03-01..03
		{1, "2026-03-04", 1000}, // after the range
	},
	clicks: []row{
		{1, "2026-03-01", 5}, {1, "2026-03-03", 1}, {2, "2026-03-01", 2},
		{3, "2026-03-02", 7}, // an ad with clicks and no impressions
		{1, "2026-02-28", 4},
	},
	filtered: []filteredRow{
		{false, 1, "2026-03-01", "crawler", 30}, {false, 1, "2026-03-02", "crawler", 3}, {true, 1, "2026-03-01", "crawler", 2},
		{false, 2, "2026-03-03", "prefetch", 8}, {true, 2, "2026-03-03", "headless", 1},
		{false, 1, "2026-02-28", "crawler", 500}, // before the range
	},
}

func ctr(v float64) *float64 { return &v }

func march(from, to string) report.Range {
	r, err := report.ParseRange(from, to, time.Now(), time.UTC, report.MaxDays)
	if err != nil {
		panic(err)
	}
	return r
}

func newStore(t *testing.T, zone string) (*report.Store, *sqlx.DB) {
	t.Helper()
	db, _ := testkit.MariaDB(t)
	loc, err := time.LoadLocation(zone)
	require.NoError(t, err)
	return report.NewStore(db, loc), db
}

func TestSummary(t *testing.T) {
	t.Parallel()
	store, db := newStore(t, "Europe/Paris")
	write(t, db, fixture)
	ctx := context.Background()

	s, err := store.Summary(ctx, march("2026-03-01", "2026-03-03"), 0)
	require.NoError(t, err)
	require.Equal(t, "Europe/Paris", s.Zone, "the zone is reported")
	require.Equal(t, march("2026-02-26", "2026-02-28"), s.Previous)
	require.Equal(t, report.Totals{Impressions: 160, Clicks: 15, CTR: ctr(15.0 / 160)}, s.Totals)
	require.Equal(t, report.Totals{Impressions: 42, Clicks: 4, CTR: ctr(4.0 / 42)}, s.PreviousTotals, "the previous period's totals")
	require.Equal(t, []report.Day{
		{Date: "2026-03-01", Totals: report.Totals{Impressions: 110, Clicks: 7, CTR: ctr(7.0 / 110)}},
		{Date: "2026-03-02", Totals: report.Totals{Impressions: 0, Clicks: 7}}, // clicks without impressions: no CTR
		{Date: "2026-03-03", Totals: report.Totals{Impressions: 50, Clicks: 1, CTR: ctr(1.0 / 50)}},
	}, s.Days)
	require.Equal(t, []report.Filtered{
		{Reason: "crawler", Impressions: 33, Clicks: 2},
		{Reason: "prefetch", Impressions: 8},
		{Reason: "headless", Clicks: 1},
	}, s.Filtered, "filtered counts by reason, most impressions first")

	one, err := store.Summary(ctx, march("2026-03-01", "2026-03-03"), 2)
	require.NoError(t, err)
	require.EqualValues(t, 2, one.AdID)
	require.Equal(t, report.Totals{Impressions: 10, Clicks: 2, CTR: ctr(0.2)}, one.Totals)
	require.Equal(t, report.Totals{Impressions: 2, Clicks: 0, CTR: ctr(0)}, one.PreviousTotals)
	require.Equal(t, []report.Filtered{{Reason: "prefetch", Impressions: 8}, {Reason: "headless", Clicks: 1}}, one.Filtered)

	empty, err := store.Summary(ctx, march("2025-01-01", "2025-01-31"), 0)
	require.NoError(t, err)
	require.Len(t, empty.Days, 31, "zeros filled for every day")
	for _, d := range empty.Days {
		require.Equal(t, report.Totals{}, d.Totals, d.Date)
	}
	require.Nil(t, empty.Totals.CTR, "no impressions, no CTR")
	require.NotNil(t, empty.Filtered)
	require.Empty(t, empty.Filtered)
}

func TestAdDaily(t *testing.T) {
	t.Parallel()
	store, db := newStore(t, "UTC")
	write(t, db, fixture)
	days, err := store.AdDaily(context.Background(), 1, march("2026-02-27", "2026-03-04"))
	require.NoError(t, err)
	require.Equal(t, []report.Day{
		{Date: "2026-02-27", Totals: report.NewTotals(40, 0)},
		{Date: "2026-02-28", Totals: report.NewTotals(0, 4)},
		{Date: "2026-03-01", Totals: report.NewTotals(100, 5)},
		{Date: "2026-03-02", Totals: report.NewTotals(0, 0)},
		{Date: "2026-03-03", Totals: report.NewTotals(50, 1)},
		{Date: "2026-03-04", Totals: report.NewTotals(1000, 0)},
	}, days)
	require.Nil(t, days[1].CTR)
	require.Equal(t, 0.05, *days[2].CTR)
}

func TestAds(t *testing.T) {
	t.Parallel()
	store, db := newStore(t, "UTC")
	write(t, db, fixture)
	ctx := context.Background()
	r := march("2026-03-01", "2026-03-03")
	ad1 := report.AdRow{AdID: 1, Totals: report.NewTotals(150, 6), Filtered: []report.Filtered{{Reason: "crawler", Impressions: 33, Clicks: 2}}}
	ad2 := report.AdRow{AdID: 2, Totals: report.NewTotals(10, 2), Filtered: []report.Filtered{{Reason: "prefetch", Impressions: 8}, {Reason: "headless", Clicks: 1}}}
	ad3 := report.AdRow{AdID: 3, Totals: report.NewTotals(0, 7), Filtered: []report.Filtered{}}
	for _, tt := range []struct {
		sort  string
		limit int
		adID  int64
		want  []report.AdRow
	}{
		{"", 100, 0, []report.AdRow{ad1, ad2, ad3}},
		{"impressions", 100, 0, []report.AdRow{ad3, ad2, ad1}},
		{"-clicks", 100, 0, []report.AdRow{ad3, ad1, ad2}},
		{"-ctr", 100, 0, []report.AdRow{ad2, ad1, ad3}}, // no CTR last
		{"ctr", 100, 0, []report.AdRow{ad1, ad2, ad3}},  // no CTR last either way
		{"-ad_id", 2, 0, []report.AdRow{ad3, ad2}},
		{"", 100, 2, []report.AdRow{ad2}},
		{"", 100, 99, []report.AdRow{{AdID: 99, Totals: report.NewTotals(0, 0), Filtered: []report.Filtered{}}}},
	} {
		t.Run(fmt.Sprintf("sort=%s,limit=%d,ad_id=%d", tt.sort, tt.limit, tt.adID), func(t *testing.T) {
			got, err := store.Ads(ctx, r, tt.adID, tt.sort, tt.limit)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
	none, err := store.Ads(ctx, march("2025-01-01", "2025-01-02"), 0, "", 10)
	require.NoError(t, err)
	require.NotNil(t, none)
	require.Empty(t, none)
	_, err = store.Ads(ctx, r, 0, "", report.MaxAdsLimit+1)
	require.ErrorIs(t, err, report.ErrBadRequest)
	_, err = store.Ads(ctx, r, 0, "revenue", 10)
	require.ErrorIs(t, err, report.ErrBadRequest)
}

func TestPaths(t *testing.T) {
	t.Parallel()
	store, db := newStore(t, "Europe/Paris")
	write(t, db, counts{paths: map[string]int64{
		"/blog/a": 30, "/blog/b": 20, "/blog%x": 5, "/blogs": 7, "/b_og/c": 9, "/bxog/c": 8, "home": 1, "/BLOG/z": 50,
	}})
	ctx := context.Background()
	names := func(rows []report.PathRow) []string {
		var out []string
		for _, r := range rows {
			out = append(out, fmt.Sprintf("%s=%d", r.Path, r.Hits))
		}
		return out
	}
	for _, tt := range []struct {
		prefix string
		limit  int
		want   []string
	}{
		{"", 3, []string{"/BLOG/z=50", "/blog/a=30", "/blog/b=20"}},
		{"/blog/", 100, []string{"/blog/a=30", "/blog/b=20"}}, // case-sensitive, like the counters
		{"/blog", 100, []string{"/blog/a=30", "/blog/b=20", "/blogs=7", "/blog%x=5"}},
		{"/blog%", 100, []string{"/blog%x=5"}}, // % is a plain character
		{"/b_og", 100, []string{"/b_og/c=9"}},  // so is _
		{"home", 100, []string{"home=1"}},      // route names are paths too
		{"/nothing", 100, nil},
	} {
		t.Run(tt.prefix, func(t *testing.T) {
			got, err := store.Paths(ctx, tt.prefix, tt.limit)
			require.NoError(t, err)
			require.Equal(t, tt.want, names(got))
		})
	}

	p, found, err := store.Path(ctx, "/blog/a")
	require.NoError(t, err)
	require.True(t, found)
	require.EqualValues(t, 30, p.Hits)
	require.Equal(t, "2026-03-03T00:30:00+01:00", p.UpdatedAt.Format(time.RFC3339), "times in the store's zone")
	require.Equal(t, "Europe/Paris", p.UpdatedAt.Location().String())
	_, found, err = store.Path(ctx, "/blog/a ")
	require.NoError(t, err)
	require.False(t, found, "byte for byte: a trailing space is another path")
	_, _, err = store.Path(ctx, "/"+strings.Repeat("a", 255))
	require.ErrorIs(t, err, report.ErrBadRequest)
	_, err = store.Paths(ctx, "/\x01", 10)
	require.ErrorIs(t, err, report.ErrBadRequest)
}
