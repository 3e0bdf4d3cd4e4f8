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
	proxy, client := testkit.ProxiedRedis(t)

	cfg := testConfig(t, testkit.RedisConfig(t), names.Prefix())
	cfg.WriteTimeout = 5 * time.Second // the held writes below are answered, late
	app, err := New(cfg, zaptest.NewLogger(t), client, time.Now)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- app.Run(ctx) }()
	base := "http://" + app.Addr()
	admin := "http://" + app.AdminAddr()

	testkit.WaitServing(t, admin+"/readyz", 5*time.Second)
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

	// Every write is held a second at Redis's door; the shutdown starts once all n requests have reached
	// it, so each is in flight, in its handler.
	sent := proxy.Watch(names.ImpressionsStream())
	proxy.SetDelay(time.Second)
	inFlight := make(chan []int, 1)
	go func() { inFlight <- fire() }()
	testkit.Wait(t, 10*time.Second, func() bool { return sent() >= n }, "the %d requests reach Redis's door", n)
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
	proxy, client := testkit.ProxiedRedis(t)
	app, err := New(testConfig(t, testkit.RedisConfig(t), names.Prefix()), zaptest.NewLogger(t), client, time.Now)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	defer func() { cancel(); require.NoError(t, <-done) }()
	admin := "http://" + app.AdminAddr()

	testkit.WaitServing(t, admin+"/readyz", 5*time.Second)
	code, _ := get(t, "http://"+app.Addr()+"/track/click?ad_id=3")
	require.Equal(t, http.StatusOK, code)
	code, _ = get(t, "http://"+app.Addr()+"/track/click?ad_id=x")
	require.Equal(t, http.StatusBadRequest, code)

	for _, m := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"adly_api_requests_total", []string{"code", "200", "route", "click"}, 1},
		{"adly_api_requests_total", []string{"code", "400", "route", "click"}, 1},
		{"adly_api_events_total", []string{"type", "click"}, 1},
		{"adly_api_redis_write_seconds", nil, 1}, // a histogram: its sample count
		{"adly_api_redis_errors_total", []string{"reason", "unavailable"}, 0},
	} {
		require.Equal(t, m.want, testkit.AdminMetric(t, app.AdminAddr(), m.name, m.labels...), "%s%v", m.name, m.labels)
	}
	require.Positive(t, testkit.AdminMetric(t, app.AdminAddr(), "go_goroutines"), "the Go collector is registered")

	proxy.SetDown(true)
	code, body := get(t, admin+"/readyz")
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.True(t, strings.Contains(body, `"redis"`), body)
	code, _ = get(t, admin+"/livez")
	require.Equal(t, http.StatusOK, code, "liveness does not depend on Redis")
	proxy.SetDown(false)
	testkit.WaitServing(t, admin+"/readyz", 5*time.Second)
}
