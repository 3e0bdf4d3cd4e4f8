package publish_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"adly/pkg/event"
	"adly/pkg/publish"
	"adly/pkg/testkit"
)

// NewPathsPerMinute bounds the path counters created in a minute: a request whose hits would create more
// than the minute has left is refused as a whole (nothing of it stored) with ErrTooManyNewPaths and the
// time until the next minute; hits on paths that exist, and other events, need no budget.
func TestPublishBoundsNewPathsPerMinute(t *testing.T) {
	t.Parallel()
	client, names := testkit.Redis(t)
	clock := testkit.NewClock(time.Date(2026, 11, 22, 10, 0, 30, 0, time.UTC))
	p, reg := startPublisher(t, client, names, publish.PublisherOptions{NewPathsPerMinute: 3, Now: clock.Now})
	ctx := context.Background()

	imp := func(ad int64) event.Event { return event.Event{Type: event.Impression, AdID: ad} }
	hit := func(path string) event.Event { return event.Event{Type: event.Hit, Path: path} }
	steps := []struct {
		name    string
		events  []event.Event
		refused bool
	}{
		{"a new path", []event.Event{hit("/n1")}, false},
		{"a new path hit twice uses one", []event.Event{hit("/n2"), hit("/n2")}, false},
		{"two new paths when one is left", []event.Event{imp(1), hit("/n3"), hit("/n4")}, true},
		{"the last one", []event.Event{imp(2), hit("/n3")}, false},
		{"none left", []event.Event{hit("/n5")}, true},
		{"none left, beside events that need none", []event.Event{imp(3), hit("/n1"), hit("/n6")}, true},
		{"paths that exist need none", []event.Event{hit("/n1"), hit("/n2"), hit("/n3")}, false},
		{"impressions need none", []event.Event{imp(4)}, false},
	}
	for _, st := range steps {
		ids, err := p.Publish(ctx, st.events, 1)
		if !st.refused {
			require.NoError(t, err, st.name)
			require.Len(t, ids, len(st.events), st.name)
			continue
		}
		require.ErrorIs(t, err, publish.ErrTooManyNewPaths, st.name)
		require.Nil(t, ids, st.name)
		var npe *publish.NewPathsError
		require.True(t, errors.As(err, &npe), st.name)
		require.Equal(t, 3, npe.Limit)
		require.InDelta(t, 30*time.Second, npe.RetryAfter, float64(time.Second), "until the next minute starts")
	}

	hits := map[string]string{}
	for _, k := range testkit.RedisKeys(t, client, names.HitKey("")) {
		path, _ := names.PathOfHitKey(k)
		hits[path] = client.Get(ctx, k).Val()
	}
	require.Equal(t, map[string]string{"/n1": "2", "/n2": "3", "/n3": "2"}, hits, "refused requests stored nothing")
	var ads []any
	for _, m := range client.XRange(ctx, names.ImpressionsStream(), "-", "+").Val() {
		ads = append(ads, m.Values["ad_id"])
	}
	require.Equal(t, []any{"2", "4"}, ads, "nor their impressions")
	require.Equal(t, 3.0, testkit.Metric(t, reg, "adly_api_redis_errors_total", "reason", "new_paths"))

	clock.Advance(time.Minute)
	_, err := p.Publish(ctx, []event.Event{hit("/n5"), hit("/n6")}, 1)
	require.NoError(t, err, "a new minute, a new budget")
	require.Equal(t, "1", client.Get(ctx, names.HitKey("/n5")).Val())
}

// Without a bound (the zero value) new paths are never refused.
func TestPublishNewPathsUnbounded(t *testing.T) {
	t.Parallel()
	client, names := testkit.Redis(t)
	p, _ := startPublisher(t, client, names, publish.PublisherOptions{})
	events := make([]event.Event, 50)
	for i := range events {
		events[i] = event.Event{Type: event.Hit, Path: "/u" + string(rune('a'+i%26)) + string(rune('a'+i/26))}
	}
	_, err := p.Publish(context.Background(), events, 1)
	require.NoError(t, err)
	require.Len(t, testkit.RedisKeys(t, client, names.HitKey("")), 50)
	require.Empty(t, testkit.RedisKeys(t, client, names.Prefix()+"adly:newpaths:"), "no budget kept")
}
