package tracking

import (
	"adly/pkg/hits"
	"adly/pkg/keyspace"
	"adly/pkg/publish"
	"adly/pkg/redisconn"
	"adly/pkg/testkit"
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"
)

func app() *http.ServeMux {
	mux := http.NewServeMux()
	ok := func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }
	mux.HandleFunc("GET /checking/{slug}", ok)
	mux.HandleFunc("/plain/", ok)
	mux.HandleFunc("/admin/", ok)
	mux.HandleFunc("/created", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusCreated) })
	mux.HandleFunc("/silent", func(http.ResponseWriter, *http.Request) {}) // writes nothing: an implicit 200
	return mux
}

// run serves the app wrapped by the middleware; stop flushes. The middleware's metrics are in the returned
// registry.
func run(t *testing.T, client redis.UniversalClient, names keyspace.Names, opts Options) (*httptest.Server, *prometheus.Registry, func()) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m := New(hits.NewHitCounters(client, names), zaptest.NewLogger(t), reg, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = m.Run(ctx); close(done) }()
	srv := httptest.NewServer(m.Wrap(app()))
	stop := func() { srv.Close(); cancel(); <-done }
	t.Cleanup(func() {
		select {
		case <-done:
		default:
			stop()
		}
	})
	return srv, reg, stop
}

// patient is the write timeout of tests that count hits exactly: the default (20 ms) drops hits on a loaded
// machine, which is what it is for, but not what these tests look at.
const patient = 5 * time.Second

func hit(t *testing.T, srv *httptest.Server, method, path string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	require.NoError(t, err)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
}

func TestCountsSuccessfulGETsOnPatternOrPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		opts   Options
		want   map[string]string
		absent []string
	}{
		{
			name:   "pattern, falling back to the path",
			opts:   Options{Exclude: []string{"/admin/"}, Timeout: patient},
			want:   map[string]string{"/checking/{slug}": "3", "/plain/": "1", "/silent": "1"},
			absent: []string{"/checking/a", "/plain/x", "/admin/", "/admin/users", "/created", "/nope"},
		},
		{
			name:   "URL path",
			opts:   Options{Source: URLPath, Exclude: []string{"/admin/"}, Timeout: patient},
			want:   map[string]string{"/checking/a": "2", "/checking/b": "1", "/plain/x": "1", "/silent": "1"},
			absent: []string{"/checking/{slug}", "/admin/users", "/created"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, names := testkit.Redis(t)
			srv, _, stop := run(t, client, names, tt.opts)
			hit(t, srv, "GET", "/checking/a")
			hit(t, srv, "GET", "/checking/a?utm=1")
			hit(t, srv, "GET", "/checking/b")
			hit(t, srv, "POST", "/checking/a") // not a GET (and 405)
			hit(t, srv, "HEAD", "/plain/x")    // not a GET
			hit(t, srv, "GET", "/plain/x")
			hit(t, srv, "GET", "/admin/users") // excluded
			hit(t, srv, "GET", "/created")     // 201, not 200
			hit(t, srv, "GET", "/nope")        // 404
			hit(t, srv, "GET", "/silent")
			stop() // flushes what is queued
			ctx := context.Background()
			for path, n := range tt.want {
				require.Equal(t, n, client.Get(ctx, names.HitKey(path)).Val(), path)
			}
			for _, path := range tt.absent {
				require.Zero(t, client.Exists(ctx, names.HitKey(path)).Val(), path)
			}
		})
	}
}

// Redis down: the wrapped handler still answers, and the lost hits are counted.
func TestRedisDownFailsOpen(t *testing.T) {
	proxy, client := testkit.ProxiedRedis(t)
	names := keyspace.NewNames(testkit.Prefix(t))
	proxy.SetDown(true)

	srv, reg, stop := run(t, client, names, Options{Timeout: 20 * time.Millisecond})
	for range 50 {
		hitOK(t, srv, "/plain/x")
	}
	stop()
	require.Equal(t, 50.0, testkit.Metric(t, reg, "adly_tracking_hits_queued_total"))
	require.Equal(t, 50.0, testkit.Metric(t, reg, "adly_tracking_hits_dropped_total", "reason", "redis_error"))

	proxy.SetDown(false) // and it recovers by itself, once the client dials again (go-redis retries dialing
	// about once a second after refused connections)
	require.Eventually(t, func() bool { return client.Ping(context.Background()).Err() == nil }, 5*time.Second, 50*time.Millisecond)
	direct, _ := testkit.Redis(t)
	srv2, _, stop2 := run(t, client, names, Options{Timeout: patient})
	hit(t, srv2, "GET", "/plain/x")
	stop2()
	require.Equal(t, "1", direct.Get(context.Background(), names.HitKey("/plain/")).Val())
}

// No request waits for Redis: with every write held at Redis's door for a minute and the middleware willing
// to wait that long, requests are still answered at once (each would time out after 10 s otherwise, on any
// machine), and their hits are queued.
func TestRequestsNeverWaitForRedis(t *testing.T) {
	proxy, client := testkit.ProxiedRedis(t)
	names := keyspace.NewNames(testkit.Prefix(t))
	require.NoError(t, client.Ping(context.Background()).Err()) // a connection, so the hold is on a write
	proxy.SetDelay(time.Minute)

	srv, reg, stop := run(t, client, names, Options{Timeout: time.Minute})
	for range 50 {
		hitOK(t, srv, "/plain/x")
	}
	require.Equal(t, 50.0, testkit.Metric(t, reg, "adly_tracking_hits_queued_total"))
	proxy.SetDown(true) // let the held write fail, so stop does not wait a minute for it
	stop()
}

// hitOK GETs path and requires a 200 within 10 s.
func hitOK(t *testing.T, srv *httptest.Server, path string) {
	t.Helper()
	c := srv.Client()
	c.Timeout = 10 * time.Second
	resp, err := c.Get(srv.URL + path)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// With a memory guard, hits are written while Redis is below the guard's share of maxmemory and dropped —
// counted, never written — while it is above.
func TestMemoryGuardDropsHits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		ratio   float64 // used_memory / maxmemory
		written bool
	}{
		{"below the guard", 0.2, true},
		{"above the guard", 0.8, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := testkit.StartRedisServer(t, testkit.RedisServerOptions{})
			client := redisconn.NewClient(rs.Config(), redisconn.ClientOptions{NoRetries: true})
			t.Cleanup(func() { _ = client.Close() })
			names := keyspace.NewNames("guard:")
			guard := publish.NewMemoryGuard(client, 0.5, time.Second, zaptest.NewLogger(t), prometheus.NewRegistry())
			rs.SetMaxMemoryFor(tt.ratio)
			guard.Poll(context.Background())

			srv, reg, stop := run(t, client, names, Options{Guard: guard, Timeout: patient})
			hit(t, srv, "GET", "/plain/x")
			hit(t, srv, "GET", "/plain/y")
			stop()
			got := client.Get(context.Background(), names.HitKey("/plain/")).Val()
			dropped := testkit.Metric(t, reg, "adly_tracking_hits_dropped_total", "reason", "memory_guard")
			if tt.written {
				require.Equal(t, "2", got)
				require.Zero(t, dropped)
			} else {
				require.Empty(t, got)
				require.Equal(t, 2.0, dropped)
			}
		})
	}
}

// BenchmarkMiddlewareOverhead measures what the middleware adds to a request: the wrapped handler against
// the bare one, in-process, with a healthy Redis behind the flusher.
func BenchmarkMiddlewareOverhead(b *testing.B) {
	client, names := testkit.Redis(b)
	m := New(hits.NewHitCounters(client, names), zaptest.NewLogger(b), prometheus.NewRegistry(), Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = m.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	bare := app()
	wrapped := m.Wrap(app())
	req := httptest.NewRequest("GET", "/checking/abc", nil)
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{{"bare", bare}, {"wrapped", wrapped}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			durations := make([]time.Duration, 0, b.N)
			for b.Loop() {
				start := time.Now()
				bc.h.ServeHTTP(httptest.NewRecorder(), req)
				durations = append(durations, time.Since(start))
			}
			slices.Sort(durations)
			b.ReportMetric(float64(durations[len(durations)/2].Nanoseconds()), "p50-ns")
			b.ReportMetric(float64(durations[len(durations)*99/100].Nanoseconds()), "p99-ns")
		})
	}
	b.ReportMetric(testutil.ToFloat64(m.metrics.dropped.WithLabelValues("queue_full")), "dropped")
}
