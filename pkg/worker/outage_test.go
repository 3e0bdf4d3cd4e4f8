package worker

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"adly/pkg/event"
	"adly/pkg/ledger"
	"adly/pkg/stream"
	"adly/pkg/testkit"
)

// MariaDB down: entries stay pending (no acknowledgement), the worker backs off instead of spinning, and it
// recovers by itself when MariaDB returns. Redis down: the same.
func TestRecoversFromOutages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()

	dbProxy, db := e.kit.ProxiedDB(t)
	redisProxy, client := e.kit.ProxiedRedis(t)

	w := *e
	w.group = stream.NewGroup(client, e.group.Stream(), e.group.Name())
	w.counter = ledger.NewCounter(db, ledger.Impressions, e.group.Stream(), e.group.Name())
	_, reg := w.start(t, testOptions("a"))
	errorsOf := func(op string) float64 { return testkit.Metric(t, reg, "adly_worker_errors_total", "op", op) }

	want := e.publish(t, threeDays(3000, 9), time.UTC)
	e.drained(t, 10*time.Second)

	// MariaDB goes away. Three failed commits take at least the first two backoff steps (100 ms, then
	// 200 ms): a busy loop would fail them in a few milliseconds, however fast or slow the machine.
	dbProxy.SetDown(true)
	down := time.Now()
	for k, n := range e.publish(t, threeDays(2000, 9), time.UTC) {
		want[k] += n
	}
	testkit.Wait(t, 10*time.Second, func() bool { return errorsOf("commit") >= 3 }, "the worker retries its commit")
	require.GreaterOrEqual(t, time.Since(down), 300*time.Millisecond, "backoff, not a busy loop")
	info, err := e.group.Info(ctx)
	require.NoError(t, err)
	require.Positive(t, info.Pending, "nothing is acknowledged while MariaDB is down")
	dbProxy.SetDown(false)
	e.drained(t, 30*time.Second)
	requireCounts(t, want, e.counts(t))

	// Redis goes away: the same backoff.
	readErrors := errorsOf("read")
	redisProxy.SetDown(true)
	down = time.Now()
	testkit.Wait(t, 10*time.Second, func() bool { return errorsOf("read") >= readErrors+3 }, "the worker retries its read")
	require.GreaterOrEqual(t, time.Since(down), 300*time.Millisecond, "backoff, not a busy loop")
	redisProxy.SetDown(false)
	for k, n := range e.publish(t, threeDays(1000, 9), time.UTC) {
		want[k] += n
	}
	e.drained(t, 30*time.Second)
	requireCounts(t, want, e.counts(t))
}

// MariaDB unreachable for several claim periods under a steady stream, two real worker processes: every
// failed commit re-reads the pending list and raises the entries' delivery counts past MAX_DELIVERIES, and
// reclaims move them between the workers. Yet an outage is not a poison entry: nothing is dead-lettered, and
// every event is counted exactly once once MariaDB is back. The claim times are the defaults' scaled down
// (CLAIM_MIN_IDLE 10s instead of 60s) so that a 30 s outage spans three claim periods.
func TestMariaDBOutageDeadLettersNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("a 30-second outage")
	}
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	dbProxy, _ := e.kit.ProxiedDB(t)
	const maxDeliveries = 3
	settings := []string{"DB_HOST=127.0.0.1", "DB_PORT=" + strconv.Itoa(dbProxy.Port()),
		"BLOCK=1s", "CLAIM_MIN_IDLE=10s", "CLAIM_INTERVAL=3s", "SHUTDOWN_TIMEOUT=5s",
		"MAX_DELIVERIES=" + strconv.Itoa(maxDeliveries)}
	procs := []*testkit.Process{e.spawn(t, "w1", settings...), e.spawn(t, "w2", settings...)}

	pub := e.publisher(t)
	want := map[key]int64{}
	day := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC).Unix()
	publish := func(until time.Time) {
		for i := 0; time.Now().Before(until); i++ {
			events := make([]event.Event, 50)
			for j := range events {
				events[j] = event.Event{Type: event.Impression, AdID: int64((i*50+j)%97 + 1)}
				want[key{events[j].AdID, DateOf(day, time.UTC)}]++
			}
			_, err := pub.Publish(ctx, events, day)
			require.NoError(t, err)
			time.Sleep(100 * time.Millisecond) // a steady stream of 500 events a second, not a gate
		}
	}
	publish(time.Now().Add(3 * time.Second))
	dbProxy.SetDown(true)
	publish(time.Now().Add(30 * time.Second))
	deadDuring, err := e.client.XLen(ctx, stream.DeadLetterStream(e.group.Stream())).Result()
	require.NoError(t, err)
	require.Zero(t, deadDuring, "nothing dead-lettered during the outage")
	// The fault really happened: entries were delivered more often than MAX_DELIVERIES allows a poison one.
	pending, err := e.client.XPendingExt(ctx, &redis.XPendingExtArgs{
		Stream: e.group.Stream(), Group: e.group.Name(), Start: "-", End: "+", Count: 1000}).Result()
	require.NoError(t, err)
	var most int64
	for _, p := range pending {
		most = max(most, p.RetryCount)
	}
	require.Greater(t, most, int64(maxDeliveries), "the outage raised delivery counts past MAX_DELIVERIES")
	dbProxy.SetDown(false)
	publish(time.Now().Add(3 * time.Second))
	e.drained(t, 90*time.Second)
	for _, p := range procs {
		p.Stop(10 * time.Second)
	}
	dead, err := e.client.XLen(ctx, stream.DeadLetterStream(e.group.Stream())).Result()
	require.NoError(t, err)
	require.Zero(t, dead, "nothing dead-lettered")
	requireCounts(t, want, e.counts(t))
	t.Logf("%d events through a 30 s MariaDB outage (deliveries up to %d): exact, none dead-lettered", func() (n int64) {
		for _, v := range want {
			n += v
		}
		return n
	}(), most)
}
