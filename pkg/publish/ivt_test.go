package publish_test

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"adly/pkg/event"
	"adly/pkg/publish"
	"adly/pkg/testkit"
)

// Invalid traffic is written with its reason in an ivt field, valid traffic exactly as before (ad_id, ts):
// entry by entry, also when both kinds share one request.
func TestPublishWritesInvalidTrafficWithItsReason(t *testing.T) {
	t.Parallel()
	client, names := testkit.Redis(t)
	p, _ := startPublisher(t, client, names, publish.PublisherOptions{})
	ctx := context.Background()

	imp := func(ad int64, ivt string) event.Event {
		return event.Event{Type: event.Impression, AdID: ad, Invalid: ivt}
	}
	click := func(ad int64, ivt string) event.Event { return event.Event{Type: event.Click, AdID: ad, Invalid: ivt} }
	hit := event.Event{Type: event.Hit, Path: "/h"}
	valid := func(ad string) map[string]any { return map[string]any{"ad_id": ad, "ts": "1700000000"} }
	invalid := func(ad, ivt string) map[string]any {
		return map[string]any{"ad_id": ad, "ts": "1700000000", "ivt": ivt}
	}
	tests := []struct {
		name   string
		events []event.Event
		want   []map[string]any // the entry of each event, in order
	}{
		{"a valid impression", []event.Event{imp(1, "")}, []map[string]any{valid("1")}},
		{"a crawler's impression", []event.Event{imp(2, "crawler")}, []map[string]any{invalid("2", "crawler")}},
		{"a valid click", []event.Event{click(3, "")}, []map[string]any{valid("3")}},
		{"an invalid click", []event.Event{click(4, "datacenter")}, []map[string]any{invalid("4", "datacenter")}},
		{"both kinds in one request", []event.Event{imp(5, ""), imp(6, "crawler"), imp(7, ""), imp(8, ""), click(9, "crawler")},
			[]map[string]any{valid("5"), invalid("6", "crawler"), valid("7"), valid("8"), invalid("9", "crawler")}},
		{"beside hits", []event.Event{hit, imp(10, "crawler"), hit, imp(11, "")},
			[]map[string]any{nil, invalid("10", "crawler"), nil, valid("11")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids, err := p.Publish(ctx, tt.events, 1700000000)
			require.NoError(t, err)
			require.Len(t, ids, len(tt.events))
			for i, e := range tt.events {
				if e.Type == event.Hit {
					require.Empty(t, ids[i])
					continue
				}
				got, err := client.XRange(ctx, names.Stream(e.Type), ids[i], ids[i]).Result()
				require.NoError(t, err)
				require.Equal(t, []redis.XMessage{{ID: ids[i], Values: tt.want[i]}}, got, "event %d", i)
			}
		})
	}
	require.Equal(t, "2", client.Get(ctx, names.HitKey("/h")).Val(), "hits beside invalid traffic are counted")
}

// Hits are never invalid traffic (the API drops invalid hits): a hit marked invalid is refused, with nothing
// of its request stored.
func TestPublishRefusesAnInvalidHit(t *testing.T) {
	t.Parallel()
	client, names := testkit.Redis(t)
	p, _ := startPublisher(t, client, names, publish.PublisherOptions{})
	ctx := context.Background()

	_, err := p.Publish(ctx, []event.Event{{Type: event.Impression, AdID: 1}, {Type: event.Hit, Path: "/a", Invalid: "crawler"}}, 1)
	require.ErrorIs(t, err, event.ErrInvalid)
	require.Empty(t, testkit.RedisKeys(t, client, names.Prefix()))
}
