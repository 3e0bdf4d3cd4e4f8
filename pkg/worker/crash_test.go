package worker

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"adly/pkg/event"
	"adly/pkg/publish"
	"adly/pkg/testkit"
)

// These tests run the real impression-worker binary and kill it with SIGKILL (or make it exit at injected
// fault points) while it works, then compare every (ad_id, date) count with what was published, exactly; the
// chaos tests publish filtered traffic too and compare every (ad_id, date, reason) count of it as well.

// spawn starts the real impression-worker binary on the test's prefix and database.
func (e *env) spawn(t *testing.T, consumer string, extra ...string) *testkit.Process {
	t.Helper()
	env := append(e.kit.BinaryEnv(), "ADMIN_ADDR=127.0.0.1:0",
		"CONSUMER_NAME="+consumer, "BLOCK=200ms", "CLAIM_MIN_IDLE=2s", "CLAIM_INTERVAL=300ms",
		"SHUTDOWN_TIMEOUT=1s", "LOG_LEVEL=error", "BATCH_SIZE=1000")
	return testkit.Spawn(t, testkit.Binary(t, "impression-worker"), append(env, extra...)...)
}

// crew is the worker processes a chaos test kills and restarts.
type crew struct {
	e          *env
	procs      []*testkit.Process
	opts       []string
	generation int
	kills      int
}

// newCrew starts n workers, w0-0 … w<n-1>-0, with opts added to spawn's environment.
func (e *env) newCrew(t *testing.T, n int, opts ...string) *crew {
	t.Helper()
	c := &crew{e: e, procs: make([]*testkit.Process, n), opts: opts}
	for i := range c.procs {
		c.procs[i] = e.spawn(t, fmt.Sprintf("w%d-0", i), opts...)
	}
	return c
}

// killOne SIGKILLs a random worker and starts its successor, under a new name (its pending entries must be
// reclaimed) or under the old one (it re-reads them), at random.
func (c *crew) killOne(t *testing.T, rng *rand.Rand) {
	t.Helper()
	i := rng.IntN(len(c.procs))
	c.procs[i].Kill()
	c.kills++
	c.generation++
	name := fmt.Sprintf("w%d-%d", i, c.generation)
	if rng.IntN(2) == 0 {
		name = fmt.Sprintf("w%d-0", i)
	}
	c.procs[i] = c.e.spawn(t, name, c.opts...)
}

// stop stops every worker with SIGTERM.
func (c *crew) stop() {
	for _, p := range c.procs {
		p.Stop(10 * time.Second)
	}
}

// publisher publishes through the API's own writer.
func (e *env) publisher(t *testing.T) *publish.Publisher {
	t.Helper()
	p := publish.NewPublisher(e.client, e.names, zaptest.NewLogger(t), publish.NewPublisherMetrics(prometheus.NewRegistry()), publish.PublisherOptions{Timeout: 5 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = p.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return p
}

// Of each call's perCall entries, the chaos tests publish filteredPerCall as filtered traffic, on the first
// filteredAds ads (fewer keys than the valid traffic's: the filtered rows do not slow the commits much).
const filteredPerCall, filteredAds = 200, 50

// chaosReasons are the ivt reasons of the chaos tests' filtered traffic.
var chaosReasons = []string{"crawler", "prefetch", "headless", "link_preview", "no_user_agent", "non_browser", "a_later_rule"}

// publishFiltered adds n entries of filtered traffic at ts, random ads and reasons, in the API's stream format
// (ad_id, ts, ivt), and adds them to want.
func (e *env) publishFiltered(rng *rand.Rand, n int, ads, ts int64, want map[fkey]int64) error {
	pipe := e.client.Pipeline()
	for range n {
		ad, reason := rng.Int64N(ads)+1, chaosReasons[rng.IntN(len(chaosReasons))]
		pipe.XAdd(context.Background(), &redis.XAddArgs{Stream: e.shardFor(rng), Values: []any{"ad_id", ad, "ts", ts, "ivt", reason}})
		want[fkey{ad, DateOf(ts, time.UTC), reason}]++
	}
	_, err := pipe.Exec(context.Background())
	return err
}

// shardFor is the stream of a random shard (the only one with one shard).
func (e *env) shardFor(rng *rand.Rand) string {
	if len(e.groups) == 1 {
		return e.group.Stream()
	}
	return e.groups[rng.IntN(len(e.groups))].Stream()
}

// publishValid publishes events of valid traffic at ts: through the API's writer with one shard, spread over
// the shards at random with more (XADD, the stream format the API writes).
func (e *env) publishValid(pub *publish.Publisher, rng *rand.Rand, events []event.Event, ts int64) error {
	if len(e.groups) == 1 {
		_, err := pub.Publish(context.Background(), events, ts)
		return err
	}
	pipe := e.client.Pipeline()
	for _, ev := range events {
		pipe.XAdd(context.Background(), &redis.XAddArgs{Stream: e.shardFor(rng), Values: []any{"ad_id", ev.AdID, "ts", ts}})
	}
	_, err := pipe.Exec(context.Background())
	return err
}

// The chaos test runs with the seed's single stream (three workers) and with STREAM_SHARDS=4 (two workers,
// each reading all four shards).
func TestCrashChaosExactCounts(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test")
	}
	for _, tt := range []struct{ shards, workers, total int }{{1, 3, 200_000}, {4, 2, 100_000}} {
		t.Run(fmt.Sprintf("shards=%d", tt.shards), func(t *testing.T) { crashChaos(t, tt.shards, tt.workers, tt.total) })
	}
}

func crashChaos(t *testing.T, shards, processes, total int) {
	e := newShardedEnv(t, shards)
	pub := e.publisher(t)
	const perCall, ads = 1000, 500
	days := []int64{
		time.Date(2026, 11, 19, 12, 0, 0, 0, time.UTC).Unix(),
		time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC).Unix(),
		time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC).Unix(),
	}
	want, wantFiltered := map[key]int64{}, map[fkey]int64{}

	// Every batch waits 15 ms between COMMIT and XACK, so the random kills land in that window often. And
	// the workers trim every 200 ms keeping nothing consumed, so trimming races the kills and the reclaims:
	// an entry trimmed while some group still needed it would be missing from the counts.
	workers := e.newCrew(t, processes, "ADLY_FAULT=pause_after_commit:15ms", "TRIM_INTERVAL=200ms", "RETAIN_ENTRIES=0", fmt.Sprintf("STREAM_SHARDS=%d", shards))

	publishDone := make(chan struct{})
	go func() {
		defer close(publishDone)
		rng := rand.New(rand.NewPCG(1, 2))
		for sent := 0; sent < total; sent += perCall {
			day := days[(sent/perCall)%3]
			events := make([]event.Event, perCall-filteredPerCall)
			for i := range events {
				events[i] = event.Event{Type: event.Impression, AdID: rng.Int64N(ads) + 1}
				want[key{events[i].AdID, DateOf(day, time.UTC)}]++
			}
			if err := e.publishValid(pub, rng, events, day); err != nil {
				t.Errorf("publish: %v", err)
				return
			}
			if err := e.publishFiltered(rng, filteredPerCall, filteredAds, day, wantFiltered); err != nil {
				t.Errorf("publish filtered: %v", err)
				return
			}
			time.Sleep(25 * time.Millisecond) // spread the load over several seconds of kills
		}
	}()

	rng := rand.New(rand.NewPCG(3, 4))
	chaosUntil := time.Now().Add(8 * time.Second)
	// At least 8 s of chaos and at least 10 SIGKILLs, however slow the machine is.
	for time.Now().Before(chaosUntil) || workers.kills < 10 {
		time.Sleep(time.Duration(150+rng.IntN(450)) * time.Millisecond) // a random moment to kill at, not a gate
		workers.killOne(t, rng)
	}
	<-publishDone
	e.drained(t, 90*time.Second)
	workers.stop()
	requireCounts(t, want, e.counts(t))
	requireCounts(t, wantFiltered, e.filteredCounts(t))
	var sum int64
	for _, n := range e.counts(t) {
		sum += n
	}
	for _, n := range e.filteredCounts(t) {
		sum += n
	}
	require.EqualValues(t, total, sum)
	var length int64
	for _, g := range e.groups {
		length += e.client.XLen(context.Background(), g.Stream()).Val()
	}
	require.Less(t, length, int64(total/2), "the workers trimmed the streams as they went")
	t.Logf("%d events (%d filtered) over %d shards, %d SIGKILLs, %d (ad_id, date) and %d (ad_id, date, reason) keys: exact; %d entries left in the streams",
		total, total/perCall*filteredPerCall, shards, workers.kills, len(want), len(wantFiltered), length)
}

// Targeted fault points: the process exits at the worst moments, then a clean one finishes the work.
func TestFaultPointsExactCounts(t *testing.T) {
	// MERGE_READS=1 makes "the Nth commit" deterministic; the last case crashes a merged transaction.
	tests := []struct {
		fault string
		merge string
		why   string
	}{
		{"after_commit:2", "1", "committed in MariaDB, never acknowledged: the ledger must stop the recount"},
		{"mid_ack:2", "1", "half the batch acknowledged: the other half comes back and is skipped"},
		{"before_commit:3", "1", "read but not committed: must be counted after the restart"},
		{"after_commit:1", "100", "a merged transaction committed, never acknowledged"},
	}
	for _, tt := range tests {
		t.Run(tt.fault+"/merge="+tt.merge, func(t *testing.T) {
			e := newEnv(t)
			want := e.publish(t, threeDays(5000, 13), time.UTC)
			p := e.spawn(t, "w", "ADLY_FAULT="+tt.fault, "BATCH_SIZE=700", "MERGE_READS="+tt.merge)
			require.Equal(t, 3, p.ExitCode(20*time.Second), "exited at the fault point")
			info, err := e.group.Info(context.Background())
			require.NoError(t, err)
			require.Positive(t, info.Pending, "the crash left entries pending (%s)", tt.why)

			p = e.spawn(t, "w") // same consumer: starts with its own pending entries
			e.drained(t, 30*time.Second)
			p.Stop(10 * time.Second)
			requireCounts(t, want, e.counts(t))
		})
	}
}
