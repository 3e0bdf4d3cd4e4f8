package dashboard

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// memReports is Reports in memory: fixed answers, and a record of what the page asked.
type memReports struct {
	summary Summary
	ads     []AdRow
	paths   []PathRow
	err     error

	mu    sync.Mutex
	calls []string
}

func (m *memReports) record(format string, args ...any) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, fmt.Sprintf(format, args...))
}

func (m *memReports) asked() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.calls...)
}

func (m *memReports) Summary(_ context.Context, r Range, adID int64) (Summary, error) {
	m.record("summary %s %s ad=%d", formatDate(r.From), formatDate(r.To), adID)
	if m.err != nil {
		return Summary{}, m.err
	}
	s := m.summary
	s.Range = r
	return s, nil
}

func (m *memReports) Ads(_ context.Context, r Range, adID int64, sort string, limit int) ([]AdRow, error) {
	m.record("ads %s %s ad=%d sort=%s limit=%d", formatDate(r.From), formatDate(r.To), adID, sort, limit)
	return m.ads, nil
}

func (m *memReports) Paths(_ context.Context, prefix string, limit int) ([]PathRow, error) {
	m.record("paths prefix=%q limit=%d", prefix, limit)
	return m.paths, nil
}

var _ Reports = (*memReports)(nil)

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// parseRange stands for the reports' range rules: dates, in order, at most 366 days.
func parseRange(from, to string) (Range, error) {
	f, err := time.Parse(time.DateOnly, from)
	if err != nil {
		return Range{}, fmt.Errorf("from %q is not a date (YYYY-MM-DD)", from)
	}
	l, err := time.Parse(time.DateOnly, to)
	if err != nil {
		return Range{}, fmt.Errorf("to %q is not a date (YYYY-MM-DD)", to)
	}
	if l.Before(f) || l.Sub(f) > 365*24*time.Hour {
		return Range{}, errors.New("the range must run forwards and span at most 366 days")
	}
	return Range{From: f, To: l}, nil
}

// now is 2026-03-30 23:30 UTC: already 2026-03-31 in Berlin (UTC+2 since the 29th).
var now = time.Date(2026, 3, 30, 23, 30, 0, 0, time.UTC)

func sample() *memReports {
	synced := time.Date(2026, 3, 30, 21, 5, 0, 0, time.UTC)
	return &memReports{
		summary: Summary{
			Zone:           "Europe/Berlin",
			Previous:       Range{From: date("2026-02-28"), To: date("2026-03-01")},
			Totals:         Totals{Impressions: 1596783, Clicks: 40365, CTR: ptr(0.02528)},
			PreviousTotals: Totals{Impressions: 1454332, Clicks: 41454, CTR: ptr(0.02850)},
			Days: []Day{
				{Date: "2026-03-02", Totals: Totals{Impressions: 800000, Clicks: 20000, CTR: ptr(0.025)}},
				{Date: "2026-03-03", Totals: Totals{Impressions: 796783, Clicks: 20365, CTR: ptr(0.02556)}},
			},
			Filtered: []Filtered{{Reason: "crawler", Impressions: 39919, Clicks: 448}, {Reason: "<b>new</b>", Impressions: 2}},
		},
		ads: []AdRow{
			{AdID: 101, Totals: Totals{Impressions: 495002, Clicks: 10395, CTR: ptr(0.021)},
				Filtered: []Filtered{{Reason: "crawler", Impressions: 12000, Clicks: 100}, {Reason: "headless", Impressions: 375, Clicks: 23}}},
			{AdID: 4096, Totals: Totals{Impressions: 0, Clicks: 3}},
		},
		paths: []PathRow{
			{Path: "/pricing", Hits: 402551, UpdatedAt: &synced},
			{Path: "/<script>alert(1)</script>", Hits: 41},
			{Path: "=cmd|' /C calc'!A0", Hits: 17},
		},
	}
}

func newPage(r Reports, opts Options) http.Handler {
	if opts.Now == nil {
		opts.Now = func() time.Time { return now }
	}
	if opts.Zone == "" {
		opts.Zone = "Europe/Berlin"
	}
	return New(r, parseRange, opts)
}

func get(t *testing.T, h http.Handler, target string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec.Code, rec.Body.String()
}

var (
	tags   = regexp.MustCompile(`<[^>]*>`)
	spaces = regexp.MustCompile(`\s+`)
	hidden = regexp.MustCompile(`(?s)<svg.*?</svg>|<style>.*?</style>`)
	hrefRe = regexp.MustCompile(`href="([^"]*)"`)
)

// text is what a reader sees of the page outside the chart: no tags, entities decoded, spaces collapsed.
func text(body string) string {
	s := hidden.ReplaceAllString(body, " ")
	return strings.TrimSpace(spaces.ReplaceAllString(html.UnescapeString(tags.ReplaceAllString(s, " ")), " "))
}

// hrefs are the page's href values, decoded.
func hrefs(body string) []string {
	var out []string
	for _, m := range hrefRe.FindAllStringSubmatch(body, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

func TestPageShowsTheFigures(t *testing.T) {
	r := sample()
	code, body := get(t, newPage(r, Options{}), "/?from=2026-03-02&to=2026-03-03")
	require.Equal(t, http.StatusOK, code)
	got := text(body)
	for _, want := range []string{
		"2026-03-02 – 2026-03-03 (2 days)",
		"Time zone: Europe/Berlin (UTC+02:00 today)",
		"Dates are calendar days in Europe/Berlin",
		"changes against the previous 2 days, 2026-02-28 – 2026-03-01",
		// The totals with their changes: an arrow, the difference, the percentage; words for screen readers.
		"Impressions 1,596,783 ▲ up: +142,451 (+9.8%) previous: 1,454,332",
		"Clicks 40,365 ▼ down: −1,089 (−2.6%) previous: 41,454",
		"CTR 2.53% ▼ down: −0.32 pp (−11.3%) previous: 2.85%",
		// Filtered traffic by reason, named when known, with the share of all impressions.
		"2.4% of all impressions",
		"Crawler 39,919 448",
		"<b>new</b> 2 0",
		"Total 39,921 448",
		// The days, zero-filled to the range, as the chart's text alternative.
		"2026-03-02 800,000 20,000 2.50%",
		"2026-03-03 796,783 20,365 2.56%",
		// The ad table, in the order the reports gave, with filtered traffic summed over reasons.
		"101 495,002 10,395 2.10% 12,375 / 123",
		"4096 0 3 – 0 / 0",
		// Paths, their last sync in the zone.
		"/pricing 402,551 2026-03-30 23:05",
		"/<script>alert(1)</script> 41 –",
	} {
		require.Contains(t, got, want)
	}
	require.Contains(t, body, `<div class="wide"><svg`)
	require.Contains(t, body, `<div class="narrow"><svg`)
	require.Contains(t, body, `<title id="chart-wide-title">Impressions and clicks per day, 2026-03-02 to 2026-03-03</title>`)
	require.ElementsMatch(t, []string{
		"summary 2026-03-02 2026-03-03 ad=0",
		"ads 2026-03-02 2026-03-03 ad=0 sort=-impressions limit=100",
		`paths prefix="" limit=20`,
	}, r.asked())
}

func TestChangeArrows(t *testing.T) {
	for _, tt := range []struct {
		name      string
		cur, prev Totals
		want      []string
	}{
		{"up", Totals{Impressions: 200, Clicks: 10, CTR: ptr(0.05)}, Totals{Impressions: 100, Clicks: 2, CTR: ptr(0.02)},
			[]string{`<p class="change up"><span class="arrow" aria-hidden="true">▲</span> <span class="sr">up:</span> &#43;100 (&#43;100.0%)</p>`,
				`<span class="sr">up:</span> &#43;3.00 pp (&#43;150.0%)`}},
		{"down", Totals{Impressions: 50, Clicks: 1, CTR: ptr(0.02)}, Totals{Impressions: 100, Clicks: 2, CTR: ptr(0.02)},
			[]string{`<p class="change down"><span class="arrow" aria-hidden="true">▼</span> <span class="sr">down:</span> −50 (−50.0%)</p>`,
				`<p class="change flat"><span class="sr">no change:</span> 0.00 pp (0.0%)</p>`}},
		{"new", Totals{Impressions: 100, Clicks: 1, CTR: ptr(0.01)}, Totals{},
			[]string{`<span class="sr">up:</span> &#43;100 (new)</p>`, `<span class="sr">up:</span> new</p>`}},
		{"nothing either way", Totals{}, Totals{},
			[]string{`<p class="change flat"><span class="sr">no change:</span> 0 (–)</p>`, `<p class="change flat">–</p>`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := sample()
			r.summary.Totals, r.summary.PreviousTotals = tt.cur, tt.prev
			_, body := get(t, newPage(r, Options{}), "/")
			for _, want := range tt.want {
				require.Contains(t, body, want)
			}
		})
	}
}

func TestRangeFrompresetsInTheZone(t *testing.T) {
	for _, tt := range []struct {
		name, target, want string
		current            int // the preset link marked current; 0 for none
	}{
		// Berlin's today is 2026-03-31 at this instant, though UTC's is still the 30th.
		{"default", "/", "summary 2026-03-02 2026-03-31 ad=0", 30},
		{"7", "/?preset=7", "summary 2026-03-25 2026-03-31 ad=0", 7},
		{"90", "/?preset=90", "summary 2026-01-01 2026-03-31 ad=0", 90},
		{"a preset wins over dates", "/?preset=7&from=2025-01-01&to=2025-01-02", "summary 2026-03-25 2026-03-31 ad=0", 7},
		{"dates", "/?from=2026-03-25&to=2026-03-31", "summary 2026-03-25 2026-03-31 ad=0", 7},
		{"older dates", "/?from=2026-01-01&to=2026-01-07", "summary 2026-01-01 2026-01-07 ad=0", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := sample()
			code, body := get(t, newPage(r, Options{}), tt.target)
			require.Equal(t, http.StatusOK, code)
			require.Contains(t, r.asked(), tt.want)
			require.Equal(t, min(tt.current, 1), strings.Count(body, `aria-current="true"`))
			if tt.current != 0 {
				require.Contains(t, body, fmt.Sprintf(`aria-current="true">%d days</a>`, tt.current))
			}
			from, to, _ := strings.Cut(strings.TrimPrefix(tt.want, "summary "), " ")
			to, _, _ = strings.Cut(to, " ")
			require.Contains(t, body, `name="from" value="`+from+`"`, "the picker shows the range")
			require.Contains(t, body, `name="to" value="`+to+`"`)
		})
	}
	// In UTC the same instant is still the 30th.
	r := sample()
	r.summary.Zone = "UTC"
	_, body := get(t, newPage(r, Options{Zone: "UTC"}), "/?preset=7")
	require.Contains(t, r.asked(), "summary 2026-03-24 2026-03-30 ad=0")
	require.Contains(t, text(body), "(7 days) Time zone: UTC From")
	require.NotContains(t, body, "today)", "no offset to show for UTC")
	// The default preset is an option.
	r = sample()
	get(t, newPage(r, Options{DefaultPreset: 7}), "/")
	require.Contains(t, r.asked(), "summary 2026-03-25 2026-03-31 ad=0")
	// The zone the reports name is the one shown: it is the zone of their dates.
	r = sample()
	r.summary.Zone = "America/New_York"
	_, body = get(t, newPage(r, Options{}), "/")
	require.Contains(t, text(body), "Time zone: America/New_York From")
}

func TestExportLinks(t *testing.T) {
	for _, tt := range []struct {
		name, target string
		opts         Options
		want         []string
	}{
		{"all ads", "/?preset=7", Options{}, []string{
			"/api/v1/summary?format=csv&from=2026-03-25&to=2026-03-31",
			"/api/v1/ads?format=csv&from=2026-03-25&limit=100&sort=-impressions&to=2026-03-31",
			"/api/v1/paths?format=csv&limit=20",
		}},
		{"one ad, an order, a prefix", "/?from=2026-03-01&to=2026-03-02&ad_id=42&sort=ctr&prefix=/blog/", Options{}, []string{
			"/api/v1/summary?ad_id=42&format=csv&from=2026-03-01&to=2026-03-02",
			"/api/v1/ads?ad_id=42&format=csv&from=2026-03-01&limit=100&sort=ctr&to=2026-03-02",
			"/api/v1/paths?format=csv&limit=20&prefix=%2Fblog%2F",
		}},
		{"elsewhere, other limits", "/?preset=30&prefix=" + url.QueryEscape("=cmd|' /C calc'!A0"),
			Options{APIBase: "https://reports.example/api/v1", AdLimit: 5, PathLimit: 7}, []string{
				"https://reports.example/api/v1/summary?format=csv&from=2026-03-02&to=2026-03-31",
				"https://reports.example/api/v1/ads?format=csv&from=2026-03-02&limit=5&sort=-impressions&to=2026-03-31",
				"https://reports.example/api/v1/paths?format=csv&limit=7&prefix=%3Dcmd%7C%27+%2FC+calc%27%21A0",
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, body := get(t, newPage(sample(), tt.opts), tt.target)
			require.Equal(t, http.StatusOK, code)
			var exports []string
			for _, l := range hrefs(body) {
				if strings.Contains(l, "format=csv") {
					exports = append(exports, l)
				}
			}
			require.Equal(t, tt.want, exports)
		})
	}
}

func TestSortLinks(t *testing.T) {
	for _, tt := range []struct {
		sort   string
		links  []string // Ad, Impressions, Clicks, CTR
		sorted string   // the heading marked sorted
	}{
		{"", []string{"?preset=7&sort=ad_id", "?preset=7&sort=impressions", "?preset=7&sort=-clicks", "?preset=7&sort=-ctr"},
			`aria-sort="descending"><a href="?preset=7&amp;sort=impressions"><span class="long">Impressions</span>`},
		{"impressions", []string{"?preset=7&sort=ad_id", "?preset=7&sort=-impressions", "?preset=7&sort=-clicks", "?preset=7&sort=-ctr"},
			`aria-sort="ascending"><a href="?preset=7&amp;sort=-impressions">`},
		{"ad_id", []string{"?preset=7&sort=-ad_id", "?preset=7&sort=-impressions", "?preset=7&sort=-clicks", "?preset=7&sort=-ctr"},
			`aria-sort="ascending"><a href="?preset=7&amp;sort=-ad_id">Ad <span aria-hidden="true">▲</span>`},
		{"-ctr", []string{"?preset=7&sort=ad_id", "?preset=7&sort=-impressions", "?preset=7&sort=-clicks", "?preset=7&sort=ctr"},
			`aria-sort="descending"><a href="?preset=7&amp;sort=ctr">CTR <span aria-hidden="true">▼</span>`},
	} {
		t.Run(tt.sort, func(t *testing.T) {
			r := sample()
			target := "/?preset=7"
			if tt.sort != "" {
				target += "&sort=" + tt.sort
			}
			_, body := get(t, newPage(r, Options{}), target)
			var sortLinks []string
			for _, l := range hrefs(body) {
				if strings.HasPrefix(l, "?") && strings.Contains(l, "sort=") {
					sortLinks = append(sortLinks, l)
				}
			}
			require.Equal(t, tt.links, sortLinks[len(sortLinks)-4:])
			require.Equal(t, 1, strings.Count(body, "aria-sort="))
			require.Contains(t, body, tt.sorted)
			want := tt.sort
			if want == "" {
				want = defaultSort
			}
			require.Contains(t, r.asked(), "ads 2026-03-25 2026-03-31 ad=0 sort="+want+" limit=100")
		})
	}
}

func TestLinksKeepTheQuery(t *testing.T) {
	_, body := get(t, newPage(sample(), Options{}), "/?from=2026-03-01&to=2026-03-07&ad_id=9&sort=clicks&prefix=/a%26b")
	l := hrefs(body)
	require.Contains(t, l, "?ad_id=9&from=2026-03-01&prefix=%2Fa%26b&sort=-clicks&to=2026-03-07", "sort link")
	require.Contains(t, l, "?ad_id=9&prefix=%2Fa%26b&preset=30&sort=clicks", "preset link: the dates give way")
	require.Contains(t, l, "?from=2026-03-01&prefix=%2Fa%26b&sort=clicks&to=2026-03-07", "all ads")
	// Each form carries the rest of the query along, not what it sets itself.
	forms := strings.Split(body, "<form")[1:]
	require.Len(t, forms, 3)
	hidden := func(form string) string {
		var out []string
		for _, m := range regexp.MustCompile(`type="hidden" name="([^"]*)" value="([^"]*)"`).FindAllStringSubmatch(form, -1) {
			out = append(out, m[1]+"="+html.UnescapeString(m[2]))
		}
		return strings.Join(out, " ")
	}
	require.Equal(t, "ad_id=9 sort=clicks prefix=/a&b", hidden(forms[0]), "date picker")
	require.Equal(t, "from=2026-03-01 to=2026-03-07 sort=clicks prefix=/a&b", hidden(forms[1]), "ad filter")
	require.Equal(t, "from=2026-03-01 to=2026-03-07 ad_id=9 sort=clicks", hidden(forms[2]), "path filter")
}

func TestAdFilter(t *testing.T) {
	r := sample()
	code, body := get(t, newPage(r, Options{}), "/?preset=7&ad_id=101")
	require.Equal(t, http.StatusOK, code)
	require.ElementsMatch(t, []string{
		"summary 2026-03-25 2026-03-31 ad=101",
		"ads 2026-03-25 2026-03-31 ad=101 sort=-impressions limit=100",
		`paths prefix="" limit=20`,
	}, r.asked(), "the figures, the chart and the table are for the ad")
	require.Contains(t, text(body), "Ad 101 only · all ads")
	require.Contains(t, body, `name="ad_id" min="1" step="1" inputmode="numeric" value="101"`)
	require.Contains(t, hrefs(body), "?preset=7")

	r.ads = nil
	_, body = get(t, newPage(r, Options{}), "/?preset=7&ad_id=101")
	require.Contains(t, text(body), "No impressions or clicks for ad 101 in this range.")
}

func TestEscaping(t *testing.T) {
	r := sample()
	evil := `"><script>alert(1)</script>`
	_, body := get(t, newPage(r, Options{Title: "<i>reports</i>"}),
		"/?preset=7&prefix="+strings.ReplaceAll(evil, "<", "%3C"))
	require.NotContains(t, body, "<script>")
	require.NotContains(t, body, "<b>new</b>")
	require.NotContains(t, body, "<i>reports</i>")
	require.Contains(t, body, `<td class="path">/&lt;script&gt;alert(1)&lt;/script&gt;</td>`)
	require.Contains(t, body, `<td class="path">=cmd|&#39; /C calc&#39;!A0</td>`)
	require.Contains(t, body, `name="prefix" value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"`)
	require.Contains(t, body, `<td>&lt;b&gt;new&lt;/b&gt;</td>`)
	require.Contains(t, text(body), "Top paths")
	require.Contains(t, text(body), "=cmd|' /C calc'!A0 17", "shown as it is")
	for _, l := range hrefs(body) {
		require.NotContains(t, l, "<", "links are URL-encoded")
	}
}

func TestBadQuery(t *testing.T) {
	for _, tt := range []struct {
		name, target, want string
		pickerFrom         string
	}{
		{"bad date", "/?from=2026-02-30&to=2026-03-01", `from "2026-02-30" is not a date (YYYY-MM-DD)`, "2026-02-30"},
		{"backwards", "/?from=2026-03-02&to=2026-03-01", "the range must run forwards", "2026-03-02"},
		{"too long", "/?from=2024-01-01&to=2026-03-01", "at most 366 days", "2024-01-01"},
		{"only one end", "/?from=2026-03-01", `to "" is not a date`, "2026-03-01"},
		{"preset", "/?preset=14", `preset must be one of 7, 30, 90 (days), not "14"`, ""},
		{"ad_id", "/?ad_id=-3", `ad_id must be a positive whole number, not "-3"`, ""},
		{"ad_id too big", "/?ad_id=99999999999999999999", "ad_id must be a positive whole number", ""},
		{"sort", "/?sort=path", "sort must be one of ad_id, impressions, clicks, ctr, with a leading - for descending", ""},
		{"prefix", "/?prefix=/" + strings.Repeat("a", 255), "prefix must be at most 255 bytes, not 256", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := sample()
			code, body := get(t, newPage(r, Options{}), tt.target)
			require.Equal(t, http.StatusBadRequest, code)
			require.Contains(t, text(body), tt.want)
			require.Contains(t, body, `role="alert"`)
			require.Contains(t, body, `name="from" value="`+tt.pickerFrom+`"`, "the picker is there to fix it")
			require.Contains(t, body, ">7 days</a>")
			require.Contains(t, text(body), "Time zone: Europe/Berlin")
			require.NotContains(t, body, "Top paths")
			require.Empty(t, r.asked(), "nothing is read for a bad query")
		})
	}
	// Several problems are all named, and links drop the bad values.
	_, body := get(t, newPage(sample(), Options{}), "/?preset=8&ad_id=x&sort=y&prefix=/ok")
	require.Contains(t, body, "preset must be")
	require.Contains(t, body, "ad_id must be")
	require.Contains(t, body, "sort must be")
	require.Contains(t, hrefs(body), "?prefix=%2Fok&preset=7")
}

func TestReportsFail(t *testing.T) {
	core, logs := observer.New(zapcore.ErrorLevel)
	r := sample()
	r.err = errors.New("dial tcp 10.0.0.5:3306: connection refused")
	code, body := get(t, newPage(r, Options{Log: zap.New(core)}), "/?preset=7")
	require.Equal(t, http.StatusInternalServerError, code)
	require.Contains(t, text(body), "Reports unavailable The reports could not be read just now.")
	require.NotContains(t, body, "10.0.0.5", "the cause is logged, not shown")
	require.Contains(t, body, `name="from" value="2026-03-25"`, "the picker is still there, with the range")
	require.Contains(t, text(body), "2026-03-25 – 2026-03-31 (7 days) Time zone: Europe/Berlin")
	require.Equal(t, 1, logs.Len())
	entry := logs.All()[0]
	require.Equal(t, "reports failed", entry.Message)
	require.Equal(t, "summary: dial tcp 10.0.0.5:3306: connection refused", entry.ContextMap()["error"])
	require.Equal(t, "preset=7", entry.ContextMap()["query"])
}

func TestHTTP(t *testing.T) {
	h := newPage(sample(), Options{})
	for _, tt := range []struct {
		method, target string
		code           int
	}{
		{http.MethodGet, "/", http.StatusOK},
		{http.MethodHead, "/", http.StatusOK},
		{http.MethodPost, "/", http.StatusMethodNotAllowed},
		{http.MethodGet, "/favicon.ico", http.StatusNotFound},
		{http.MethodGet, "/api/v1/summary", http.StatusNotFound},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.target, nil))
		require.Equal(t, tt.code, rec.Code, "%s %s", tt.method, tt.target)
		if tt.code == http.StatusMethodNotAllowed {
			require.Equal(t, "GET, HEAD", rec.Header().Get("Allow"))
		}
	}

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	hd := rec.Header()
	require.Equal(t, "text/html; charset=utf-8", hd.Get("Content-Type"))
	require.Equal(t, "no-store", hd.Get("Cache-Control"))
	require.Equal(t, "nosniff", hd.Get("X-Content-Type-Options"))
	// The policy lets the inline stylesheet in by its hash, and nothing else: no script, no fetch.
	body := rec.Body.String()
	start, end := strings.Index(body, "<style>")+len("<style>"), strings.Index(body, "</style>")
	sum := sha256.Sum256([]byte(body[start:end]))
	require.Equal(t, "default-src 'none'; style-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'; "+
		"img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'", hd.Get("Content-Security-Policy"))
	require.NotContains(t, body, "<script")
	own := strings.ReplaceAll(body, `xmlns="http://www.w3.org/2000/svg"`, "")
	require.NotContains(t, own, "http://", "no external reference")
	require.NotContains(t, own, "https://")
}

func TestNewRefusesAnUnknownZone(t *testing.T) {
	require.PanicsWithValue(t, `dashboard: Options.Zone "Mars/Olympus": unknown time zone Mars/Olympus`, func() {
		New(sample(), parseRange, Options{Zone: "Mars/Olympus"})
	})
}
