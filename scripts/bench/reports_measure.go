package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	reports "adly/pkg/report"
)

const (
	reportAd     = 4242 // the ad of the one-ad report
	reportAllAds = "all ads, 30 days (/api/v1/ads)"
	reportFloor  = "floor: GET /api/v1/floor, a 404 (no database)"
)

// reportTarget is one report: its request, the statements the store runs for it, and how to check its
// answer. p50 and the others hold one figure per round, in ms.
type reportTarget struct {
	key   string // what REPORTS names it by: ad, ads, paths (the floor always runs)
	name  string
	url   string
	stmts reports.Statements // nil for the floor
	check func(body []byte) error
	// status is the answer's status: 200 (when 0) for the reports; the floor asks for a route that does not
	// exist, since every route outside /api/ is the dashboard, which reads the database.
	status int

	p50, p99, bareP50, bareP99 []float64
}

// selectReports keeps the targets REPORTS names ("all": every one) and the floor.
func selectReports(all []reportTarget, names string) []reportTarget {
	if names == "all" {
		return all
	}
	keep := map[string]bool{}
	for _, n := range strings.Split(names, ",") {
		keep[strings.TrimSpace(n)] = true
	}
	var out []reportTarget
	for _, t := range all {
		if t.key == "" || keep[t.key] {
			out = append(out, t)
		}
	}
	return out
}

func reportTargets() []reportTarget {
	year := mustRange("2025-01-01", "2025-12-31")
	month := mustRange("2025-12-02", "2025-12-31")
	return []reportTarget{
		{
			key:   "ad",
			name:  "one ad's days, a year",
			url:   fmt.Sprintf("/api/v1/ads/%d/daily?from=2025-01-01&to=2025-12-31", reportAd),
			stmts: reports.AdDailyStatements(reportAd, year),
			check: checkDaily,
		},
		{
			key:   "ads",
			name:  reportAllAds,
			url:   "/api/v1/ads?from=2025-12-02&to=2025-12-31&limit=" + fmt.Sprint(reportAds),
			stmts: reports.AdsStatements(month, 0),
			check: checkAds,
		},
		{
			key:   "paths",
			name:  "top 100 paths (/api/v1/paths)",
			url:   "/api/v1/paths?limit=100",
			stmts: reports.Statements{{reports.PathsQuery("", 100)}},
			check: checkPaths,
		},
		{
			// What every answer costs before any report: HTTP over loopback, access, routing, metrics, a
			// JSON answer.
			name:   reportFloor,
			url:    "/api/v1/floor",
			status: http.StatusNotFound,
			check:  func([]byte) error { return nil },
		},
	}
}

func mustRange(from, to string) reports.Range {
	r, err := reports.ParseRange(from, to, time.Now(), time.UTC, reports.MaxDays)
	if err != nil {
		panic(err)
	}
	return r
}

// reportClient sends requests one at a time over one kept-alive connection.
type reportClient struct {
	base string
	http *http.Client
}

func newReportClient(addr string) *reportClient {
	return &reportClient{base: "http://" + addr, http: &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true},
	}}
}

// get answers the body of an answer with status want (200 when 0).
func (c *reportClient) get(ctx context.Context, path string, want int) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+reportToken)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if want == 0 {
		want = http.StatusOK
	}
	if resp.StatusCode != want {
		return nil, fmt.Errorf("GET %s: %s: %s", path, resp.Status, body)
	}
	return body, nil
}

// bare sends the statements as the store does — each kind's list on a connection of its own, both at once —
// but without a transaction, scans every row and does nothing else. It returns the rows read.
func (r *reportBench) bare(ctx context.Context, stmts reports.Statements) (int, error) {
	var g errgroup.Group
	var read [len(stmts)]int
	for i, qs := range stmts {
		if len(qs) == 0 {
			continue
		}
		g.Go(func() error {
			for _, q := range qs {
				n, err := r.scanAll(ctx, q)
				if err != nil {
					return err
				}
				read[i] += n
			}
			return nil
		})
	}
	err := g.Wait()
	return read[0] + read[1], err
}

// scanAll sends one statement and scans every row of its answer into raw bytes.
func (r *reportBench) scanAll(ctx context.Context, q reports.Query) (int, error) {
	rows, err := r.db.QueryContext(ctx, q.SQL, q.Args...)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", q.Name, err)
	}
	defer func() { _ = rows.Close() }()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	cells := make([]sql.RawBytes, len(cols))
	dest := make([]any, len(cols))
	for i := range cells {
		dest[i] = &cells[i]
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return 0, err
		}
		n++
	}
	return n, rows.Err()
}

// measure runs one round of a report: warm-up, then requests and bare runs alternately.
func (r *reportBench) measure(ctx context.Context, c *reportClient, t *reportTarget, round int) error {
	var rep, bare []time.Duration
	wantRows := -1
	for i := -reportWarm; i < r.env.Requests; i++ {
		start := time.Now()
		body, err := c.get(ctx, t.url, t.status)
		took := time.Since(start)
		if err != nil {
			return err
		}
		if i == -reportWarm && round == 1 {
			if err := t.check(body); err != nil {
				return fmt.Errorf("\n\n!!!!!!!! REPORT CHECK FAILED: %v\n!!!!!!!! These figures are not a result", err)
			}
		}
		start = time.Now()
		n, err := r.bare(ctx, t.stmts)
		bareTook := time.Since(start)
		if err != nil {
			return err
		}
		if wantRows >= 0 && n != wantRows {
			return fmt.Errorf("the bare statements read %d rows, then %d", wantRows, n)
		}
		wantRows = n
		if i >= 0 {
			rep = append(rep, took)
			bare = append(bare, bareTook)
		}
	}
	t.p50, t.p99 = append(t.p50, ms(percentile(rep, 50))), append(t.p99, ms(percentile(rep, 99)))
	t.bareP50, t.bareP99 = append(t.bareP50, ms(percentile(bare, 50))), append(t.bareP99, ms(percentile(bare, 99)))
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// The checks compare an answer with the functions the data was written with.

func checkDaily(body []byte) error {
	var a struct {
		Zone   string
		Totals reports.Totals
		Days   []reports.Day
	}
	if err := json.Unmarshal(body, &a); err != nil {
		return err
	}
	if len(a.Days) != reportDays || a.Zone != "UTC" {
		return fmt.Errorf("one ad's days: %d days in %q, want %d in UTC", len(a.Days), a.Zone, reportDays)
	}
	var imp, clk int64
	for d := int64(0); d < reportDays; d++ {
		wi, wc := reportImpressions(reportAd, d), reportClicks(reportAd, d)
		if got := a.Days[d]; got.Impressions != wi || got.Clicks != wc {
			return fmt.Errorf("one ad's days: %s holds %d/%d, want %d/%d", got.Date, got.Impressions, got.Clicks, wi, wc)
		}
		imp, clk = imp+wi, clk+wc
	}
	if a.Totals.Impressions != imp || a.Totals.Clicks != clk {
		return fmt.Errorf("one ad's totals %d/%d, want %d/%d", a.Totals.Impressions, a.Totals.Clicks, imp, clk)
	}
	return nil
}

func checkAds(body []byte) error {
	var a struct{ Ads []reports.AdRow }
	if err := json.Unmarshal(body, &a); err != nil {
		return err
	}
	if len(a.Ads) != reportAds {
		return fmt.Errorf("all ads: %d rows, want %d", len(a.Ads), reportAds)
	}
	first := int64(time.Date(2025, 12, 2, 0, 0, 0, 0, time.UTC).Sub(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)).Hours() / 24)
	for i, row := range a.Ads {
		var imp, clk int64
		for d := first; d < first+30; d++ {
			imp, clk = imp+reportImpressions(row.AdID, d), clk+reportClicks(row.AdID, d)
		}
		if row.Impressions != imp || row.Clicks != clk {
			return fmt.Errorf("all ads: ad %d holds %d/%d, want %d/%d", row.AdID, row.Impressions, row.Clicks, imp, clk)
		}
		if i > 0 && (row.Impressions > a.Ads[i-1].Impressions || row.Impressions == a.Ads[i-1].Impressions && row.AdID < a.Ads[i-1].AdID) {
			return fmt.Errorf("all ads: row %d (ad %d) is out of order", i, row.AdID)
		}
	}
	return nil
}

func checkPaths(body []byte) error {
	var a struct{ Paths []reports.PathRow }
	if err := json.Unmarshal(body, &a); err != nil {
		return err
	}
	if len(a.Paths) != 100 {
		return fmt.Errorf("top paths: %d rows, want 100", len(a.Paths))
	}
	var top int64
	for n := int64(1); n <= reportPaths; n++ {
		top = max(top, reportHits(n))
	}
	if a.Paths[0].Hits != top {
		return fmt.Errorf("top paths: the first has %d hits, want %d", a.Paths[0].Hits, top)
	}
	for i := 1; i < len(a.Paths); i++ {
		if a.Paths[i].Hits > a.Paths[i-1].Hits {
			return fmt.Errorf("top paths: row %d is out of order", i)
		}
	}
	return nil
}
