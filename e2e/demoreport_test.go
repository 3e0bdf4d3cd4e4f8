package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"adly/pkg/testkit"
)

// What a new user does after scripts/start.sh, with the real binaries (API, both workers, reports) sharing a
// TIMEZONE far from UTC, against the test's Redis prefix and database: in one browser, they look at the demo
// page's banners and click one; the workers count them into MariaDB, dated today in that zone; then they open
// the reports, give the user and password when the browser asks, and see their own impressions, clicks, CTR
// and chart for the last 30 days — the figures MariaDB holds — and the page's CSV exports hold the same.
func TestDemoPageToDashboard(t *testing.T) {
	loc := zoneAwayFromUTC(t, time.Now())
	env := testkit.NewEnv(t)
	httpAddr := testkit.FreeAddr(t)
	common := append(env.BinaryEnv(), "TIMEZONE="+loc.String(), "LOG_LEVEL=warn", "ADMIN_ADDR=127.0.0.1:0", "BLOCK=200ms")
	testkit.Spawn(t, testkit.Binary(t, "api"), append(common, "HTTP_ADDR="+httpAddr)...)
	testkit.Spawn(t, testkit.Binary(t, "impression-worker"), common...)
	testkit.Spawn(t, testkit.Binary(t, "click-worker"), common...)
	reports := startReport(t, env.DBConfig, loc)
	demo := "http://" + httpAddr + "/"
	testkit.WaitServing(t, demo, 60*time.Second)

	// A visitor's browser: headless Chromium says so in its User-Agent, and the API counts that apart.
	ctx := newBrowser(t, 4*time.Minute, chromedp.UserAgent(testkit.BrowserUA))
	prompts := answerBasicAuth(t, ctx, reportUser, reportPassword)
	lines := func(ad int, typ string) int {
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](
			fmt.Sprintf(`document.querySelectorAll('#log-%d [data-type=%q]').length`, ad, typ)))
		require.NoError(t, err)
		return n
	}

	todayBefore := civilToday(loc)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(demo), chromedp.WaitVisible(chromedp.CSS("#ad-101"))))
	testkit.Wait(t, 30*time.Second, func() bool { return lines(101, "impression") == 1 && lines(102, "impression") == 1 },
		"the banners in view are counted after a second")
	require.NoError(t, chromedp.Do(ctx, chromedp.ScrollIntoView(chromedp.CSS("#ad-103"))))
	testkit.Wait(t, 30*time.Second, func() bool { return lines(103, "impression") == 1 }, "the banner scrolled to is counted")
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#ad-103"))))
	testkit.Wait(t, 30*time.Second, func() bool { return lines(103, "click") == 1 }, "the click is sent")
	screenshots(t, ctx, "demo-to-report-1-demo-page")
	require.Zero(t, prompts.Load(), "the demo page asks for nothing")

	// The workers count them: three impressions, one click, dated today in the workers' zone.
	m := mariaDB{t: t, db: env.DB}
	testkit.Wait(t, 60*time.Second, func() bool {
		return m.total(todayBefore, civilToday(loc), 0) == sums{imp: 3, clk: 1}
	}, "the workers counted 3 impressions and 1 click, dated today in %s", loc)
	var counted []string
	require.NoError(t, env.DB.Select(&counted, `SELECT DISTINCT DATE_FORMAT(date, '%Y-%m-%d') FROM ad_daily_impressions`))
	require.Len(t, counted, 1)
	require.Contains(t, []string{todayBefore, civilToday(loc)}, counted[0], "dated today in %s", loc)

	// The reports, as opened from the address start.sh prints: the last 30 days, with the visitor's figures.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(reports+"/"), chromedp.WaitVisible(chromedp.CSS(".metric"))))
	require.Positive(t, prompts.Load(), "the browser was asked for the user and password")
	s := readShown(t, ctx)
	require.Contains(t, []string{todayBefore, civilToday(loc)}, s.To, "the default range ends today in %s", loc)
	require.Equal(t, map[string][2]string{
		"Impressions": {"3", "0"}, "Clicks": {"1", "0"}, "CTR": {"33.33%", "–"},
	}, s.Metrics, "the visitor's own impressions, clicks and CTR")
	require.Equal(t, [][]string{
		{"101", "1", "0", "0.00%", "0 / 0"}, {"102", "1", "0", "0.00%", "0 / 0"}, {"103", "1", "1", "100.00%", "0 / 0"},
	}, s.Ads)
	last30 := view{from: addDays(t, s.To, -29), to: s.To}
	checkShown(t, s, m, last30)
	checkExports(t, s, m, last30)
	screenshots(t, ctx, "demo-to-report-2-dashboard")
}
