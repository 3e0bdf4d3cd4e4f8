package operator

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"adly/pkg/event"
	"adly/pkg/ledger"
	"adly/pkg/stream"
)

// With STREAM_SHARDS=4, inspect shows every shard's length, lag, pending entries and dead letters, and a
// total per kind, on the screen and in the JSON document.
func TestInspectShards(t *testing.T) {
	e := newEnv(t)
	e.setenv(t)
	t.Setenv("STREAM_SHARDS", "4")
	ctx := context.Background()
	names := e.names.WithShards(4)
	imps := names.Streams(event.Impression)
	require.Len(t, imps, 4)
	// Shard i holds i+1 entries; shards 1 and 2 have a group, which took one entry from shard 2 (pending);
	// shard 3 has a dead letter and no group.
	for i, s := range imps {
		for range i + 1 {
			require.NoError(t, e.client.XAdd(ctx, &redis.XAddArgs{Stream: s, Values: map[string]any{"ad_id": "1", "ts": fmt.Sprint(day.Unix())}}).Err())
		}
	}
	for _, i := range []int{1, 2} {
		require.NoError(t, stream.NewGroup(e.client, imps[i], names.ImpressionGroup()).Ensure(ctx))
	}
	_, err := stream.NewGroup(e.client, imps[2], names.ImpressionGroup()).Read(ctx, "host-a", ">", 1, -1)
	require.NoError(t, err)
	require.NoError(t, e.client.XAdd(ctx, &redis.XAddArgs{Stream: stream.DeadLetterStream(imps[3]), Values: map[string]any{"original_id": "1-1", "reason": "poison"}}).Err())

	short := func(s string) string { return strings.TrimPrefix(s, e.names.Prefix()) }
	code, stdout, stderr := run(t, "inspect", "--date", "2026-11-20")
	require.Equal(t, 0, code, stderr)
	spaces := regexp.MustCompile(` +`)
	screen := spaces.ReplaceAllString(strings.ReplaceAll(stdout, e.names.Prefix(), ""), " ")
	require.Contains(t, screen, "impressions: 4 shards, group impression_group\n stream length lag pending dead oldest pending\n")
	require.Contains(t, screen, " "+short(imps[0])+" 1 - - 0 no group yet\n")
	require.Contains(t, screen, " "+short(imps[1])+" 2 2 0 0 -\n")
	require.Regexp(t, regexp.QuoteMeta(" "+short(imps[2])+" 3 2 1 0 ")+`\d+-\d+ idle \d+s\n`, screen)
	require.Contains(t, screen, " "+short(imps[3])+" 4 - - 1 no group yet\n")
	require.Contains(t, screen, " total 10 9 1 1 \n", "lag counts the shards without a group whole")
	require.Contains(t, screen, "clicks: 4 shards, group click_group\n")

	code, stdout, stderr = run(t, "inspect", "--json", "--date", "2026-11-20")
	require.Equal(t, 0, code, stderr)
	var doc struct {
		Redis RedisReport `json:"redis"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &doc))
	require.Len(t, doc.Redis.Streams, 8)
	for i, s := range imps {
		require.Equal(t, s, doc.Redis.Streams[i].Stream)
		require.Equal(t, "impressions", doc.Redis.Streams[i].Kind)
		require.Equal(t, "clicks", doc.Redis.Streams[4+i].Kind)
	}
	require.Len(t, doc.Redis.Kinds, 2)
	k := doc.Redis.Kinds[0]
	require.Equal(t, "impressions", k.Kind)
	require.Equal(t, 4, k.Shards)
	require.EqualValues(t, 10, *k.Length)
	require.EqualValues(t, 9, *k.Lag)
	require.EqualValues(t, 1, *k.Pending)
	require.EqualValues(t, 1, *k.DeadLetters)
	c := doc.Redis.Kinds[1]
	require.Equal(t, "clicks", c.Kind)
	require.EqualValues(t, 0, *c.Length, "no click stream yet")
}

// adly replay with STREAM_SHARDS=3 clears the day once and moves every shard's group back.
func TestReplayShards(t *testing.T) {
	e := newEnv(t)
	e.setenv(t)
	t.Setenv("STREAM_SHARDS", "3")
	ctx := context.Background()
	names := e.names.WithShards(3)
	var groups []*stream.Group
	for i, s := range names.Streams(event.Impression) {
		g := stream.NewGroup(e.client, s, names.ImpressionGroup())
		groups = append(groups, g)
		for range i + 1 {
			require.NoError(t, e.client.XAdd(ctx, &redis.XAddArgs{Stream: s, Values: map[string]any{"ad_id": "7", "ts": fmt.Sprint(day.Unix())}}).Err())
		}
		require.NoError(t, g.Ensure(ctx))
		msgs, err := g.Read(ctx, "host-a", ">", 10, -1)
		require.NoError(t, err)
		b := ledger.Batch{Zone: "UTC", Ranges: []ledger.Range{{First: msgs[0].ID, Last: msgs[len(msgs)-1].ID}}}
		for _, m := range msgs {
			b.Entries = append(b.Entries, ledger.Entry{ID: m.ID, AdID: 7, TS: day.Unix(), Date: "2026-11-20"})
		}
		_, err = ledger.NewCounter(e.db, ledger.Impressions, s, g.Name()).Commit(ctx, b)
		require.NoError(t, err)
		require.NoError(t, g.Ack(ctx, ids(msgs)))
	}
	counts, err := ledger.NewCounter(e.db, ledger.Impressions, groups[0].Stream(), groups[0].Name()).Counts(ctx)
	require.NoError(t, err)
	require.Equal(t, []ledger.Count{{AdID: 7, Date: "2026-11-20", Count: 6}}, counts)

	code, stdout, stderr := run(t, "replay", "--kind", "impressions", "--from", "2026-11-20")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "cleared 1 rows of ad_daily_impressions")
	require.Contains(t, stdout, "group impression_group reset on each of the 3 shards")
	counts, err = ledger.NewCounter(e.db, ledger.Impressions, groups[0].Stream(), groups[0].Name()).Counts(ctx)
	require.NoError(t, err)
	require.Empty(t, counts)
	var replays int
	require.NoError(t, e.db.Get(&replays, "SELECT COUNT(*) FROM stream_replays"))
	require.Equal(t, 3, replays, "one per shard")
	for i, g := range groups {
		require.Contains(t, stdout, g.Stream()+" to ")
		msgs, err := g.Read(ctx, "host-b", ">", 10, -1)
		require.NoError(t, err)
		require.Len(t, msgs, i+1, "the group of %s moved back", g.Stream())
	}
}

func ids(msgs []stream.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.RawID
	}
	return out
}
