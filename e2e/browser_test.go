package e2e

import (
	"adly/pkg/keyspace"
	"adly/pkg/ledger"
	"adly/pkg/testkit"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// The demo page with the real tracker in a real browser: a banner out of view is not counted; one scrolled
// into view for over a second is, once; a click is counted once; the workers turn them into exact rows.
func TestBrowserTracksImpressionsAndClicksIntoMariaDB(t *testing.T) {
	prefix := testkit.Prefix(t)
	db, dbCfg := testkit.MariaDB(t)
	httpAddr := testkit.FreeAddr(t)
	common := []string{"REDIS_KEY_PREFIX=" + prefix, "DB_NAME=" + dbCfg.Name, "LOG_LEVEL=warn", "ADMIN_ADDR=127.0.0.1:0", "BLOCK=200ms"}
	testkit.Spawn(t, testkit.Binary(t, "api"), append(common, "HTTP_ADDR="+httpAddr)...)
	testkit.Spawn(t, testkit.Binary(t, "impression-worker"), common...)
	testkit.Spawn(t, testkit.Binary(t, "click-worker"), common...)
	base := "http://" + httpAddr
	testkit.WaitServing(t, base+"/", 15*time.Second)

	// Headless Chromium says so in its User-Agent, and the API counts such traffic apart (headless): this
	// test stands for a visitor's browser.
	ctx := newBrowser(t, 60*time.Second, chromedp.WindowSize(1200, 800), chromedp.UserAgent(testkit.BrowserUA))

	lines := func(ad int, typ string) int {
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](
			fmt.Sprintf(`document.querySelectorAll('#log-%d [data-type=%q]').length`, ad, typ)))
		require.NoError(t, err)
		return n
	}
	text := func(sel string) string {
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		require.NoError(t, err)
		return s
	}

	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#ad-101"))))
	testkit.Wait(t, 10*time.Second, func() bool { return lines(101, "impression") == 1 && lines(102, "impression") == 1 },
		"the banners in view are counted after a second")
	require.Contains(t, text("#log-101"), "stream_id", "the page shows the API's answer")
	// An absence cannot be waited for: watch for longer than the tracker's one-second rule.
	time.Sleep(1500 * time.Millisecond)
	require.Zero(t, lines(103, "impression"), "a banner out of view is not counted")

	names := keyspace.NewNames(prefix)
	direct, _ := testkit.Redis(t)
	msgs, err := direct.XRange(context.Background(), names.ImpressionsStream(), "-", "+").Result()
	require.NoError(t, err)
	for _, m := range msgs {
		require.NotEqual(t, "103", m.Values["ad_id"], "nothing was sent for the banner out of view")
	}

	require.NoError(t, chromedp.Do(ctx, chromedp.ScrollIntoView(chromedp.CSS("#ad-103"))))
	testkit.Wait(t, 10*time.Second, func() bool { return lines(103, "impression") == 1 }, "seen for over a second: counted")
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#ad-103"))))
	testkit.Wait(t, 10*time.Second, func() bool { return lines(103, "click") == 1 }, "the click is counted")
	require.Contains(t, text("#log-103"), "sendBeacon")

	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100: PNG
	require.NoError(t, err)
	shot := filepath.Join(artifactsDir(t), "demo-page.png")
	require.NoError(t, os.WriteFile(shot, png, 0o644))
	t.Logf("screenshot: %s", shot)

	// The workers turn them into rows: exactly one impression per banner seen, exactly one click.
	imps := ledger.NewCounter(db, ledger.Impressions, names.ImpressionsStream(), names.ImpressionGroup())
	clicks := ledger.NewCounter(db, ledger.Clicks, names.ClicksStream(), names.ClickGroup())
	total := func(c *ledger.Counter) map[int64]int64 {
		rows, err := c.Counts(context.Background())
		require.NoError(t, err)
		out := map[int64]int64{}
		for _, r := range rows {
			out[r.AdID] += r.Count
		}
		return out
	}
	wantImps, wantClicks := map[int64]int64{101: 1, 102: 1, 103: 1}, map[int64]int64{103: 1}
	testkit.Wait(t, 20*time.Second, func() bool {
		return fmt.Sprint(total(imps)) == fmt.Sprint(wantImps) && fmt.Sprint(total(clicks)) == fmt.Sprint(wantClicks)
	}, "rows in MariaDB")
	// And nothing more arrives: once per banner per page view. An absence cannot be waited for: watch for
	// longer than the tracker's one-second rule.
	time.Sleep(1500 * time.Millisecond)
	require.Equal(t, wantImps, total(imps))
	require.Equal(t, wantClicks, total(clicks))
	require.Equal(t, 1, strings.Count(text("#log-103"), "impression"))
}
