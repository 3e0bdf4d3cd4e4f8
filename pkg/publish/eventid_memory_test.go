package publish_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"adly/pkg/event"
	"adly/pkg/keyspace"
	"adly/pkg/publish"
	"adly/pkg/redisconn"
	"adly/pkg/testkit"
)

// The memory a remembered event_id costs Redis, through the real script, on a private redis-server: 100,000
// impressions without an event_id, then 100,000 with one (a UUID each); the second batch's extra memory over
// the first's is the ids'. The figure sizes Redis in the package doc (memory ≈ events with an event_id a
// second × EventIDTTL × bytes per id); it is logged with -v.
func TestEventIDMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 200,000 events")
	}
	srv := testkit.StartRedisServer(t, testkit.RedisServerOptions{})
	client := redisconn.NewClient(srv.Config(), redisconn.ClientOptions{NoRetries: true})
	t.Cleanup(func() { _ = client.Close() })
	names := keyspace.NewNames("")
	p, _ := startPublisher(t, client, names, publish.PublisherOptions{})
	ctx := context.Background()

	const n, batch = 100_000, 1000
	used := func() int64 {
		m, err := redisconn.ReadMemory(ctx, client)
		require.NoError(t, err)
		return m.Used
	}
	publishAll := func(withID bool) {
		events := make([]event.Event, batch)
		for b := 0; b < n/batch; b++ {
			for i := range events {
				events[i] = event.Event{Type: event.Impression, AdID: int64(1 + i)}
				if withID {
					events[i].ID = fmt.Sprintf("%08x-0000-4000-8000-%012x", b, i)
				}
			}
			_, err := p.Publish(ctx, events, 1700000000)
			require.NoError(t, err)
		}
	}
	m0 := used()
	publishAll(false)
	m1 := used()
	publishAll(true)
	m2 := used()
	perID := float64((m2-m1)-(m1-m0)) / n
	one, err := client.MemoryUsage(ctx, names.EventID(fmt.Sprintf("%08x-0000-4000-8000-%012x", 0, 0), "")).Result()
	require.NoError(t, err)
	t.Logf("used_memory: %d before, +%d for %d events without an event_id, +%d for %d with one: %.1f bytes per id; MEMORY USAGE of one event-id key: %d bytes",
		m0, m1-m0, n, m2-m1, n, perID, one)
	require.Len(t, testkit.RedisKeys(t, client, names.EventID("", "")), n, "one key per id")
	require.Less(t, perID, 300.0, "the package doc sizes Redis at about 200 bytes per id")
	require.Greater(t, perID, 100.0)
}
