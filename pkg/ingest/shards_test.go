package ingest

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"adly/pkg/event"
	"adly/pkg/redisconn"
	"adly/pkg/testkit"
)

// STREAM_SHARDS=3 on a single Redis: the API's requests go to the three shards of each stream in turn, and
// their hits to the path's counters under the shards' tags.
func TestAppSpreadsOverStreamShards(t *testing.T) {
	ctx := context.Background()
	direct, names := testkit.Redis(t)
	cfg := testConfig(t, testkit.RedisConfig(t), names.Prefix())
	cfg.StreamShards = 3
	app := startApp(t, cfg)
	names = redisconn.Names(cfg.Redis)

	codes, _ := impressions(t, app, 9)
	require.Equal(t, map[int]int{http.StatusOK: 9}, codes)
	for range 3 {
		code, body := browserGet(t, "http://"+app.Addr()+"/track/hit?path=/three")
		require.Equal(t, http.StatusOK, code, body)
	}
	var lens []int64
	var hits []string
	for _, s := range names.Streams(event.Impression) {
		lens = append(lens, direct.XLen(ctx, s).Val())
		hits = append(hits, direct.Get(ctx, names.TaggedHitKey("/three", names.ShardTag(s))).Val())
	}
	require.Equal(t, []int64{3, 3, 3}, lens)
	require.Equal(t, []string{"1", "1", "1"}, hits)
	require.Zero(t, direct.Exists(ctx, names.ImpressionsStream(), names.HitKey("/three")).Val(), "the seed's names are not written")
}
