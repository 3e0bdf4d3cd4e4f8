package publish_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"adly/pkg/event"
	"adly/pkg/publish"
	"adly/pkg/testkit"
)

const (
	idA = "0b7c6e0e-3f5d-4d6b-9a51-6f1f1b3f6a10"
	idB = "AbCdEfGhIjKlMnOp"
	idC = "QrStUvWxYz012345-_"
)

// An event with an event_id is stored once however often it is published: every answer for it carries the
// stream ID of the first write, and a hit with an event_id counts once.
func TestPublishStoresAnEventIDOnce(t *testing.T) {
	t.Parallel()
	imp := func(ad int64, id string) event.Event { return event.Event{Type: event.Impression, AdID: ad, ID: id} }
	click := func(ad int64, id string) event.Event { return event.Event{Type: event.Click, AdID: ad, ID: id} }
	hit := func(path, id string) event.Event { return event.Event{Type: event.Hit, Path: path, ID: id} }
	tests := []struct {
		name        string
		calls       [][]event.Event // published one after another
		entries     int64           // stream entries in the end, both streams
		hits        map[string]string
		budgetPaths int // NewPathsPerMinute
	}{
		{name: "published twice", calls: [][]event.Event{{imp(1, idA)}, {imp(1, idA)}}, entries: 1},
		{name: "twice in one call", calls: [][]event.Event{{imp(1, idA), imp(1, idA)}}, entries: 1},
		{name: "retried inside other events",
			calls:   [][]event.Event{{imp(1, idA), click(2, idB), imp(3, "")}, {imp(4, idC), imp(1, idA), imp(3, "")}},
			entries: 5},
		{name: "an invalid event's retry", calls: [][]event.Event{{{Type: event.Click, AdID: 1, ID: idA, Invalid: "crawler"}}, {{Type: event.Click, AdID: 1, ID: idA, Invalid: "crawler"}}},
			entries: 1},
		{name: "a hit", calls: [][]event.Event{{hit("/a", idB)}, {hit("/a", idB), hit("/a", "")}, {hit("/a", idB), hit("/a", idB)}},
			hits: map[string]string{"/a": "2"}},
		{name: "a hit under the new-path budget", budgetPaths: 10,
			calls: [][]event.Event{{hit("/a", idB), hit("/a", idB)}, {hit("/a", idB), hit("/b", idB), imp(1, idA)}, {imp(1, idA)}},
			hits:  map[string]string{"/a": "1"}, entries: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			client, names := testkit.Redis(t)
			p, reg := startPublisher(t, client, names, publish.PublisherOptions{NewPathsPerMinute: tt.budgetPaths})
			ctx := context.Background()
			first := map[string]string{} // event_id -> the stream ID every answer for it carries
			for _, evs := range tt.calls {
				ids, err := p.Publish(ctx, evs, 1)
				require.NoError(t, err)
				for i, e := range evs {
					if e.Type == event.Hit {
						require.Empty(t, ids[i])
						continue
					}
					require.NotEmpty(t, ids[i])
					if e.ID == "" {
						continue
					}
					if want, ok := first[e.ID]; ok {
						require.Equal(t, want, ids[i], "a repeated event_id is answered with the first write's stream ID")
					}
					first[e.ID] = ids[i]
				}
			}
			require.Equal(t, tt.entries, client.XLen(ctx, names.ImpressionsStream()).Val()+client.XLen(ctx, names.ClicksStream()).Val())
			for path, want := range tt.hits {
				require.Equal(t, want, client.Get(ctx, names.HitKey(path)).Val(), path)
			}
			for id, streamID := range first {
				require.Equal(t, streamID, client.Get(ctx, names.EventID(id, "")).Val())
				ttl := client.PTTL(ctx, names.EventID(id, "")).Val()
				require.Greater(t, ttl, 59*time.Minute, "remembered for EventIDTTL, an hour by default")
				require.LessOrEqual(t, ttl, time.Hour)
			}
			require.Positive(t, testkit.Metric(t, reg, "adly_api_duplicate_events_total"))
		})
	}
}

// Concurrent requests that carry one event_id store it once, whether they share a flush or not.
func TestPublishConcurrentRetriesOfOneEventID(t *testing.T) {
	t.Parallel()
	client, names := testkit.Redis(t)
	p, _ := startPublisher(t, client, names, publish.PublisherOptions{})
	ctx := context.Background()

	const callers = 32
	got := make([]string, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			ids, err := p.Publish(ctx, []event.Event{{Type: event.Impression, AdID: 1, ID: idA}}, 1)
			if assertNoError(t, err) {
				got[i] = ids[0]
			}
		})
	}
	wg.Wait()
	entries := client.XRange(ctx, names.ImpressionsStream(), "-", "+").Val()
	require.Len(t, entries, 1)
	for _, id := range got {
		require.Equal(t, entries[0].ID, id)
	}
}

// Once EventIDTTL has passed, the event_id is forgotten and the event is stored again.
func TestPublishForgetsAnEventIDAfterItsTTL(t *testing.T) {
	t.Parallel()
	client, names := testkit.Redis(t)
	p, _ := startPublisher(t, client, names, publish.PublisherOptions{EventIDTTL: 200 * time.Millisecond})
	ctx := context.Background()
	ev := []event.Event{{Type: event.Click, AdID: 1, ID: idA}}

	first, err := p.Publish(ctx, ev, 1)
	require.NoError(t, err)
	again, err := p.Publish(ctx, ev, 1)
	require.NoError(t, err)
	require.Equal(t, first, again)
	testkit.Wait(t, 5*time.Second, func() bool {
		return client.Exists(ctx, names.EventID(idA, "")).Val() == 0
	}, "the event_id expires")
	later, err := p.Publish(ctx, ev, 1)
	require.NoError(t, err)
	require.NotEqual(t, first, later)
	require.EqualValues(t, 2, client.XLen(ctx, names.ClicksStream()).Val())
}

// A write with event_ids whose reply is lost is resolved by its receipt like any other, and answers the
// stream ID of the first write, also when the write was a retry that stored nothing.
func TestPublishLostReplyWithEventIDs(t *testing.T) {
	x := newProxiedWith(t, publish.PublisherOptions{Timeout: 300 * time.Millisecond, NewPathsPerMinute: 10})
	proxy, p, reg, names, direct := x.proxy, x.p, x.reg, x.names, x.direct
	ctx := context.Background()
	events := []event.Event{{Type: event.Impression, AdID: 9, ID: idA}, {Type: event.Hit, Path: "/r", ID: idB}}

	proxy.CutReplies(1)
	ids, err := p.Publish(ctx, events, 1)
	require.NoError(t, err, "the receipt says the write ran")
	entries := direct.XRange(ctx, names.ImpressionsStream(), "-", "+").Val()
	require.Len(t, entries, 1)
	require.Equal(t, []string{entries[0].ID, ""}, ids)

	_, err = p.Publish(ctx, []event.Event{{Type: event.Click, AdID: 1}}, 1) // a new connection, warmed
	require.NoError(t, err)
	proxy.CutReplies(1)
	again, err := p.Publish(ctx, events, 1)
	require.NoError(t, err, "the retry's receipt says it ran, and stored nothing")
	require.Equal(t, ids, again)
	require.EqualValues(t, 1, direct.XLen(ctx, names.ImpressionsStream()).Val())
	require.Equal(t, "1", direct.Get(ctx, names.HitKey("/r")).Val())
	require.Equal(t, 2.0, testkit.Metric(t, reg, "adly_api_redis_lost_replies_total", "outcome", "stored"))
}
