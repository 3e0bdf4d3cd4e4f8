package e2e

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"adly/pkg/testkit"
)

// artifactsDir is where screenshots go: $ADLY_ARTIFACTS_DIR, or .run/artifacts at the repository root.
func artifactsDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("ADLY_ARTIFACTS_DIR"); d != "" {
		require.NoError(t, os.MkdirAll(d, 0o755))
		return d
	}
	d := filepath.Join(filepath.Dir(filepath.Dir(testkit.SchemaPath(t))), ".run", "artifacts")
	require.NoError(t, os.MkdirAll(d, 0o755))
	return d
}

func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatal("Chromium is needed for the browser test: apt-get install chromium (scripts/test.sh installs it)")
	return ""
}

// newBrowser starts a headless Chromium with the flags this kind of machine needs (no sandbox, no GPU, no
// background traffic of its own), a profile of the test's own and a desktop window, and returns its tab. The
// whole browser is stopped after limit, or when the test ends.
func newBrowser(t *testing.T, limit time.Duration, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	opts := append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 800),
	}, extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first Run starts the browser; it must not carry a timeout (that would stop the browser).
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate("about:blank")))
	stop := time.AfterFunc(limit, cancel)
	t.Cleanup(func() { stop.Stop() })
	return ctx
}

// answerBasicAuth makes the browser answer every HTTP authentication prompt with user and password, as a
// person types them into the dialog that a 401 with WWW-Authenticate: Basic opens. It returns the number of
// prompts answered so far.
func answerBasicAuth(t *testing.T, ctx context.Context, user, password string) *atomic.Int64 {
	t.Helper()
	var prompts atomic.Int64
	// Subscribed before Fetch is enabled: no paused request is missed.
	paused := chromedp.Events(ctx, fetch.RequestPaused)
	auth := chromedp.Events(ctx, fetch.AuthRequired)
	go func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			_, _ = chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
		}
	}()
	go func() {
		for ev, err := range auth {
			if err != nil {
				return
			}
			prompts.Add(1)
			_, _ = chromedp.Call(ctx, fetch.ContinueWithAuth, fetch.ContinueWithAuthParams{
				RequestID: ev.RequestID,
				AuthChallengeResponse: &fetch.AuthChallengeResponse{
					Response: fetch.AuthChallengeResponseResponseProvideCredentials, Username: user, Password: password,
				},
			})
		}
	}()
	yes := true
	_, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{HandleAuthRequests: &yes})
	require.NoError(t, err)
	return &prompts
}

// viewport is a screen the page is looked at on.
type viewport struct {
	name          string
	width, height int64
	scale         float64
	mobile        bool
}

var (
	desktop = viewport{"desktop", 1280, 800, 1, false}
	phone   = viewport{"phone", 390, 844, 2, true}
)

func (v viewport) emulate() chromedp.Action[chromedp.Void] {
	opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(v.scale)}
	if v.mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulatePortrait)
	}
	return chromedp.EmulateViewport(v.width, v.height, opts...)
}

// screenshots saves the whole page at a desktop's and a phone's width as <name>-desktop.png and
// <name>-phone.png in the artifacts directory, checks that nothing is wider than either screen, and leaves
// the tab at the desktop's width.
func screenshots(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := artifactsDir(t)
	for _, v := range []viewport{desktop, phone} {
		require.NoError(t, chromedp.Do(ctx, v.emulate()))
		width, err := chromedp.Run(ctx, chromedp.Evaluate[int64](`document.documentElement.scrollWidth`))
		require.NoError(t, err)
		require.Equal(t, v.width, width, "%s at a %s's width: nothing is wider than the screen", name, v.name)
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100: PNG
		require.NoError(t, err)
		shot := filepath.Join(dir, name+"-"+v.name+".png")
		require.NoError(t, os.WriteFile(shot, png, 0o644))
		t.Logf("screenshot: %s", shot)
	}
	require.NoError(t, chromedp.Do(ctx, desktop.emulate()))
}

// navigated runs act (a click, a submit) and waits until the tab shows a new document, fully loaded.
func navigated(t *testing.T, ctx context.Context, what string, act chromedp.Action[chromedp.Void]) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](`window.adlyOldPage = true`)(ctx, tg)
		return err
	}), act), what)
	waitJS(t, ctx, 30*time.Second, `!window.adlyOldPage && document.readyState === "complete"`, what)
}

// waitJS waits until the expression is true in the tab; an error (the page is between documents) is false.
func waitJS(t *testing.T, ctx context.Context, timeout time.Duration, js string, msg string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		if err == nil && ok {
			return
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			t.Fatalf("not within %v: %s (%s; last error: %v)", timeout, msg, js, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
