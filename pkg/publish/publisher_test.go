package publish_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"adly/pkg/config"
	"adly/pkg/event"
	"adly/pkg/keyspace"
	"adly/pkg/publish"
	"adly/pkg/redisconn"
	"adly/pkg/testkit"
)

// startPublisher runs a Publisher over client until the test ends.
func startPublisher(t testing.TB, client redis.UniversalClient, names keyspace.Names, opts publish.PublisherOptions) (*publish.Publisher, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	p := publish.NewPublisher(client, names, zaptest.NewLogger(t), publish.NewPublisherMetrics(reg), opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = p.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return p, reg
}

// proxied is a Publisher reaching Redis through a proxy the test controls, with its connection warmed (so
// that what the proxy holds or cuts afterwards is a script call, not a handshake), and a direct client to
// look at what Redis holds.
type proxied struct {
	proxy  *testkit.Proxy
	p      *publish.Publisher
	reg    *prometheus.Registry
	names  keyspace.Names
	direct redis.UniversalClient
}

func newProxied(t *testing.T, timeout time.Duration) proxied {
	t.Helper()
	return newProxiedWith(t, publish.PublisherOptions{Timeout: timeout})
}

func newProxiedWith(t *testing.T, opts publish.PublisherOptions) proxied {
	t.Helper()
	proxy, client := testkit.ProxiedRedis(t)
	names := keyspace.NewNames(testkit.Prefix(t))
	p, reg := startPublisher(t, client, names, opts)
	direct, _ := testkit.Redis(t)
	_, err := p.Publish(context.Background(), []event.Event{{Type: event.Click, AdID: 1}}, 1)
	require.NoError(t, err)
	return proxied{proxy: proxy, p: p, reg: reg, names: names, direct: direct}
}

func TestPublishWritesStreamsAndCounters(t *testing.T) {
	t.Parallel()
	client, names := testkit.Redis(t)
	p, reg := startPublisher(t, client, names, publish.PublisherOptions{})
	ctx := context.Background()

	events := []event.Event{
		{Type: event.Impression, AdID: 123},
		{Type: event.Hit, Path: "/a"},
		{Type: event.Click, AdID: 7},
		{Type: event.Hit, Path: "/a"},
		{Type: event.Hit, Path: "/b"},
		{Type: event.Impression, AdID: 2147483647},
	}
	ids, err := p.Publish(ctx, events, 1700000000)
	require.NoError(t, err)
	require.Len(t, ids, len(events))
	require.Empty(t, ids[1])
	require.Empty(t, ids[3])

	imps, err := client.XRange(ctx, names.ImpressionsStream(), "-", "+").Result()
	require.NoError(t, err)
	require.Equal(t, []redis.XMessage{
		{ID: ids[0], Values: map[string]any{"ad_id": "123", "ts": "1700000000"}},
		{ID: ids[5], Values: map[string]any{"ad_id": "2147483647", "ts": "1700000000"}},
	}, imps)
	clicks, err := client.XRange(ctx, names.ClicksStream(), "-", "+").Result()
	require.NoError(t, err)
	require.Equal(t, []redis.XMessage{{ID: ids[2], Values: map[string]any{"ad_id": "7", "ts": "1700000000"}}}, clicks)
	require.Equal(t, "2", client.Get(ctx, names.HitKey("/a")).Val())
	require.Equal(t, "1", client.Get(ctx, names.HitKey("/b")).Val())

	require.Equal(t, 2.0, testkit.Metric(t, reg, "adly_api_events_total", "type", "impression"))
	require.Equal(t, 3.0, testkit.Metric(t, reg, "adly_api_events_total", "type", "hit"))
}

// Many concurrent callers share round trips, and each gets the ID of its own entry, stamped with its own ts
// (callers' ts differ, so a round trip carries several runs of them).
func TestPublishConcurrentCallersShareRoundTrips(t *testing.T) {
	t.Parallel()
	client, names := testkit.Redis(t)
	p, reg := startPublisher(t, client, names, publish.PublisherOptions{})
	ctx := context.Background()

	const workers, each = 64, 100
	var mu sync.Mutex
	byID := map[string]int64{}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				ad := int64(w*each + i + 1)
				ids, err := p.Publish(ctx, []event.Event{{Type: event.Impression, AdID: ad}}, 1700000000+ad%3)
				if !assertNoError(t, err) {
					return
				}
				mu.Lock()
				byID[ids[0]] = ad
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.Len(t, byID, workers*each, "every caller got a distinct stream ID")

	msgs, err := client.XRange(ctx, names.ImpressionsStream(), "-", "+").Result()
	require.NoError(t, err)
	require.Len(t, msgs, workers*each)
	for _, m := range msgs {
		require.Equal(t, strconv.FormatInt(byID[m.ID], 10), m.Values["ad_id"], "the ID handed back is the entry of that caller's event")
		require.Equal(t, strconv.FormatInt(1700000000+byID[m.ID]%3, 10), m.Values["ts"], "the entry carries its caller's ts")
	}
	flushes := testkit.Metric(t, reg, "adly_api_redis_flush_events")
	require.Less(t, flushes, float64(workers*each), "concurrent events were batched into fewer round trips")
}

func assertNoError(t *testing.T, err error) bool {
	t.Helper()
	if err != nil {
		t.Errorf("publish: %v", err)
		return false
	}
	return true
}

func TestPublishRedisDownAnswersQuicklyAndRecovers(t *testing.T) {
	proxy, client := testkit.ProxiedRedis(t)
	names := keyspace.NewNames(testkit.Prefix(t))
	p, _ := startPublisher(t, client, names, publish.PublisherOptions{Timeout: 300 * time.Millisecond})
	ctx := context.Background()
	ev := []event.Event{{Type: event.Click, AdID: 1}}

	_, err := p.Publish(ctx, ev, 1)
	require.NoError(t, err)

	proxy.SetDown(true)
	for range 3 {
		start := time.Now()
		_, err = p.Publish(ctx, ev, 1)
		require.ErrorIs(t, err, publish.ErrUnavailable)
		require.Less(t, time.Since(start), 700*time.Millisecond, "bounded by the write timeout")
	}

	proxy.SetDown(false)
	require.Eventually(t, func() bool {
		_, err := p.Publish(ctx, ev, 1)
		return err == nil
	}, 5*time.Second, 50*time.Millisecond, "recovers by itself when Redis is back")
	// Two successes: the first one and the recovery. Nothing from the failures.
	require.EqualValues(t, 2, client.XLen(ctx, names.ClicksStream()).Val())
}

// A write that reaches Redis after its cutoff is refused by Redis itself, so the 503 the caller got does not
// hide a stored write even though the bytes were already on their way.
func TestPublishSlowRedisRefusesLateWrites(t *testing.T) {
	x := newProxied(t, 300*time.Millisecond)
	proxy, p, reg, names, direct := x.proxy, x.p, x.reg, x.names, x.direct
	ctx := context.Background()

	proxy.SetDelay(600 * time.Millisecond)
	start := time.Now()
	_, err := p.Publish(ctx, []event.Event{{Type: event.Impression, AdID: 9}, {Type: event.Hit, Path: "/slow"}}, 1)
	require.ErrorIs(t, err, publish.ErrUnconfirmed, "no answer by the deadline: the publisher cannot know")
	require.Less(t, time.Since(start), 600*time.Millisecond)

	proxy.Settle(t, 5*time.Second) // the delayed script has reached Redis and been answered
	require.EqualValues(t, 0, direct.XLen(ctx, names.ImpressionsStream()).Val(), "a refused write leaves nothing behind")
	require.EqualValues(t, 0, direct.Exists(ctx, names.HitKey("/slow")).Val())
	require.Equal(t, 1.0, testkit.Metric(t, reg, "adly_api_redis_errors_total", "reason", "unconfirmed")+
		testkit.Metric(t, reg, "adly_api_redis_errors_total", "reason", "timeout"))

	proxy.SetDelay(0)
	require.Eventually(t, func() bool {
		_, err := p.Publish(ctx, []event.Event{{Type: event.Impression, AdID: 9}}, 1)
		return err == nil
	}, 5*time.Second, 50*time.Millisecond)
	require.EqualValues(t, 1, direct.XLen(ctx, names.ImpressionsStream()).Val())
}

// Under delays that straddle the deadline, every event reported stored is in Redis and every event reported
// failed is not: the count in the stream equals the number of successes, exactly.
func TestPublishAnswerIsTruthfulUnderJitter(t *testing.T) {
	proxy, client := testkit.ProxiedRedis(t)
	names := keyspace.NewNames(testkit.Prefix(t))
	p, _ := startPublisher(t, client, names, publish.PublisherOptions{Timeout: 200 * time.Millisecond})
	direct, _ := testkit.Redis(t)
	ctx := context.Background()

	stop := make(chan struct{})
	var jitter sync.WaitGroup
	jitter.Go(func() {
		for {
			select {
			case <-stop:
				proxy.SetDelay(0)
				return
			case <-time.After(time.Duration(20+rand.IntN(60)) * time.Millisecond):
				proxy.SetDelay(time.Duration(rand.IntN(300)) * time.Millisecond)
			}
		}
	})
	var ok, failed atomic.Int64
	var mu sync.Mutex
	var unexpected []error // collected here, asserted on the test's goroutine
	var wg sync.WaitGroup
	deadline := time.Now().Add(3 * time.Second)
	for range 16 {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				if _, err := p.Publish(ctx, []event.Event{{Type: event.Impression, AdID: 1}}, 1); err != nil {
					// Refused by the cutoff, or unanswered by the deadline: delayed requests are refused
					// when they arrive, and replies are never delayed here, so neither was stored.
					if !errors.Is(err, publish.ErrUnavailable) && !errors.Is(err, publish.ErrUnconfirmed) {
						mu.Lock()
						unexpected = append(unexpected, err)
						mu.Unlock()
					}
					failed.Add(1)
				} else {
					ok.Add(1)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	jitter.Wait()
	require.Empty(t, unexpected, "every failure is ErrUnavailable or ErrUnconfirmed")
	proxy.Settle(t, 5*time.Second) // every delayed write has reached Redis and been answered
	t.Logf("stored %d, refused %d", ok.Load(), failed.Load())
	require.Positive(t, ok.Load())
	require.Positive(t, failed.Load(), "the jitter must have made some writes miss their deadline")
	require.Equal(t, ok.Load(), direct.XLen(ctx, names.ImpressionsStream()).Val())
}

func TestPublishRejectsBatchWhenAKeyHoldsTheWrongType(t *testing.T) {
	t.Parallel()
	client, names := testkit.Redis(t)
	p, reg := startPublisher(t, client, names, publish.PublisherOptions{})
	ctx := context.Background()
	require.NoError(t, client.Set(ctx, names.HitKey("/broken"), "not a number", 0).Err())

	_, err := p.Publish(ctx, []event.Event{{Type: event.Impression, AdID: 1}, {Type: event.Hit, Path: "/broken"}}, 1)
	require.ErrorIs(t, err, publish.ErrRejected)
	require.EqualValues(t, 0, client.XLen(ctx, names.ImpressionsStream()).Val(), "all or nothing")
	require.Equal(t, 1.0, testkit.Metric(t, reg, "adly_api_redis_errors_total", "reason", "rejected"))

	// Other callers are not affected.
	_, err = p.Publish(ctx, []event.Event{{Type: event.Hit, Path: "/fine"}}, 1)
	require.NoError(t, err)
}

// The script survives a Redis that forgot it (SCRIPT FLUSH, or a restart).
func TestPublishAfterScriptFlush(t *testing.T) {
	client, names := testkit.Redis(t)
	p, _ := startPublisher(t, client, names, publish.PublisherOptions{})
	ctx := context.Background()
	_, err := p.Publish(ctx, []event.Event{{Type: event.Click, AdID: 5}}, 1)
	require.NoError(t, err)
	require.NoError(t, client.ScriptFlush(ctx).Err())
	_, err = p.Publish(ctx, []event.Event{{Type: event.Click, AdID: 5}}, 1)
	require.NoError(t, err)
	require.EqualValues(t, 2, client.XLen(ctx, names.ClicksStream()).Val())
}

func TestClientFailsFastWhenRedisIsAbsent(t *testing.T) {
	c := redisconn.NewClient(config.Redis{Host: "127.0.0.1", Port: 1, DialTimeout: 200 * time.Millisecond}, redisconn.ClientOptions{NoRetries: true})
	defer func() { _ = c.Close() }()
	start := time.Now()
	require.Error(t, redisconn.Ping(context.Background(), c, time.Second))
	require.Less(t, time.Since(start), time.Second)
}

// A write whose reply is lost (the connection dies after Redis ran the script) is resolved by its receipt:
// the caller gets the IDs it would have got. When Redis cannot be asked either, the caller is told that the
// outcome is unknown (ErrUnconfirmed), never that nothing was stored, for here the events were stored.
func TestPublishLostReplyIsResolvedByItsReceipt(t *testing.T) {
	x := newProxied(t, 300*time.Millisecond)
	proxy, p, reg, names, direct := x.proxy, x.p, x.reg, x.names, x.direct
	ctx := context.Background()
	stream := names.ImpressionsStream()

	proxy.CutReplies(1)
	ids, err := p.Publish(ctx, []event.Event{{Type: event.Impression, AdID: 9}, {Type: event.Hit, Path: "/r"}}, 1)
	require.NoError(t, err, "the receipt says the write ran")
	entries := direct.XRange(ctx, stream, "-", "+").Val()
	require.Len(t, entries, 1)
	require.Equal(t, []string{entries[0].ID, ""}, ids)
	require.Equal(t, "1", direct.Get(ctx, names.HitKey("/r")).Val())
	require.Equal(t, 1.0, testkit.Metric(t, reg, "adly_api_redis_lost_replies_total", "outcome", "stored"))

	proxy.CutReplies(1000) // the check's replies are lost too
	_, err = p.Publish(ctx, []event.Event{{Type: event.Impression, AdID: 9}}, 1)
	require.ErrorIs(t, err, publish.ErrUnconfirmed)
	require.NotErrorIs(t, err, publish.ErrUnavailable, "ErrUnavailable promises that nothing was stored")
	require.EqualValues(t, 2, direct.XLen(ctx, stream).Val(), "the script ran; only its reply was lost")
	require.Equal(t, 1.0, testkit.Metric(t, reg, "adly_api_redis_errors_total", "reason", "unconfirmed"))
	require.Equal(t, 1.0, testkit.Metric(t, reg, "adly_api_redis_lost_replies_total", "outcome", "unknown"))

	// Redis refusing the connection is not ambiguous: nothing was sent.
	proxy.CutReplies(0)
	proxy.SetDown(true)
	_, err = p.Publish(ctx, []event.Event{{Type: event.Impression, AdID: 9}}, 1)
	require.ErrorIs(t, err, publish.ErrUnavailable)
	require.NotErrorIs(t, err, publish.ErrUnconfirmed)
	require.Equal(t, 1.0, testkit.Metric(t, reg, "adly_api_redis_errors_total", "reason", "unconfirmed"))
	require.EqualValues(t, 2, direct.XLen(ctx, stream).Val())
}

// A write held on its way past the deadline (a stuck connection) while Redis itself answers: the receipt
// check, on a new connection, finds no receipt once Redis's clock is past the cutoff, so the caller is told
// for sure that nothing was stored, and the held write is refused when it finally reaches Redis.
func TestPublishHeldWriteIsResolvedAsNotStored(t *testing.T) {
	x := newProxied(t, 300*time.Millisecond)
	proxy, p, reg, names, direct := x.proxy, x.p, x.reg, x.names, x.direct
	ctx := context.Background()

	proxy.SetDelayMatching(names.ImpressionsStream(), 600*time.Millisecond) // the write, not the check
	start := time.Now()
	_, err := p.Publish(ctx, []event.Event{{Type: event.Impression, AdID: 9}}, 1)
	require.ErrorIs(t, err, publish.ErrUnavailable, "the receipt check is sure: nothing was stored")
	require.NotErrorIs(t, err, publish.ErrUnconfirmed)
	require.Less(t, time.Since(start), 450*time.Millisecond, "answered by the deadline")
	require.Equal(t, 1.0, testkit.Metric(t, reg, "adly_api_redis_lost_replies_total", "outcome", "not_stored"))

	proxy.Settle(t, 5*time.Second) // the held write has reached Redis and been answered
	require.Zero(t, direct.XLen(ctx, names.ImpressionsStream()).Val(), "the held write was refused when it ran")
}

// Single impressions without event_id or ivt from concurrent callers, through the real script: the common
// case, whose cost the publisher's other features must not raise.
func BenchmarkPublishPlainImpressions(b *testing.B) {
	client, names := testkit.Redis(b)
	p, _ := startPublisher(b, client, names, publish.PublisherOptions{})
	ctx := context.Background()
	b.SetParallelism(16)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ev := []event.Event{{Type: event.Impression, AdID: 1}}
		for pb.Next() {
			if _, err := p.Publish(ctx, ev, 1700000000); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// A batch of 256 plain impressions per call, one caller: mostly the script's time in Redis, per entry.
func BenchmarkPublishPlainBatch(b *testing.B) {
	client, names := testkit.Redis(b)
	p, _ := startPublisher(b, client, names, publish.PublisherOptions{})
	ctx := context.Background()
	ev := make([]event.Event, 256)
	for i := range ev {
		ev[i] = event.Event{Type: event.Impression, AdID: int64(i + 1)}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Publish(ctx, ev, 1700000000); err != nil {
			b.Fatal(err)
		}
	}
}
