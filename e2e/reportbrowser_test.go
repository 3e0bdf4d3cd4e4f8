package e2e

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"adly/pkg/config"
	"adly/pkg/testkit"
)

// The report user and password of the tests: HTTP Basic, so a browser asks for them.
const (
	reportUser     = "reader"
	reportPassword = "correct horse battery"
)

// startReport runs the built report binary on loopback against the test's database, with TIMEZONE and a user
// and password, and returns its base URL once it is ready.
func startReport(t *testing.T, dbCfg config.DB, loc *time.Location) string {
	t.Helper()
	addr, admin := testkit.FreeAddr(t), testkit.FreeAddr(t)
	testkit.Spawn(t, testkit.Binary(t, "report"),
		"DB_NAME="+dbCfg.Name, "TIMEZONE="+loc.String(), "LOG_LEVEL=warn",
		"REPORT_ADDR="+addr, "ADMIN_ADDR="+admin,
		"REPORT_USER="+reportUser, "REPORT_PASSWORD="+reportPassword)
	testkit.WaitReady(t, admin, 60*time.Second)
	base := "http://" + addr

	// Without the credential: 401 with the Basic challenge that makes a browser ask for them.
	resp, err := http.Get(base + "/")
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Contains(t, resp.Header.Values("WWW-Authenticate"), `Basic realm="adly reports"`)
	return base
}

// getWithCredential fetches url with the report user and password and returns the answer's body; it
// requires 200 and wantType as the Content-Type.
func getWithCredential(t *testing.T, rawURL, wantType string) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	require.NoError(t, err)
	req.SetBasicAuth(reportUser, reportPassword)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", rawURL, body)
	require.Equal(t, wantType, resp.Header.Get("Content-Type"), rawURL)
	return body
}

// shown is what the dashboard shows, read from the page in the browser.
type shown struct {
	From         string               `json:"from"` // the date inputs
	To           string               `json:"to"`
	Range        string               `json:"range"` // the heading: "2026-03-01 – 2026-03-30 (30 days)"
	AdFilter     string               `json:"adFilter"`
	Metrics      map[string][2]string `json:"metrics"` // name: value, previous
	Filtered     [][]string           `json:"filtered"`
	FilterSum    [][]string           `json:"filterSum"`
	Days         [][]string           `json:"days"`
	ChartWide    []string             `json:"chartWide"` // the hover title of each day
	ChartNarr    []string             `json:"chartNarrow"`
	Ads          [][]string           `json:"ads"`
	NoAds        string               `json:"noAds"`
	FilteredNote string               `json:"filteredNote"`
	Paths        [][]string           `json:"paths"`
	Exports      map[string]string    `json:"exports"` // section: the export link's href, resolved
}

const readPage = `(() => {
  const rows = sel => [...document.querySelectorAll(sel)].map(tr => [...tr.cells].map(c => c.textContent.trim()));
  const text = sel => { const e = document.querySelector(sel); return e ? e.textContent.trim() : ""; };
  const metrics = {};
  for (const m of document.querySelectorAll(".metric")) {
    metrics[m.querySelector("h3").textContent] =
      [m.querySelector(".value").textContent, m.querySelector(".previous").textContent.replace(/^previous: /, "")];
  }
  const exports = {};
  for (const a of document.querySelectorAll("a.export")) exports[a.closest("section").getAttribute("aria-labelledby")] = a.href;
  const noAds = [...document.querySelectorAll("section[aria-labelledby=ads-h] > p")].map(p => p.textContent).join(" ");
  return {
    from: document.querySelector("input[name=from]").value,
    to: document.querySelector("input[name=to]").value,
    range: text(".scope .range"),
    adFilter: text(".ad-filter strong"),
    metrics,
    filtered: rows("section.filtered tbody tr"),
    filterSum: rows("section.filtered tfoot tr"),
    days: rows("details table tbody tr"),
    chartWide: [...document.querySelectorAll(".chart .wide svg rect > title")].map(e => e.textContent),
    chartNarrow: [...document.querySelectorAll(".chart .narrow svg rect > title")].map(e => e.textContent),
    ads: rows("table.ads tbody tr"),
    noAds,
    filteredNote: text("section.filtered"),
    paths: rows("table.paths tbody tr"),
    exports,
  };
})()`

func readShown(t *testing.T, ctx context.Context) shown {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[shown](readPage))
	require.NoError(t, err)
	return s
}

// reasonLabels are the page's names of the reasons the test writes.
var reasonLabels = map[string]string{"crawler": "Crawler", "headless": "Headless browser"}

// view is what a page should show: a range, every ad (0) or one, and the ad table's order ("" for the
// default, most impressions first).
type view struct {
	from, to string
	ad       int64
	sort     string
}

// checkShown compares everything the page shows for the view with MariaDB's rows.
func checkShown(t *testing.T, s shown, m mariaDB, v view) {
	t.Helper()
	from, to, ad := v.from, v.to, v.ad
	days := dates(t, from, to)
	require.Equal(t, from, s.From, "the date inputs show the range")
	require.Equal(t, to, s.To)
	require.Equal(t, fmt.Sprintf("%s – %s (%d days)", from, to, len(days)), s.Range)
	if ad != 0 {
		require.Equal(t, strconv.FormatInt(ad, 10), s.AdFilter, "the page says which ad it shows")
	} else {
		require.Empty(t, s.AdFilter)
	}

	// Totals, and the previous period of the same length.
	cur := m.total(from, to, ad)
	prev := m.total(addDays(t, from, -len(days)), addDays(t, from, -1), ad)
	require.Equal(t, map[string][2]string{
		"Impressions": {commas(cur.imp), commas(prev.imp)},
		"Clicks":      {commas(cur.clk), commas(prev.clk)},
		"CTR":         {pageCTR(cur), pageCTR(prev)},
	}, s.Metrics, "totals of %s..%s, ad %d", from, to, ad)

	// Filtered traffic by reason, and its total.
	var wantFiltered [][]string
	var fsum sums
	for reason, f := range m.filtered(from, to, ad) {
		wantFiltered = append(wantFiltered, []string{reasonLabels[reason], commas(f.imp), commas(f.clk)})
		fsum.imp, fsum.clk = fsum.imp+f.imp, fsum.clk+f.clk
	}
	require.ElementsMatch(t, wantFiltered, s.Filtered, "filtered traffic")
	if len(wantFiltered) == 0 {
		require.Contains(t, s.FilteredNote, "None in this range")
	}
	if len(wantFiltered) > 0 {
		require.Equal(t, [][]string{{"Total", commas(fsum.imp), commas(fsum.clk)}}, s.FilterSum)
	}

	// Every day: the table under the chart and the chart's own figures (each day's hover title), at both widths.
	byDay := m.days(from, to, ad)
	var wantDays [][]string
	var wantTitles []string
	for _, d := range days {
		f := byDay[d]
		wantDays = append(wantDays, []string{d, commas(f.imp), commas(f.clk), pageCTR(f)})
		date, err := time.Parse(time.DateOnly, d)
		require.NoError(t, err)
		wantTitles = append(wantTitles, fmt.Sprintf("%s: %s impressions, %s clicks, CTR %s",
			date.Format("Mon 2006-01-02"), commas(f.imp), commas(f.clk), pageCTR(f)))
	}
	require.Equal(t, wantDays, s.Days, "the days under the chart")
	require.Equal(t, wantTitles, s.ChartWide, "the wide chart's days")
	require.Equal(t, wantTitles, s.ChartNarr, "the narrow chart's days")

	// CTR by ad, in the order asked for.
	var wantAds [][]string
	for _, a := range m.ads(from, to, ad, v.sort) {
		var f sums
		for _, r := range a.filtered {
			f.imp, f.clk = f.imp+r.imp, f.clk+r.clk
		}
		wantAds = append(wantAds, []string{strconv.FormatInt(a.id, 10), commas(a.imp), commas(a.clk), pageCTR(a.sums),
			commas(f.imp) + " / " + commas(f.clk)})
	}
	if len(wantAds) == 0 {
		require.Empty(t, s.Ads, "CTR by ad")
		require.Contains(t, s.NoAds, "No impressions or clicks")
		return
	}
	require.Equal(t, wantAds, s.Ads, "CTR by ad")
}

// checkExports fetches the export links the page shows (with the credential, as the browser sends it) and
// compares the CSV files with MariaDB's rows for the view.
func checkExports(t *testing.T, s shown, m mariaDB, v view) {
	t.Helper()
	from, to, ad := v.from, v.to, v.ad
	for _, section := range []string{"chart-h", "ads-h"} {
		href := s.Exports[section]
		require.NotEmpty(t, href, "the %s section has an export link", section)
		u, err := url.Parse(href)
		require.NoError(t, err)
		q := u.Query()
		require.Equal(t, "csv", q.Get("format"), href)
		require.Equal(t, from, q.Get("from"), "the export is of the range shown: %s", href)
		require.Equal(t, to, q.Get("to"), href)
		if ad != 0 {
			require.Equal(t, strconv.FormatInt(ad, 10), q.Get("ad_id"), "the export is of the ad shown: %s", href)
		} else {
			require.Empty(t, q.Get("ad_id"), href)
		}
		records, err := csv.NewReader(bytes.NewReader(getWithCredential(t, href, "text/csv; charset=utf-8"))).ReadAll()
		require.NoError(t, err, href)

		var want [][]string
		switch section {
		case "chart-h":
			want = [][]string{{"date", "impressions", "clicks", "ctr"}}
			byDay := m.days(from, to, ad)
			for _, d := range dates(t, from, to) {
				f := byDay[d]
				want = append(want, []string{d, strconv.FormatInt(f.imp, 10), strconv.FormatInt(f.clk, 10), csvCTR(f)})
			}
		case "ads-h":
			if v.sort != "" {
				require.Equal(t, v.sort, q.Get("sort"), "the export is in the order shown: %s", href)
			}
			ads := m.ads(from, to, ad, v.sort)
			var reasons []string
			for _, a := range ads {
				for r := range a.filtered {
					if !contains(reasons, r) {
						reasons = append(reasons, r)
					}
				}
			}
			sort.Strings(reasons)
			header := []string{"ad_id", "impressions", "clicks", "ctr"}
			for _, r := range reasons {
				header = append(header, "filtered_"+r+"_impressions", "filtered_"+r+"_clicks")
			}
			want = [][]string{header}
			for _, a := range ads {
				row := []string{strconv.FormatInt(a.id, 10), strconv.FormatInt(a.imp, 10), strconv.FormatInt(a.clk, 10), csvCTR(a.sums)}
				for _, r := range reasons {
					row = append(row, strconv.FormatInt(a.filtered[r].imp, 10), strconv.FormatInt(a.filtered[r].clk, 10))
				}
				want = append(want, row)
			}
		}
		require.Equal(t, want, records, "the CSV of %s", href)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// The dashboard of the real report binary, in a real browser, against rows the test wrote into MariaDB in
// the workers' zone: the browser is asked for the user and password (HTTP Basic) and gives them; the totals,
// the previous period, the filtered traffic, every day of the chart and its table, and CTR by ad equal sums
// of the test's own SQL over its rows; choosing 7, then 90 days, then dates of its own, then one ad, then an
// ad with clicks only changes every figure to the new range's sums; each time, the CSV files behind the
// page's export links hold the same numbers. Screenshots of every step at a desktop's and a phone's width go
// to the artifacts (report-<step>-desktop.png, report-<step>-phone.png).
func TestReportDashboardShowsMariaDBRowsInABrowser(t *testing.T) {
	loc := zoneAwayFromUTC(t, time.Now())
	db, dbCfg := testkit.MariaDB(t)
	today := civilToday(loc)
	writeReportRows(t, db, today)
	m := mariaDB{t: t, db: db}
	base := startReport(t, dbCfg, loc)

	ctx := newBrowser(t, 4*time.Minute)
	prompts := answerBasicAuth(t, ctx, reportUser, reportPassword)

	// Step 1: the dashboard as opened, the last 30 days ending today in TIMEZONE. If midnight passes there
	// while the test runs, the page's today is the later date: the rest of the test takes the page's.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(".metric"))))
	require.Positive(t, prompts.Load(), "the browser was asked for the user and password")
	s := readShown(t, ctx)
	require.Contains(t, []string{today, civilToday(loc)}, s.To, "the default range ends today in %s", loc)
	today = s.To
	require.Contains(t, s.Range, "(30 days)")
	require.Equal(t, loc.String(), readText(t, ctx, ".zone strong"), "the page names the zone of its dates")
	last30 := view{from: addDays(t, today, -29), to: today}
	checkShown(t, s, m, last30)
	checkExports(t, s, m, last30)
	require.Equal(t, [][]string{
		{"/", "51,234", pathsUpdated(t, "2026-03-30 14:55:00", loc)},
		{"/pricing", "1,200", pathsUpdated(t, "2026-03-30 14:55:00", loc)},
		{"/blog/counting", "300", pathsUpdated(t, "2026-03-29 23:45:00", loc)},
	}, s.Paths, "top paths: path_counters, last synced in the zone")
	var wantPaths [][]string
	rows, err := db.Query(`SELECT path, hit_count FROM path_counters ORDER BY hit_count DESC`)
	require.NoError(t, err)
	for rows.Next() {
		var path, hits string
		require.NoError(t, rows.Scan(&path, &hits))
		wantPaths = append(wantPaths, []string{path, hits})
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	records, err := csv.NewReader(bytes.NewReader(getWithCredential(t, s.Exports["paths-h"], "text/csv; charset=utf-8"))).ReadAll()
	require.NoError(t, err)
	require.Equal(t, []string{"path", "hits", "created_at", "updated_at"}, records[0])
	var gotPaths [][]string
	for _, r := range records[1:] {
		gotPaths = append(gotPaths, r[:2])
	}
	require.Equal(t, wantPaths, gotPaths, "the paths export holds path_counters")
	screenshots(t, ctx, "report-1-last-30-days")

	chosen := view{from: addDays(t, today, -104), to: addDays(t, today, -41)}
	filterAd := func(id string) chromedp.Action[chromedp.Void] {
		return chromedp.Steps(
			chromedp.SetValue(chromedp.CSS("section[aria-labelledby=ads-h] input[name=ad_id]"), id),
			chromedp.Click(chromedp.CSS("section[aria-labelledby=ads-h] form button[type=submit]")),
		)
	}
	for _, step := range []struct {
		name   string
		act    chromedp.Action[chromedp.Void] // what the person does on the page before
		preset int                            // the last days ending today: the view is read from the page's today
		view   view
		check  func(shown)
	}{
		{
			name: "2-last-7-days", act: chromedp.Click(chromedp.CSS(`.presets a[href*="preset=7"]`)), preset: 7,
			check: func(s shown) {
				require.NotContains(t, adIDs(s), "13", "ad 13 has no traffic in the last 7 days")
			},
		},
		{
			name: "3-last-90-days", act: chromedp.Click(chromedp.CSS(`.presets a[href*="preset=90"]`)), preset: 90,
			check: func(s shown) {
				require.Contains(t, adIDs(s), "13", "ad 13's traffic is older than 40 days")
				require.Contains(t, adIDs(s), "14", "an ad with clicks only is a row")
				require.NotContains(t, adIDs(s), "15", "an ad with filtered traffic only is not")
			},
		},
		{
			name: "4-dates-chosen",
			act: chromedp.Steps(
				chromedp.SetValue(chromedp.CSS("form.dates input[name=from]"), chosen.from),
				chromedp.SetValue(chromedp.CSS("form.dates input[name=to]"), chosen.to),
				chromedp.Click(chromedp.CSS("form.dates button[type=submit]")),
			),
			view: chosen,
		},
		{
			name: "5-ad-12", act: filterAd("12"),
			view:  view{from: chosen.from, to: chosen.to, ad: 12},
			check: func(s shown) { require.Equal(t, []string{"12"}, adIDs(s)) },
		},
		{
			name: "6-ad-14-clicks-only", act: filterAd("14"),
			view: view{from: chosen.from, to: chosen.to, ad: 14},
			check: func(s shown) {
				require.Equal(t, "–", s.Metrics["CTR"][0], "no impressions: no CTR")
				require.Equal(t, []string{"14"}, adIDs(s))
			},
		},
		{
			name: "7-ad-15-filtered-only", act: filterAd("15"),
			view: view{from: chosen.from, to: chosen.to, ad: 15},
			check: func(s shown) {
				require.Equal(t, "0", s.Metrics["Impressions"][0])
				require.NotEmpty(t, s.Filtered, "its filtered traffic is shown")
				require.Equal(t, []string{"15"}, adIDs(s), "the ad asked for is a row, with zeros")
			},
		},
		{
			name: "8-all-ads", act: chromedp.Click(chromedp.CSS(".ad-filter a")), // "all ads"
			view: chosen,
		},
		{
			name: "9-all-ads-by-ctr", act: chromedp.Click(chromedp.CSS(`table.ads th a[href*="sort=-ctr"]`)),
			view: view{from: chosen.from, to: chosen.to, sort: "-ctr"},
			check: func(s shown) {
				ids := adIDs(s)
				require.Equal(t, "14", ids[len(ids)-1], "an ad without impressions (no CTR) comes last")
			},
		},
	} {
		navigated(t, ctx, step.name, step.act)
		s := readShown(t, ctx)
		v := step.view
		if step.preset != 0 {
			require.Contains(t, []string{today, civilToday(loc)}, s.To, "%s: the range ends today in %s", step.name, loc)
			v = view{from: addDays(t, s.To, 1-step.preset), to: s.To}
		}
		checkShown(t, s, m, v)
		checkExports(t, s, m, v)
		if step.check != nil {
			step.check(s)
		}
		screenshots(t, ctx, "report-"+step.name)
	}
}

func adIDs(s shown) []string {
	var ids []string
	for _, row := range s.Ads {
		ids = append(ids, row[0])
	}
	return ids
}

func readText(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector(`+strconv.Quote(sel)+`).textContent`))
	require.NoError(t, err)
	return v
}

// pathsUpdated is a path_counters time (written in UTC) as the page shows it: in the zone, to the minute.
func pathsUpdated(t *testing.T, utc string, loc *time.Location) string {
	t.Helper()
	ts, err := time.Parse(time.DateTime, utc)
	require.NoError(t, err)
	return ts.In(loc).Format("2006-01-02 15:04")
}
