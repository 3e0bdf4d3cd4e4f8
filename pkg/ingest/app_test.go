package ingest

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"adly/pkg/config"
	"adly/pkg/redisconn"
	"adly/pkg/testkit"
)

func testConfig(t *testing.T, redisCfg config.Redis, prefix string) Config {
	t.Helper()
	var cfg Config
	require.NoError(t, config.Load(&cfg))
	cfg.Redis = redisCfg
	cfg.KeyPrefix = prefix
	cfg.HTTPAddr, cfg.AdminAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.ShutdownTimeout = 5 * time.Second
	return cfg
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// On shutdown the API stops accepting, finishes the requests in flight (their events are stored and
// answered 200) and returns.
func TestAppShutdownFinishesInFlightRequests(t *testing.T) {
	direct, names := testkit.Redis(t)
	redisCfg := testkit.RedisConfig(t)
	proxy := testkit.NewProxy(t, redisCfg.Addr())
	redisCfg.Host, redisCfg.Port = "127.0.0.1", proxy.Port()
	client := redisconn.NewClient(redisCfg, redisconn.ClientOptions{NoRetries: true})
	defer func() { _ = client.Close() }()

	cfg := testConfig(t, redisCfg, names.Prefix())
	app, err := New(cfg, zaptest.NewLogger(t), client, time.Now)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- app.Run(ctx) }()
	base := "http://" + app.Addr()
	admin := "http://" + app.AdminAddr()

	require.Eventually(t, func() bool { c, _ := get(t, admin+"/readyz"); return c == http.StatusOK }, 5*time.Second, 20*time.Millisecond)
	code, body := get(t, admin+"/livez")
	require.Equal(t, http.StatusOK, code)
	require.JSONEq(t, `{"status":"ok"}`, body)

	const n = 40
	fire := func() []int {
		codes := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				resp, err := http.Get(base + "/track/impression?ad_id=" + strconv.Itoa(i+1))
				if err != nil {
					t.Errorf("request %d: %v", i, err)
					return
				}
				_ = resp.Body.Close()
				codes[i] = resp.StatusCode
			})
		}
		wg.Wait()
		return codes
	}
	fire() // warm the connections, so the delay below slows writes, not connection handshakes

	proxy.SetDelay(100 * time.Millisecond) // requests are in flight when the shutdown starts
	inFlight := make(chan []int, 1)
	go func() { inFlight <- fire() }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	codes := <-inFlight
	select {
	case err := <-runErr:
		require.NoError(t, err)
	case <-time.After(cfg.ShutdownTimeout + 2*time.Second):
		t.Fatal("Run did not return within the shutdown timeout")
	}
	ok := 0
	for _, c := range codes {
		if c == http.StatusOK {
			ok++
		}
	}
	require.Equal(t, n, ok, "every in-flight request finished with 200: %v", codes)
	require.EqualValues(t, 2*n, direct.XLen(context.Background(), names.ImpressionsStream()).Val())

	_, err = http.Get(base + "/track/impression?ad_id=1")
	require.Error(t, err, "the listener is closed")
}

func TestAppReadyzAndMetrics(t *testing.T) {
	_, names := testkit.Redis(t)
	redisCfg := testkit.RedisConfig(t)
	proxy := testkit.NewProxy(t, redisCfg.Addr())
	redisCfg.Host, redisCfg.Port = "127.0.0.1", proxy.Port()
	client := redisconn.NewClient(redisCfg, redisconn.ClientOptions{NoRetries: true})
	defer func() { _ = client.Close() }()
	app, err := New(testConfig(t, redisCfg, names.Prefix()), zaptest.NewLogger(t), client, time.Now)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	defer func() { cancel(); require.NoError(t, <-done) }()
	admin := "http://" + app.AdminAddr()

	require.Eventually(t, func() bool { c, _ := get(t, admin+"/readyz"); return c == http.StatusOK }, 5*time.Second, 20*time.Millisecond)
	code, _ := get(t, "http://"+app.Addr()+"/track/click?ad_id=3")
	require.Equal(t, http.StatusOK, code)
	code, _ = get(t, "http://"+app.Addr()+"/track/click?ad_id=x")
	require.Equal(t, http.StatusBadRequest, code)

	_, metrics := get(t, admin+"/metrics")
	for _, want := range []string{
		`adly_api_requests_total{code="200",route="click"} 1`,
		`adly_api_requests_total{code="400",route="click"} 1`,
		`adly_api_events_total{type="click"} 1`,
		`adly_api_redis_write_seconds_count 1`,
		`adly_api_redis_errors_total{reason="unavailable"} 0`,
		`go_goroutines`,
	} {
		require.Contains(t, metrics, want)
	}

	proxy.SetDown(true)
	code, body := get(t, admin+"/readyz")
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.True(t, strings.Contains(body, `"redis"`), body)
	code, _ = get(t, admin+"/livez")
	require.Equal(t, http.StatusOK, code, "liveness does not depend on Redis")
	proxy.SetDown(false)
	require.Eventually(t, func() bool { c, _ := get(t, admin+"/readyz"); return c == http.StatusOK }, 5*time.Second, 20*time.Millisecond)
}
