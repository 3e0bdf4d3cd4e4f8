package e2e

import (
	"adly/pkg/dashboard"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// The reports page in a real browser, at a desktop's and a phone's width, on sample figures: it is laid out
// without horizontal scrolling, styled (the inline stylesheet passes the page's content security policy),
// shows the chart drawn for the width, and fetches nothing but itself. The page and its screenshots are saved
// as artifacts (dashboard.html, dashboard-desktop.png, dashboard-phone.png) for a person to look at.
func TestDashboardPageInABrowser(t *testing.T) {
	now := time.Date(2026, 3, 30, 15, 4, 0, 0, time.UTC)
	page := dashboard.New(sampleReports{}, sampleRange, dashboard.Options{
		Now: func() time.Time { return now }, Zone: "Europe/Berlin",
	})
	srv := httptest.NewServer(page)
	t.Cleanup(srv.Close)
	const query = "/?preset=30&prefix=/"

	resp, err := http.Get(srv.URL + query)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, resp.Body.Close())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	dir := artifactsDir(t)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "dashboard.html"), body, 0o644))

	ctx := newBrowser(t, 60*time.Second)

	var mu sync.Mutex
	var requests, problems []string
	require.NoError(t, chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			requests = append(requests, e.Request.URL)
		case *log.EventEntryAdded:
			if e.Entry.Level == log.EntryLevelError || e.Entry.Level == log.EntryLevelWarning {
				problems = append(problems, e.Entry.Text)
			}
		}
	}))

	for _, tt := range []struct {
		name          string
		width, height int64
		scale         float64
		mobile        bool
		chart         string // the rendering of the chart shown at this width
	}{
		{"desktop", 1280, 800, 1, false, ".chart .wide"},
		{"phone", 390, 844, 2, true, ".chart .narrow"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(tt.scale)}
			if tt.mobile {
				opts = append(opts, chromedp.EmulateMobile, chromedp.EmulatePortrait)
			}
			mu.Lock()
			requests, problems = nil, nil
			mu.Unlock()
			require.NoError(t, chromedp.Do(ctx,
				chromedp.EmulateViewport(tt.width, tt.height, opts...),
				chromedp.Navigate(srv.URL+query),
				chromedp.WaitVisible(chromedp.CSS(tt.chart+" svg")),
			))
			eval := func(js string) string {
				v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
				require.NoError(t, err)
				return v
			}
			require.Equal(t, fmt.Sprint(tt.width), eval(`String(document.documentElement.scrollWidth)`),
				"nothing is wider than the screen")
			require.Contains(t, eval(`getComputedStyle(document.body).fontFamily`), "system-ui",
				"the inline stylesheet applies")
			require.Equal(t, "Europe/Berlin", eval(`document.querySelector('.zone strong').textContent`))
			require.NotEqual(t, "0", eval(`String(document.querySelector('`+tt.chart+` svg').getBoundingClientRect().height)`))

			png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100: PNG
			require.NoError(t, err)
			shot := filepath.Join(dir, "dashboard-"+tt.name+".png")
			require.NoError(t, os.WriteFile(shot, png, 0o644))
			t.Logf("screenshot: %s", shot)

			mu.Lock()
			defer mu.Unlock()
			for _, u := range requests {
				require.True(t, strings.HasPrefix(u, srv.URL+"/") || strings.HasPrefix(u, "data:"),
					"the page fetches nothing but itself: %s", u)
			}
			require.Empty(t, problems, "the browser reports no error (a refused stylesheet would be one)")
		})
	}
}

// sampleRange is a range rule like the reports': dates, in order, at most 366 days.
func sampleRange(from, to string) (dashboard.Range, error) {
	f, err := time.Parse(time.DateOnly, from)
	if err != nil {
		return dashboard.Range{}, fmt.Errorf("from: %q is not a date (YYYY-MM-DD)", from)
	}
	l, err := time.Parse(time.DateOnly, to)
	if err != nil {
		return dashboard.Range{}, fmt.Errorf("to: %q is not a date (YYYY-MM-DD)", to)
	}
	if l.Before(f) || l.Sub(f) > 365*24*time.Hour {
		return dashboard.Range{}, errors.New("the range must run forwards and span at most 366 days")
	}
	return dashboard.Range{From: f, To: l}, nil
}

// sampleReports are made-up figures with the shape of real ones: a weekly rhythm and a slow rise, eight ads,
// three kinds of filtered traffic, paths as the internet sends them.
type sampleReports struct{}

var sampleAds = []struct {
	id         int64
	share, ctr float64
}{{101, 0.31, 0.021}, {102, 0.22, 0.034}, {103, 0.14, 0.012}, {104, 0.11, 0.047}, {205, 0.09, 0.018},
	{206, 0.07, 0.009}, {307, 0.04, 0.052}, {4096, 0.02, 0}}

func sampleDay(t time.Time) dashboard.Totals {
	n := int64(t.Sub(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)).Hours() / 24)
	imp := 42000 + n*35 + (n*7919)%6000
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		imp = imp * 6 / 10
	}
	clk := imp * (16 + (n*37)%19) / 1000 // a click-through rate of 1.6% to 3.4%
	return totals(imp, clk)
}

func totals(imp, clk int64) dashboard.Totals {
	t := dashboard.Totals{Impressions: imp, Clicks: clk}
	if imp > 0 {
		ctr := float64(clk) / float64(imp)
		t.CTR = &ctr
	}
	return t
}

func (sampleReports) Summary(_ context.Context, r dashboard.Range, adID int64) (dashboard.Summary, error) {
	share := 1.0
	if adID != 0 {
		share = 0.1
	}
	days := int(r.To.Sub(r.From).Hours()/24) + 1
	s := dashboard.Summary{Zone: "Europe/Berlin", Range: r,
		Previous: dashboard.Range{From: r.From.AddDate(0, 0, -days), To: r.From.AddDate(0, 0, -1)}}
	var imp, clk, pimp, pclk int64
	for d := r.From; !d.After(r.To); d = d.AddDate(0, 0, 1) {
		t := sampleDay(d)
		t = totals(int64(float64(t.Impressions)*share), int64(float64(t.Clicks)*share))
		s.Days = append(s.Days, dashboard.Day{Date: d.Format(time.DateOnly), Totals: t})
		imp, clk = imp+t.Impressions, clk+t.Clicks
		p := sampleDay(d.AddDate(0, 0, -days))
		pimp, pclk = pimp+int64(float64(p.Impressions)*share*0.93), pclk+int64(float64(p.Clicks)*share*1.04)
	}
	s.Totals, s.PreviousTotals = totals(imp, clk), totals(pimp, pclk)
	s.Filtered = []dashboard.Filtered{
		{Reason: "crawler", Impressions: imp / 40, Clicks: clk / 90},
		{Reason: "headless", Impressions: imp / 130, Clicks: clk / 60},
		{Reason: "prefetch", Impressions: imp / 220},
	}
	return s, nil
}

func (r sampleReports) Ads(ctx context.Context, rng dashboard.Range, adID int64, order string, limit int) ([]dashboard.AdRow, error) {
	s, _ := r.Summary(ctx, rng, 0)
	var rows []dashboard.AdRow
	for _, a := range sampleAds {
		if adID != 0 && a.id != adID {
			continue
		}
		imp := int64(float64(s.Totals.Impressions) * a.share)
		rows = append(rows, dashboard.AdRow{AdID: a.id, Totals: totals(imp, int64(float64(imp)*a.ctr)),
			Filtered: []dashboard.Filtered{{Reason: "crawler", Impressions: imp / 40, Clicks: imp / 4000}}})
	}
	key := strings.TrimPrefix(order, "-")
	val := func(a dashboard.AdRow) float64 {
		switch key {
		case "impressions":
			return float64(a.Impressions)
		case "clicks":
			return float64(a.Clicks)
		case "ctr":
			if a.CTR == nil {
				return -1
			}
			return *a.CTR
		}
		return float64(a.AdID)
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if strings.HasPrefix(order, "-") {
			return val(rows[i]) > val(rows[j])
		}
		return val(rows[i]) < val(rows[j])
	})
	return rows[:min(limit, len(rows))], nil
}

func (sampleReports) Paths(_ context.Context, prefix string, limit int) ([]dashboard.PathRow, error) {
	synced := time.Date(2026, 3, 30, 14, 55, 0, 0, time.UTC)
	all := []dashboard.PathRow{
		{Path: "/", Hits: 1284113}, {Path: "/pricing", Hits: 402551}, {Path: "/blog/", Hits: 310442},
		{Path: "/blog/2026/03/counting-ad-impressions-exactly-once-with-redis-streams-and-mariadb", Hits: 120334},
		{Path: "/docs/getting-started", Hits: 98012}, {Path: "/signup", Hits: 77120}, {Path: "/login", Hits: 65003},
		{Path: "/docs/api/track-batch", Hits: 22871}, {Path: "/careers", Hits: 8120},
		{Path: "/<script>alert(1)</script>", Hits: 41}, {Path: "/=cmd|' /C calc'!A0", Hits: 17},
		{Path: "home", Hits: 9},
	}
	var out []dashboard.PathRow
	for _, p := range all {
		if strings.HasPrefix(p.Path, prefix) && len(out) < limit {
			p.UpdatedAt = &synced
			out = append(out, p)
		}
	}
	return out, nil
}
