package ingest

import (
	"adly/pkg/keyspace"
	"adly/pkg/publish"
	"adly/pkg/redisconn"
	"adly/pkg/testkit"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"
)

type guardedAPI struct {
	redis  *testkit.RedisServer
	srv    *httptest.Server
	client redis.UniversalClient
	names  keyspace.Names
	guard  *publish.MemoryGuard
	reg    *prometheus.Registry
}

// newGuardedAPI serves the handler with a memory guard at share, over a private redis-server (its maxmemory
// is changed, which the shared test Redis must never see).
func newGuardedAPI(t *testing.T, share float64) *guardedAPI {
	t.Helper()
	rs := testkit.StartRedisServer(t, testkit.RedisServerOptions{})
	client := redisconn.NewClient(rs.Config(), redisconn.ClientOptions{NoRetries: true})
	t.Cleanup(func() { _ = client.Close() })
	names := keyspace.NewNames("guard:")
	reg := prometheus.NewRegistry()
	log := zaptest.NewLogger(t)
	pub := publish.NewPublisher(client, names, log, publish.NewPublisherMetrics(reg), publish.PublisherOptions{Timeout: 5 * time.Second}) // patient: the guard refuses, not a loaded machine
	guard := publish.NewMemoryGuard(client, share, 20*time.Millisecond, log, reg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = pub.Run(ctx); close(done) }()
	srv := httptest.NewServer(NewHandler(pub, log, NewMetrics(reg), HandlerOptions{Guard: guard}))
	t.Cleanup(func() { srv.Close(); cancel(); <-done })
	return &guardedAPI{redis: rs, srv: srv, client: client, names: names, guard: guard, reg: reg}
}

var guardedRequests = []struct{ method, target, body string }{
	{"GET", "/track/impression?ad_id=1", ""},
	{"POST", "/track_click.php", `{"ad_id":2}`},
	{"GET", "/track/hit?path=/a", ""},
	{"POST", "/track/batch", `[{"type":"impression","ad_id":3},{"type":"hit","path":"/b"}]`},
}

func (g *guardedAPI) send(t *testing.T, method, target, body string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, g.srv.URL+target, strings.NewReader(body))
	require.NoError(t, err)
	resp, err := g.srv.Client().Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m), "%s", raw)
	return resp.StatusCode, resp.Header, m
}

// Above its share of maxmemory the guard refuses every write (503, Retry-After, the usual JSON error) and
// nothing reaches Redis; below it, or switched off, or with no maxmemory, writes go through.
func TestMemoryGuardRefusesAboveItsShare(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		share float64
		ratio float64 // used_memory / maxmemory; 0 means no maxmemory
		want  int
	}{
		{"above the share", 0.3, 0.5, http.StatusServiceUnavailable},
		{"below the share", 0.9, 0.4, http.StatusOK},
		{"share 0 turns the guard off", 0, 0.5, http.StatusOK},
		{"share 1 turns the guard off", 1, 0.5, http.StatusOK},
		{"no maxmemory turns the guard off", 0.3, 0, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGuardedAPI(t, tt.share)
			g.redis.SetMaxMemoryFor(tt.ratio)
			g.guard.Poll(context.Background())
			require.Equal(t, tt.want == http.StatusServiceUnavailable, g.guard.Refusing())
			for _, r := range guardedRequests {
				code, header, body := g.send(t, r.method, r.target, r.body)
				require.Equal(t, tt.want, code, "%s %s: %v", r.method, r.target, body)
				if tt.want == http.StatusServiceUnavailable {
					require.Equal(t, "1", header.Get("Retry-After"))
					require.Equal(t, "error", body["status"])
					require.Contains(t, body["error"], "redis is nearly full")
				}
			}
			keys := testkit.RedisKeys(t, g.client, g.names.Prefix())
			refused := testkit.Metric(t, g.reg, "adly_api_memory_guard_refused_total")
			if tt.want == http.StatusServiceUnavailable {
				require.Empty(t, keys, "a refused request writes nothing")
				require.EqualValues(t, len(guardedRequests), refused)
			} else {
				require.NotEmpty(t, keys)
				require.Zero(t, refused)
			}
		})
	}
}

// The guard follows Redis by itself: refusing while memory is above the share, accepting again once it is
// below, with /readyz failing meanwhile (a guarded API is not ready, so load balancers back off).
func TestMemoryGuardRecoversByItselfAndFailsReadiness(t *testing.T) {
	rs := testkit.StartRedisServer(t, testkit.RedisServerOptions{})
	client := redisconn.NewClient(rs.Config(), redisconn.ClientOptions{NoRetries: true})
	defer func() { _ = client.Close() }()
	cfg := testConfig(t, rs.Config(), "guard:")
	cfg.MemoryGuard, cfg.MemoryGuardInterval = 0.3, 20*time.Millisecond
	app, err := New(cfg, zaptest.NewLogger(t), client, time.Now)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	defer func() { cancel(); require.NoError(t, <-done) }()
	base, admin := "http://"+app.Addr(), "http://"+app.AdminAddr()
	testkit.WaitServing(t, admin+"/readyz", 5*time.Second)

	rs.SetMaxMemoryFor(0.5)
	testkit.Wait(t, 5*time.Second, func() bool {
		c, _ := get(t, base+"/track/impression?ad_id=1")
		return c == http.StatusServiceUnavailable
	}, "refuses once the guard has seen the memory")
	code, body := get(t, admin+"/readyz")
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Contains(t, body, `"redis_memory"`)
	require.Equal(t, 1.0, testkit.AdminMetric(t, app.AdminAddr(), "adly_redis_memory_guard_active"))
	stream := keyspace.NewNames("guard:").ImpressionsStream()
	before := client.XLen(context.Background(), stream).Val()
	for range 5 {
		code, _ := get(t, base+"/track/impression?ad_id=1")
		require.Equal(t, http.StatusServiceUnavailable, code)
	}
	require.Equal(t, before, client.XLen(context.Background(), stream).Val(), "nothing is written while refusing")

	rs.SetMaxMemoryFor(0.1)
	testkit.Wait(t, 5*time.Second, func() bool { c, _ := get(t, base+"/track/impression?ad_id=1"); return c == http.StatusOK },
		"accepts again by itself")
	testkit.WaitServing(t, admin+"/readyz", 5*time.Second)
	require.Equal(t, before+1, client.XLen(context.Background(), stream).Val())
}

// A flood of new paths (batches of 1,000 never-seen paths, sent as a browser would) cannot fill Redis: past
// NEW_PATHS_PER_MINUTE the flood gets 429 and stores nothing, so memory stays far below the guard and every
// other site's events are still accepted. Without the bound (NEW_PATHS_PER_MINUTE=0) the same flood fills
// Redis to the guard and then every event of every site gets 503.
func TestPathFloodCannotFillRedis(t *testing.T) {
	rs := testkit.StartRedisServer(t, testkit.RedisServerOptions{})
	client := redisconn.NewClient(rs.Config(), redisconn.ClientOptions{NoRetries: true})
	defer func() { _ = client.Close() }()
	rs.SetMaxMemoryFor(0.25) // about 4× what an empty server uses: a few MB, filled by ≈ 15,000 long paths
	cfg := testConfig(t, rs.Config(), "flood:")
	cfg.MemoryGuardInterval = 20 * time.Millisecond
	cfg.NewPathsPerMinute = 2000
	app, err := New(cfg, zaptest.NewLogger(t), client, time.Now)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	defer func() { cancel(); require.NoError(t, <-done) }()
	base := "http://" + app.Addr()
	testkit.WaitServing(t, "http://"+app.AdminAddr()+"/readyz", 5*time.Second)

	send := func(method, target, body string) int {
		req, err := http.NewRequest(method, base+target, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("User-Agent", testkit.BrowserUA)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	long := strings.Repeat("x", 200)
	// The budget is per minute: the flood must never meet two minutes' budgets.
	testkit.StartOfMinuteRoom(t, 20*time.Second)
	codes := map[int]int{}
	for b := range 20 {
		var sb strings.Builder
		sb.WriteString("[")
		for i := range 1000 {
			if i > 0 {
				sb.WriteString(",")
			}
			fmt.Fprintf(&sb, `{"type":"hit","path":"/flood/%d/%d/%s"}`, b, i, long)
		}
		sb.WriteString("]")
		codes[send("POST", "/track/batch", sb.String())]++
	}
	require.Equal(t, map[int]int{http.StatusOK: 2, http.StatusTooManyRequests: 18}, codes, "two batches fit the minute's budget")
	keys := testkit.RedisKeys(t, client, "flood:analytics:hit:")
	require.Len(t, keys, 2000, "exactly the budget's new counters")
	m, err := redisconn.ReadMemory(context.Background(), client)
	require.NoError(t, err)
	require.Less(t, float64(m.Used), 0.9*float64(m.Max), "Redis stays below the guard")

	time.Sleep(100 * time.Millisecond) // the guard has looked at memory since
	require.Equal(t, http.StatusOK, send("GET", "/track/impression?ad_id=1", ""), "other sites' events still count")
	require.Equal(t, http.StatusOK, send("GET", "/track/hit?path=/flood/0/0/"+long, ""), "hits on existing paths still count")
}
