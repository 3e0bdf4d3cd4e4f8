package report_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"adly/pkg/config"
	"adly/pkg/report"
	"adly/pkg/testkit"
)

// now is the tests' clock: 23:30 UTC on 3 March 2026, already 4 March in Paris.
var now = time.Date(2026, 3, 3, 23, 30, 0, 0, time.UTC)

// server is a report App running in the test process.
type server struct {
	base, admin string
	db          *sqlx.DB
	dbConfig    config.DB
}

// serve runs an App over a fresh database (or dbCfg's, when given) with the configuration edit makes.
func serve(t *testing.T, edit func(*report.Config)) *server {
	t.Helper()
	db, dbCfg := testkit.MariaDB(t)
	return serveDB(t, db, dbCfg, edit)
}

func serveDB(t *testing.T, db *sqlx.DB, dbCfg config.DB, edit func(*report.Config)) *server {
	t.Helper()
	cfg := report.Config{
		DB: dbCfg, Log: config.Log{Level: "info", Format: "json"},
		Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", Timezone: "UTC",
		QueryTimeout: 10 * time.Second, DBConns: 4,
		ReadHeaderTimeout: 5 * time.Second, IdleTimeout: time.Minute, ShutdownTimeout: 5 * time.Second,
	}
	if edit != nil {
		edit(&cfg)
	}
	require.NoError(t, cfg.Validate())
	app, err := report.New(cfg, zaptest.NewLogger(t), db, func() time.Time { return now }, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	return &server{base: "http://" + app.Addr(), admin: "http://" + app.AdminAddr(), db: db, dbConfig: dbCfg}
}

type answer struct {
	code   int
	header http.Header
	body   string
}

func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(a.body), &m), a.body)
	return m
}

func get(t *testing.T, url string, edit ...func(*http.Request)) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	for _, e := range edit {
		e(req)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return answer{resp.StatusCode, resp.Header, string(body)}
}

func TestAPIAnswers(t *testing.T) {
	t.Parallel()
	s := serve(t, func(c *report.Config) { c.Timezone = "Europe/Paris" })
	write(t, s.db, fixture)

	sum := get(t, s.base+"/api/v1/summary?from=2026-03-01&to=2026-03-03")
	require.Equal(t, http.StatusOK, sum.code, sum.body)
	require.Equal(t, "application/json", sum.header.Get("Content-Type"))
	require.Equal(t, "no-store", sum.header.Get("Cache-Control"))
	require.JSONEq(t, `{
		"status":"success","zone":"Europe/Paris",
		"range":{"from":"2026-03-01","to":"2026-03-03","days":3},
		"previous":{"from":"2026-02-26","to":"2026-02-28","days":3},
		"totals":{"impressions":160,"clicks":15,"ctr":0.09375},
		"previous_totals":{"impressions":42,"clicks":4,"ctr":0.09523809523809523},
		"days":[
			{"date":"2026-03-01","impressions":110,"clicks":7,"ctr":0.06363636363636363},
			{"date":"2026-03-02","impressions":0,"clicks":7,"ctr":null},
			{"date":"2026-03-03","impressions":50,"clicks":1,"ctr":0.02}],
		"filtered":[
			{"reason":"crawler","impressions":33,"clicks":2},
			{"reason":"prefetch","impressions":8,"clicks":0},
			{"reason":"headless","impressions":0,"clicks":1}]}`, sum.body)

	// The default range is the 30 days ending today in the zone: 4 March in Paris.
	def := get(t, s.base+"/api/v1/summary").json(t)
	require.Equal(t, map[string]any{"from": "2026-02-03", "to": "2026-03-04", "days": float64(30)}, def["range"])

	ads := get(t, s.base+"/api/v1/ads?from=2026-03-01&to=2026-03-03&sort=-ctr&limit=2")
	require.Equal(t, http.StatusOK, ads.code, ads.body)
	require.JSONEq(t, `{
		"status":"success","zone":"Europe/Paris","range":{"from":"2026-03-01","to":"2026-03-03","days":3},
		"sort":"-ctr","limit":2,
		"ads":[
			{"ad_id":2,"impressions":10,"clicks":2,"ctr":0.2,"filtered":[{"reason":"prefetch","impressions":8,"clicks":0},{"reason":"headless","impressions":0,"clicks":1}]},
			{"ad_id":1,"impressions":150,"clicks":6,"ctr":0.04,"filtered":[{"reason":"crawler","impressions":33,"clicks":2}]}]}`, ads.body)
	one := get(t, s.base+"/api/v1/ads?from=2026-03-01&to=2026-03-03&ad_id=3").json(t)
	require.EqualValues(t, 3, one["ad_id"])
	require.Equal(t, []any{map[string]any{"ad_id": float64(3), "impressions": float64(0), "clicks": float64(7), "ctr": nil, "filtered": []any{}}}, one["ads"])

	daily := get(t, s.base+"/api/v1/ads/1/daily?from=2026-03-02&to=2026-03-03")
	require.Equal(t, http.StatusOK, daily.code, daily.body)
	require.JSONEq(t, `{"status":"success","zone":"Europe/Paris","range":{"from":"2026-03-02","to":"2026-03-03","days":2},"ad_id":1,
		"totals":{"impressions":50,"clicks":1,"ctr":0.02},
		"days":[{"date":"2026-03-02","impressions":0,"clicks":0,"ctr":null},{"date":"2026-03-03","impressions":50,"clicks":1,"ctr":0.02}]}`, daily.body)

	write(t, s.db, counts{paths: map[string]int64{"/a": 3, "/b/c": 9}})
	paths := get(t, s.base+"/api/v1/paths?limit=1")
	require.Equal(t, http.StatusOK, paths.code, paths.body)
	require.JSONEq(t, `{"status":"success","zone":"Europe/Paris","prefix":"","limit":1,
		"paths":[{"path":"/b/c","hits":9,"created_at":"2026-03-01T11:00:00+01:00","updated_at":"2026-03-03T00:30:00+01:00"}]}`, paths.body)
	path := get(t, s.base+"/api/v1/path?path="+url.QueryEscape("/a"))
	require.Equal(t, http.StatusOK, path.code, path.body)
	require.JSONEq(t, `{"status":"success","zone":"Europe/Paris",
		"path":{"path":"/a","hits":3,"created_at":"2026-03-01T11:00:00+01:00","updated_at":"2026-03-03T00:30:00+01:00"}}`, path.body)
	missing := get(t, s.base+"/api/v1/path?path=/never")
	require.Equal(t, http.StatusNotFound, missing.code)
	require.Equal(t, "error", missing.json(t)["status"])

	page := get(t, s.base+"/")
	require.Equal(t, http.StatusOK, page.code)
	require.Contains(t, page.body, `href="api/v1/summary"`)
}

// Bad parameters are answered 400 with the reason; nothing is read.
func TestAPIRefusesBadParameters(t *testing.T) {
	t.Parallel()
	s := serve(t, nil)
	for _, tt := range []struct{ path, reason string }{
		{"/api/v1/summary?from=2026-02-30", `from="2026-02-30" is not a date (YYYY-MM-DD)`},
		{"/api/v1/summary?from=03/01/2026", `from="03/01/2026" is not a date (YYYY-MM-DD)`},
		{"/api/v1/ads?from=2026-03-02&to=2026-03-01", "from (2026-03-02) is after to (2026-03-01)"},
		{"/api/v1/ads/1/daily?from=2025-01-01&to=2026-01-02", "the range 2025-01-01..2026-01-02 covers 367 days; at most 366 are allowed"},
		{"/api/v1/summary?start=2026-03-01", `unknown parameter "start" (this endpoint takes from, to, ad_id, format)`},
		{"/api/v1/summary?from=2026-03-01&from=2026-03-02", "parameter from is given 2 times"},
		{"/api/v1/summary?ad_id=0", `ad_id="0": an ad ID is a whole number from 1 to 2147483647`},
		{"/api/v1/ads?ad_id=2147483648", `ad_id="2147483648": an ad ID`},
		{"/api/v1/ads/x/daily", `ad ID="x": an ad ID`},
		{"/api/v1/ads?sort=revenue", `sort="revenue": use one of impressions, clicks, ctr, ad_id`},
		{"/api/v1/ads?limit=10001", `limit="10001": use a whole number from 1 to 10000`},
		{"/api/v1/paths?limit=0", `limit="0": use a whole number from 1 to 1000`},
		{"/api/v1/paths?from=2026-03-01", `unknown parameter "from"`},
		{"/api/v1/paths?prefix=" + url.QueryEscape("/"+strings.Repeat("a", 255)), "prefix is 256 bytes long; paths have at most 255"},
		{"/api/v1/path", "path is required"},
		{"/api/v1/path?path=%2Fa%0Ab", "path contains control characters"},
		{"/api/v1/summary?format=xml", `format="xml": use json or csv`},
		{"/api/v1/summary?from=%zz", "the query string does not parse"},
	} {
		t.Run(tt.path, func(t *testing.T) {
			a := get(t, s.base+tt.path)
			require.Equal(t, http.StatusBadRequest, a.code, a.body)
			m := a.json(t)
			require.Equal(t, "error", m["status"])
			require.Contains(t, m["error"], tt.reason)
		})
	}

	nf := get(t, s.base+"/api/v1/nothing")
	require.Equal(t, http.StatusNotFound, nf.code)
	require.Equal(t, "error", nf.json(t)["status"])
	resp, err := http.Post(s.base+"/api/v1/summary", "text/plain", nil)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	require.Equal(t, "GET, HEAD", resp.Header.Get("Allow"))
}

func readCSV(t *testing.T, a answer) [][]string {
	t.Helper()
	require.Equal(t, http.StatusOK, a.code, a.body)
	require.Equal(t, "text/csv; charset=utf-8", a.header.Get("Content-Type"))
	records, err := csv.NewReader(strings.NewReader(a.body)).ReadAll()
	require.NoError(t, err)
	return records
}

func TestAPICSV(t *testing.T) {
	t.Parallel()
	s := serve(t, nil)
	write(t, s.db, fixture)
	write(t, s.db, counts{paths: map[string]int64{`=HYPERLINK("http://evil.example","x")`: 40, "+1": 30, "-2": 20, "@x": 10, "/fine": 5}})

	for _, tt := range []struct {
		path, file string
		want       [][]string
	}{
		{"/api/v1/summary?from=2026-03-01&to=2026-03-02&format=csv", "adly-summary-2026-03-01-2026-03-02.csv", [][]string{
			{"date", "impressions", "clicks", "ctr"},
			{"2026-03-01", "110", "7", "0.06363636363636363"},
			{"2026-03-02", "0", "7", ""},
		}},
		{"/api/v1/summary?from=2026-03-01&to=2026-03-01&ad_id=2&format=csv", "adly-ad-2-summary-2026-03-01-2026-03-01.csv", [][]string{
			{"date", "impressions", "clicks", "ctr"},
			{"2026-03-01", "10", "2", "0.2"},
		}},
		{"/api/v1/ads?from=2026-03-01&to=2026-03-03&format=csv", "adly-ads-2026-03-01-2026-03-03.csv", [][]string{
			{"ad_id", "impressions", "clicks", "ctr", "filtered_crawler_impressions", "filtered_crawler_clicks",
				"filtered_headless_impressions", "filtered_headless_clicks", "filtered_prefetch_impressions", "filtered_prefetch_clicks"},
			{"1", "150", "6", "0.04", "33", "2", "0", "0", "0", "0"},
			{"2", "10", "2", "0.2", "0", "0", "0", "1", "8", "0"},
			{"3", "0", "7", "", "0", "0", "0", "0", "0", "0"},
		}},
		{"/api/v1/ads/1/daily?from=2026-03-03&to=2026-03-04&format=csv", "adly-ad-1-daily-2026-03-03-2026-03-04.csv", [][]string{
			{"date", "impressions", "clicks", "ctr"},
			{"2026-03-03", "50", "1", "0.02"},
			{"2026-03-04", "1000", "0", "0"},
		}},
		{"/api/v1/paths?format=csv", "adly-paths-2026-03-03.csv", [][]string{
			{"path", "hits", "created_at", "updated_at"},
			{`'=HYPERLINK("http://evil.example","x")`, "40", "2026-03-01T10:00:00Z", "2026-03-02T23:30:00Z"},
			{"'+1", "30", "2026-03-01T10:00:00Z", "2026-03-02T23:30:00Z"},
			{"'-2", "20", "2026-03-01T10:00:00Z", "2026-03-02T23:30:00Z"},
			{"'@x", "10", "2026-03-01T10:00:00Z", "2026-03-02T23:30:00Z"},
			{"/fine", "5", "2026-03-01T10:00:00Z", "2026-03-02T23:30:00Z"},
		}},
		{"/api/v1/path?format=csv&path=" + url.QueryEscape("@x"), "adly-path-2026-03-03.csv", [][]string{
			{"path", "hits", "created_at", "updated_at"},
			{"'@x", "10", "2026-03-01T10:00:00Z", "2026-03-02T23:30:00Z"},
		}},
	} {
		t.Run(tt.path, func(t *testing.T) {
			a := get(t, s.base+tt.path)
			require.Equal(t, tt.want, readCSV(t, a))
			require.Equal(t, `attachment; filename="`+tt.file+`"`, a.header.Get("Content-Disposition"))
		})
	}
	bad := get(t, s.base+"/api/v1/summary?from=x&format=csv")
	require.Equal(t, http.StatusBadRequest, bad.code, "errors stay JSON")
	require.Equal(t, "application/json", bad.header.Get("Content-Type"))
}

// A report that outlasts REPORT_QUERY_TIMEOUT is answered 503 with the reason.
func TestAPIQueryTimeout(t *testing.T) {
	t.Parallel()
	s := serve(t, func(c *report.Config) { c.QueryTimeout = time.Nanosecond })
	for _, p := range []string{"/api/v1/summary", "/api/v1/ads", "/api/v1/ads/1/daily", "/api/v1/paths", "/api/v1/path?path=/a"} {
		a := get(t, s.base+p)
		require.Equal(t, http.StatusServiceUnavailable, a.code, "%s: %s", p, a.body)
		require.Equal(t, "the report took longer than REPORT_QUERY_TIMEOUT (1ns)", a.json(t)["error"])
	}
}
