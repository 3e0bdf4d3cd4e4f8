package ingest

import (
	"adly/pkg/keyspace"
	"adly/pkg/publish"
	"adly/pkg/testkit"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"
)

var fixedNow = time.Unix(1700000000, 0)

type fixture struct {
	srv    *httptest.Server
	client redis.UniversalClient // direct to Redis, for checks
	names  keyspace.Names
	reg    *prometheus.Registry
	proxy  *testkit.Proxy
}

// newFixture serves the handler over real HTTP, publishing to the real Redis through a proxy the test can
// slow down or cut.
func newFixture(t *testing.T, opts HandlerOptions) *fixture {
	t.Helper()
	return newFixtureTimeout(t, opts, 5*time.Second)
}

// newFixtureTimeout is newFixture with the publisher's write timeout: tests that look at the timeout set a
// short one; the others a patient one, so a loaded machine does not turn into a 503.
func newFixtureTimeout(t *testing.T, opts HandlerOptions, timeout time.Duration) *fixture {
	t.Helper()
	return newFixturePublishing(t, opts, publish.PublisherOptions{Timeout: timeout})
}

// newFixturePublishing is newFixture with the publisher's options.
func newFixturePublishing(t *testing.T, opts HandlerOptions, popts publish.PublisherOptions) *fixture {
	t.Helper()
	direct, names := testkit.Redis(t)
	proxy, client := testkit.ProxiedRedis(t)

	reg := prometheus.NewRegistry()
	log := zaptest.NewLogger(t)
	pub := publish.NewPublisher(client, names, log, publish.NewPublisherMetrics(reg), popts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = pub.Run(ctx); close(done) }()
	if opts.Now == nil {
		opts.Now = func() time.Time { return fixedNow }
	}
	srv := httptest.NewServer(NewHandler(pub, log, NewMetrics(reg), opts))
	t.Cleanup(func() { srv.Close(); cancel(); <-done })
	return &fixture{srv: srv, client: direct, names: names, reg: reg, proxy: proxy}
}

type reply struct {
	code   int
	header http.Header
	body   map[string]any
	raw    string
}

func (f *fixture) do(t *testing.T, method, target, contentType, body string, header ...string) reply {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+target, strings.NewReader(body))
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := f.srv.Client().Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	r := reply{code: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if len(raw) > 0 {
		require.NoError(t, json.Unmarshal(raw, &r.body), "every answer is JSON: %s", raw)
		require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	}
	return r
}

func (f *fixture) stream(t *testing.T, name string) []redis.XMessage {
	t.Helper()
	msgs, err := f.client.XRange(context.Background(), name, "-", "+").Result()
	require.NoError(t, err)
	return msgs
}

func TestSeedEndpointsAnswerAsTheSeed(t *testing.T) {
	t.Parallel()
	f := newFixture(t, HandlerOptions{})
	tests := []struct {
		name, method, target, contentType, body string
		stream                                  func(keyspace.Names) string
		adID                                    string
	}{
		{"impression GET", "GET", "/track_impression.php?ad_id=123", "", "", keyspace.Names.ImpressionsStream, "123"},
		{"impression POST json", "POST", "/track_impression.php", "application/json", `{"ad_id": 456}`, keyspace.Names.ImpressionsStream, "456"},
		{"impression POST form", "POST", "/track_impression.php", "application/x-www-form-urlencoded", "ad_id=457", keyspace.Names.ImpressionsStream, "457"},
		{"impression beacon", "POST", "/track/impression", "text/plain;charset=UTF-8", `{"ad_id":458}`, keyspace.Names.ImpressionsStream, "458"},
		{"click GET", "GET", "/track_click.php?ad_id=9", "", "", keyspace.Names.ClicksStream, "9"},
		{"click POST clean name", "POST", "/track/click", "application/json", `{"ad_id":"10","ts":1}`, keyspace.Names.ClicksStream, "10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do(t, tt.method, tt.target, tt.contentType, tt.body)
			require.Equal(t, http.StatusOK, r.code, r.raw)
			id, _ := r.body["stream_id"].(string)
			require.Regexp(t, `^\d+-\d+$`, id)
			require.JSONEq(t, `{"status":"success","ad_id":`+tt.adID+`,"stream_id":"`+id+`","ts":1700000000}`, r.raw)
			msgs := f.stream(t, tt.stream(f.names))
			last := msgs[len(msgs)-1]
			require.Equal(t, id, last.ID)
			require.Equal(t, map[string]any{"ad_id": tt.adID, "ts": "1700000000"}, last.Values, "server time, not the client's ts")
		})
	}
	require.Len(t, f.stream(t, f.names.ImpressionsStream()), 4)
	require.Len(t, f.stream(t, f.names.ClicksStream()), 2)
	require.Equal(t, 4.0, testkit.Metric(t, f.reg, "adly_api_requests_total", "route", "impression", "code", "200"))
}

func TestHitAndBatch(t *testing.T) {
	t.Parallel()
	f := newFixture(t, HandlerOptions{})
	ctx := context.Background()

	r := f.do(t, "GET", "/track/hit?path="+url.QueryEscape("/checking/slug?utm=x"), "", "")
	require.Equal(t, http.StatusOK, r.code, r.raw)
	require.JSONEq(t, `{"status":"success","path":"/checking/slug","ts":1700000000}`, r.raw)
	r = f.do(t, "POST", "/track/hit", "text/plain", `{"path":"/checking/slug"}`)
	require.Equal(t, http.StatusOK, r.code, r.raw)
	require.Equal(t, "2", f.client.Get(ctx, f.names.HitKey("/checking/slug")).Val())

	r = f.do(t, "POST", "/track/batch", "application/json",
		`[{"type":"impression","ad_id":1},{"type":"hit","path":"/checking/slug"},{"type":"click","ad_id":2},{"type":"impression","ad_id":3}]`)
	require.Equal(t, http.StatusOK, r.code, r.raw)
	require.EqualValues(t, 4, r.body["count"])
	require.EqualValues(t, 1700000000, r.body["ts"])
	ids := r.body["stream_ids"].([]any)
	require.Len(t, ids, 4)
	require.Equal(t, "", ids[1])
	imps := f.stream(t, f.names.ImpressionsStream())
	require.Equal(t, []string{ids[0].(string), ids[3].(string)}, []string{imps[0].ID, imps[1].ID})
	require.Equal(t, ids[2], f.stream(t, f.names.ClicksStream())[0].ID)
	require.Equal(t, "3", f.client.Get(ctx, f.names.HitKey("/checking/slug")).Val())
}

// Every bad input is refused with a clear JSON reason and leaves Redis untouched.
func TestBadInputIsRefusedAndWritesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, HandlerOptions{MaxBodyBytes: 2048})
	big := `[` + strings.Repeat(`{"type":"hit","path":"/"},`, 200) + `{"type":"hit","path":"/"}]`
	tests := []struct {
		name, method, target, contentType, body string
		code                                    int
		reason                                  string
	}{
		{"no ad_id", "GET", "/track_impression.php", "", "", 400, "ad_id is required"},
		{"zero", "GET", "/track_impression.php?ad_id=0", "", "", 400, "between 1 and 2147483647"},
		{"too big", "GET", "/track_click.php?ad_id=2147483648", "", "", 400, "between 1 and 2147483647"},
		{"text", "GET", "/track/click?ad_id=abc", "", "", 400, "between 1 and 2147483647"},
		{"bad json", "POST", "/track/impression", "application/json", `{"ad_id":`, 400, "body is not valid JSON"},
		{"conflict", "POST", "/track/impression?ad_id=1", "application/json", `{"ad_id":2}`, 400, "in the query string but"},
		{"hit without path", "GET", "/track/hit", "", "", 400, "path is required"},
		{"hit relative", "GET", "/track/hit?path=a", "", "", 400, "must start with /"},
		{"hit control", "GET", "/track/hit?path=/a%00", "", "", 400, "control character"},
		{"hit too long", "GET", "/track/hit?path=/" + strings.Repeat("x", 300), "", "", 400, "the limit is 255"},
		{"batch one bad", "POST", "/track/batch", "", `[{"type":"impression","ad_id":1},{"type":"hit","path":"/ok"},{"type":"click","ad_id":-4}]`, 400, "event 2: ad_id"},
		{"batch empty", "POST", "/track/batch", "", `[]`, 400, "batch is empty"},
		{"batch over limit", "POST", "/track/batch", "", "[" + strings.TrimSuffix(strings.Repeat(`{"type":"click","ad_id":1},`, 1001), ",") + "]", 413, "larger than the limit"},
		{"oversized body", "POST", "/track/batch", "", big, 413, "larger than the limit of 2048 bytes"},
		{"wrong method", "PUT", "/track/impression?ad_id=1", "", "", 405, "method PUT not allowed; use GET, POST"},
		{"batch GET", "GET", "/track/batch", "", "", 405, "use POST"},
		{"unknown", "GET", "/track/view?ad_id=1", "", "", 404, "no such endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do(t, tt.method, tt.target, tt.contentType, tt.body)
			require.Equal(t, tt.code, r.code, r.raw)
			require.Equal(t, "error", r.body["status"])
			require.Contains(t, r.body["error"], tt.reason)
			require.Empty(t, testkit.RedisKeys(t, f.client, f.names.Prefix()), "nothing was written")
		})
	}
	r := f.do(t, "POST", "/track/batch", "", `[{"type":"hit","path":"/"},{"type":"nope"}]`)
	require.EqualValues(t, 1, r.body["index"], "a batch error names the index")
	r = f.do(t, "DELETE", "/track/hit", "", "")
	require.Equal(t, "GET, POST, OPTIONS", r.header.Get("Allow"))
}

func TestCORS(t *testing.T) {
	t.Parallel()
	t.Run("any origin by default", func(t *testing.T) {
		f := newFixture(t, HandlerOptions{})
		r := f.do(t, "OPTIONS", "/track/click", "", "", "Origin", "https://shop.example", "Access-Control-Request-Method", "POST")
		require.Equal(t, http.StatusNoContent, r.code)
		require.Equal(t, "*", r.header.Get("Access-Control-Allow-Origin"))
		require.Equal(t, "GET, POST, OPTIONS", r.header.Get("Access-Control-Allow-Methods"))
		require.Equal(t, "Content-Type", r.header.Get("Access-Control-Allow-Headers"))
		r = f.do(t, "GET", "/track/click?ad_id=1", "", "", "Origin", "https://shop.example")
		require.Equal(t, "*", r.header.Get("Access-Control-Allow-Origin"))
	})
	t.Run("configured origins", func(t *testing.T) {
		f := newFixture(t, HandlerOptions{AllowedOrigins: []string{"https://a.example", "https://b.example"}})
		r := f.do(t, "OPTIONS", "/track/batch", "", "", "Origin", "https://b.example")
		require.Equal(t, http.StatusNoContent, r.code)
		require.Equal(t, "https://b.example", r.header.Get("Access-Control-Allow-Origin"))
		require.Equal(t, "POST, OPTIONS", r.header.Get("Access-Control-Allow-Methods"))
		require.Contains(t, r.header.Values("Vary"), "Origin")
		r = f.do(t, "OPTIONS", "/track/batch", "", "", "Origin", "https://evil.example")
		require.Equal(t, http.StatusForbidden, r.code)
		require.Empty(t, r.header.Get("Access-Control-Allow-Origin"))
		require.Empty(t, testkit.RedisKeys(t, f.client, f.names.Prefix()))
	})
	t.Run("origins enforced on every request", func(t *testing.T) {
		f := newFixture(t, HandlerOptions{AllowedOrigins: []string{"https://Good.example/"}})
		refused := []struct {
			name, method, path, ctype, body string
			headers                         []string
		}{
			{"simple GET from a foreign page", "GET", "/track_impression.php?ad_id=1", "", "", []string{"Origin", "https://evil.example"}},
			{"text/plain POST (sendBeacon)", "POST", "/track/click", "text/plain", `{"ad_id":1}`, []string{"Origin", "https://evil.example"}},
			{"batch", "POST", "/track/batch", "application/json", `[{"type":"hit","path":"/x"}]`, []string{"Origin", "https://evil.example"}},
			{"foreign Referer without Origin", "GET", "/track/hit?path=/x", "", "", []string{"Referer", "https://evil.example/page?a=1"}},
			{"lookalike host", "GET", "/track/click?ad_id=1", "", "", []string{"Referer", "https://good.example.evil.example/"}},
			{"Referer that names no site", "GET", "/track/click?ad_id=1", "", "", []string{"Referer", "/relative"}},
			{"Origin null", "GET", "/track/click?ad_id=1", "", "", []string{"Origin", "null"}},
			{"neither header (default refuses)", "GET", "/track/click?ad_id=1", "", "", nil},
		}
		for _, tt := range refused {
			r := f.do(t, tt.method, tt.path, tt.ctype, tt.body, tt.headers...)
			require.Equal(t, http.StatusForbidden, r.code, tt.name)
			require.Contains(t, r.body["error"], "origin not allowed", tt.name)
		}
		require.Empty(t, testkit.RedisKeys(t, f.client, f.names.Prefix()), "a refused request stores nothing")

		r := f.do(t, "GET", "/track/click?ad_id=1", "", "", "Origin", "https://good.example")
		require.Equal(t, http.StatusOK, r.code, r.raw)
		require.Equal(t, "https://good.example", r.header.Get("Access-Control-Allow-Origin"))
		r = f.do(t, "GET", "/track/click?ad_id=1", "", "", "Referer", "https://GOOD.example/some/page")
		require.Equal(t, http.StatusOK, r.code, r.raw)
		require.Len(t, f.stream(t, f.names.ClicksStream()), 2)
	})
	t.Run("requests without origin allowed when configured", func(t *testing.T) {
		f := newFixture(t, HandlerOptions{AllowedOrigins: []string{"https://good.example"}, AllowNoOrigin: true})
		require.Equal(t, http.StatusOK, f.do(t, "GET", "/track/click?ad_id=1", "", "").code)
		require.Equal(t, http.StatusForbidden, f.do(t, "GET", "/track/click?ad_id=1", "", "", "Origin", "https://evil.example").code)
		require.Len(t, f.stream(t, f.names.ClicksStream()), 1)
	})
}

func TestRedisDownAnswers503QuicklyAndRecovers(t *testing.T) {
	f := newFixtureTimeout(t, HandlerOptions{}, 300*time.Millisecond)
	r := f.do(t, "GET", "/track/click?ad_id=5", "", "")
	require.Equal(t, http.StatusOK, r.code)

	f.proxy.SetDown(true)
	start := time.Now()
	r = f.do(t, "GET", "/track/click?ad_id=5", "", "")
	require.Less(t, time.Since(start), time.Second, "bounded by the write timeout, never hangs")
	require.Equal(t, http.StatusServiceUnavailable, r.code, r.raw)
	require.Equal(t, "1", r.header.Get("Retry-After"))
	require.Contains(t, r.body["error"], "redis unavailable")

	f.proxy.SetDelay(time.Second) // slow rather than gone
	f.proxy.SetDown(false)
	start = time.Now()
	r = f.do(t, "POST", "/track/batch", "", `[{"type":"click","ad_id":5},{"type":"hit","path":"/p"}]`)
	require.Less(t, time.Since(start), time.Second)
	require.Equal(t, http.StatusServiceUnavailable, r.code, r.raw)

	f.proxy.SetDelay(0)
	testkit.Wait(t, 5*time.Second, func() bool {
		return f.do(t, "GET", "/track/click?ad_id=5", "", "").code == http.StatusOK
	}, "recovers by itself")
	f.proxy.Settle(t, 5*time.Second) // the delayed batch has reached Redis: it must have been refused there
	require.Len(t, f.stream(t, f.names.ClicksStream()), 2, "exactly the two requests answered 200")
	require.EqualValues(t, 0, f.client.Exists(context.Background(), f.names.HitKey("/p")).Val())
}
