package ingest

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"adly/pkg/limits"
	"adly/pkg/publish"
	"adly/pkg/screen"
	"adly/pkg/testkit"
)

const chromeUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

func TestRateLimitPerClient(t *testing.T) {
	t.Parallel()
	clock := testkit.NewClock(fixedNow)
	limiter, err := limits.NewLimiter(limits.LimiterOptions{Rate: 1, Burst: 2, MaxClients: 100, Now: clock.Now})
	require.NoError(t, err)
	f := newFixture(t, HandlerOptions{Limiter: limiter, Clients: limits.NewClientAddr(limits.DefaultTrustedProxies)})
	from := func(addr string) []string { return []string{"X-Forwarded-For", addr, "User-Agent", chromeUA} }

	for i := range 2 {
		r := f.do(t, "GET", "/track/click?ad_id=1", "", "", from("203.0.113.7")...)
		require.Equal(t, http.StatusOK, r.code, "request %d is within the burst: %s", i, r.raw)
	}
	r := f.do(t, "POST", "/track/batch", "application/json", `[{"type":"click","ad_id":1}]`, from("203.0.113.7")...)
	require.Equal(t, http.StatusTooManyRequests, r.code, r.raw)
	require.Equal(t, "1", r.header.Get("Retry-After"))
	require.Contains(t, r.body["error"], "too many requests")
	require.Len(t, f.stream(t, f.names.ClicksStream()), 2, "a refused request stores nothing")
	require.EqualValues(t, 1, testkit.Metric(t, f.reg, "adly_api_rate_limited_total"))
	require.EqualValues(t, 1, testkit.Metric(t, f.reg, "adly_api_requests_total", "route", "batch", "code", "429"))

	require.Equal(t, http.StatusOK, f.do(t, "GET", "/track/click?ad_id=1", "", "", from("198.51.100.9")...).code,
		"another client has its own bucket")
	require.Equal(t, http.StatusOK, f.do(t, "GET", "/track/click?ad_id=1", "", "", "User-Agent", chromeUA).code,
		"a trusted proxy without X-Forwarded-For stands for every visitor behind it: not limited")
	require.Equal(t, http.StatusOK, f.do(t, "GET", "/track/click?ad_id=1", "", "", "User-Agent", chromeUA).code)
	require.Equal(t, http.StatusOK, f.do(t, "GET", "/track/click?ad_id=1", "", "", "User-Agent", chromeUA).code)

	clock.Advance(time.Second)
	require.Equal(t, http.StatusOK, f.do(t, "GET", "/track/click?ad_id=1", "", "", from("203.0.113.7")...).code,
		"one token back after a second")
	require.Len(t, f.stream(t, f.names.ClicksStream()), 7)
}

func TestAllowedAdIDsAndPaths(t *testing.T) {
	t.Parallel()
	ads, err := limits.ParseAdIDRanges("1-100,500")
	require.NoError(t, err)
	paths, err := limits.ParsePathPatterns("/,/blog/*,/docs/**")
	require.NoError(t, err)
	f := newFixture(t, HandlerOptions{AdIDs: ads, Paths: paths})
	tests := []struct {
		name, method, target, ctype, body string
		code                              int
		reason                            string
	}{
		{"ad in range", "GET", "/track/impression?ad_id=100", "", "", http.StatusOK, ""},
		{"single ad", "GET", "/track_click.php?ad_id=500", "", "", http.StatusOK, ""},
		{"ad out of range", "GET", "/track/impression?ad_id=101", "", "", http.StatusBadRequest, "ad_id 101 is not allowed here (ALLOWED_AD_IDS)"},
		{"huge ad", "POST", "/track/click", "application/json", `{"ad_id":2147483647}`, http.StatusBadRequest, "ALLOWED_AD_IDS"},
		{"path allowed", "GET", "/track/hit?path=/blog/post-1", "", "", http.StatusOK, ""},
		{"subtree", "GET", "/track/hit?path=/docs/a/b", "", "", http.StatusOK, ""},
		{"path refused", "GET", "/track/hit?path=/wp-admin/x", "", "", http.StatusBadRequest, `path "/wp-admin/x" is not allowed here (ALLOWED_PATHS)`},
		{"star is one segment", "GET", "/track/hit?path=/blog/a/b", "", "", http.StatusBadRequest, "ALLOWED_PATHS"},
		{"batch refused whole, naming the event", "POST", "/track/batch", "application/json",
			`[{"type":"impression","ad_id":1},{"type":"hit","path":"/nope"}]`, http.StatusBadRequest, "event 1: path"},
	}
	for _, tt := range tests {
		r := f.do(t, tt.method, tt.target, tt.ctype, tt.body, "User-Agent", chromeUA)
		require.Equal(t, tt.code, r.code, "%s: %s", tt.name, r.raw)
		if tt.reason != "" {
			require.Contains(t, r.body["error"], tt.reason, tt.name)
		}
	}
	require.Len(t, f.stream(t, f.names.ImpressionsStream()), 1, "only the admitted impression")
	require.Len(t, f.stream(t, f.names.ClicksStream()), 1)
	require.ElementsMatch(t, []string{f.names.ImpressionsStream(), f.names.ClicksStream(), f.names.HitKey("/blog/post-1"), f.names.HitKey("/docs/a/b")},
		nonReceiptKeys(t, f))
}

func TestInvalidTrafficIsLabelledNotRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t, HandlerOptions{Screen: screen.New(screen.Options{})})
	bot := []string{"User-Agent", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}

	valid := f.do(t, "GET", "/track/impression?ad_id=7", "", "", "User-Agent", chromeUA)
	require.Equal(t, http.StatusOK, valid.code, valid.raw)
	crawler := f.do(t, "GET", "/track/impression?ad_id=7", "", "", bot...)
	require.Equal(t, http.StatusOK, crawler.code, crawler.raw)
	require.Equal(t, valid.body["status"], crawler.body["status"], "the client gets the same answer")
	prefetch := f.do(t, "POST", "/track/click", "text/plain", `{"ad_id":7}`, "User-Agent", chromeUA, "Sec-Purpose", "prefetch;prerender")
	require.Equal(t, http.StatusOK, prefetch.code, prefetch.raw)
	hit := f.do(t, "GET", "/track/hit?path=/from-a-bot", "", "", "User-Agent", "curl/8.5.0")
	require.Equal(t, http.StatusOK, hit.code, hit.raw)
	require.Equal(t, "/from-a-bot", hit.body["path"])
	batch := f.do(t, "POST", "/track/batch", "application/json",
		`[{"type":"hit","path":"/x"},{"type":"click","ad_id":8},{"type":"impression","ad_id":9}]`, "User-Agent", "")
	require.Equal(t, http.StatusOK, batch.code, batch.raw)
	ids := batch.body["stream_ids"].([]any)
	require.Equal(t, "", ids[0])
	require.NotEmpty(t, ids[1])
	require.NotEmpty(t, ids[2])

	imps := f.stream(t, f.names.ImpressionsStream())
	require.Len(t, imps, 3)
	require.NotContains(t, imps[0].Values, "ivt", "a valid event is written as the seed wrote it")
	require.Equal(t, "crawler", imps[1].Values["ivt"])
	require.Equal(t, "no_user_agent", imps[2].Values["ivt"])
	clicks := f.stream(t, f.names.ClicksStream())
	require.Len(t, clicks, 2)
	require.Equal(t, "prefetch", clicks[0].Values["ivt"])
	require.Equal(t, "no_user_agent", clicks[1].Values["ivt"])
	require.Empty(t, f.client.Keys(t.Context(), f.names.HitKey("*")).Val(), "invalid hits create no path key")

	for _, m := range []struct {
		typ, reason string
		want        float64
	}{{"impression", "crawler", 1}, {"click", "prefetch", 1}, {"hit", "crawler", 1}, {"hit", "no_user_agent", 1}, {"click", "no_user_agent", 1}, {"impression", "no_user_agent", 1}} {
		require.EqualValues(t, m.want, testkit.Metric(t, f.reg, "adly_api_filtered_events_total", "type", m.typ, "reason", m.reason), "%s %s", m.typ, m.reason)
	}
}

// nonReceiptKeys lists the test's Redis keys other than publish receipts.
func nonReceiptKeys(t *testing.T, f *fixture) []string {
	t.Helper()
	var out []string
	for _, k := range testkit.RedisKeys(t, f.client, f.names.Prefix()) {
		if !strings.Contains(k, "adly:receipt:") {
			out = append(out, k)
		}
	}
	return out
}

func TestRetriedEventIDIsStoredOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, HandlerOptions{})
	const eid = "3f1c2a9e-7b4d-4c1e-9a2b-0c3d4e5f6a7b"
	first := f.do(t, "POST", "/track/impression", "text/plain", `{"ad_id":5,"event_id":"`+eid+`"}`)
	require.Equal(t, http.StatusOK, first.code, first.raw)
	for _, retry := range []struct{ method, target, ctype, body string }{
		{"POST", "/track/impression", "text/plain", `{"ad_id":5,"event_id":"` + eid + `"}`},
		{"GET", "/track_impression.php?ad_id=5&event_id=" + strings.ToUpper(eid), "", ""},
	} {
		r := f.do(t, retry.method, retry.target, retry.ctype, retry.body)
		require.Equal(t, http.StatusOK, r.code, r.raw)
		require.Equal(t, first.body["stream_id"], r.body["stream_id"], "a retry gets the first write's stream id")
	}
	batch := f.do(t, "POST", "/track/batch", "application/json",
		`[{"type":"impression","ad_id":5,"event_id":"`+eid+`"},{"type":"impression","ad_id":6,"event_id":"AbCdEfGh_-012345"},{"type":"impression","ad_id":6,"event_id":"AbCdEfGh_-012345"}]`)
	require.Equal(t, http.StatusOK, batch.code, batch.raw)
	ids := batch.body["stream_ids"].([]any)
	require.Equal(t, first.body["stream_id"], ids[0])
	require.Equal(t, ids[1], ids[2], "one event_id twice in a batch is one event")
	require.Len(t, f.stream(t, f.names.ImpressionsStream()), 2, "two distinct events stored, each once")
	bad := f.do(t, "GET", "/track/click?ad_id=5&event_id=not-an-id", "", "")
	require.Equal(t, http.StatusBadRequest, bad.code)
	require.Contains(t, bad.body["error"], "event_id")
}

func TestNewPathsPerMinuteAnswers429(t *testing.T) {
	t.Parallel()
	f := newFixturePublishing(t, HandlerOptions{}, publish.PublisherOptions{Timeout: 5 * time.Second, NewPathsPerMinute: 2})
	testkit.StartOfMinuteRoom(t, 10*time.Second) // the budget is per minute: the requests share one
	require.Equal(t, http.StatusOK, f.do(t, "GET", "/track/hit?path=/a", "", "").code)
	require.Equal(t, http.StatusOK, f.do(t, "GET", "/track/hit?path=/b", "", "").code)
	r := f.do(t, "POST", "/track/batch", "application/json", `[{"type":"click","ad_id":1},{"type":"hit","path":"/c"}]`)
	require.Equal(t, http.StatusTooManyRequests, r.code, r.raw)
	require.NotEmpty(t, r.header.Get("Retry-After"))
	require.Contains(t, r.body["error"], "new paths a minute")
	require.Equal(t, http.StatusOK, f.do(t, "GET", "/track/hit?path=/a", "", "").code, "an existing counter always passes")
	require.Empty(t, f.stream(t, f.names.ClicksStream()), "the refused batch stored nothing")
	require.EqualValues(t, 0, f.client.Exists(t.Context(), f.names.HitKey("/c")).Val())
	require.Equal(t, "2", f.client.Get(t.Context(), f.names.HitKey("/a")).Val())
}
