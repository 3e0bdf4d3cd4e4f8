package ingest

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"adly/pkg/event"
	"adly/pkg/keyspace"
	"adly/pkg/redisconn"
	"adly/pkg/testkit"
)

// startApp runs an API over the test cluster with cfg until the test ends.
func startApp(t *testing.T, cfg Config) *App {
	t.Helper()
	client := redisconn.NewClient(cfg.Redis, redisconn.ClientOptions{NoRetries: true})
	t.Cleanup(func() { _ = client.Close() })
	app, err := New(cfg, zaptest.NewLogger(t), client, time.Now)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })
	testkit.WaitServing(t, "http://"+app.AdminAddr()+"/readyz", 10*time.Second)
	return app
}

// browserGet is get with a browser's User-Agent: valid traffic.
func browserGet(t *testing.T, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	req.Header.Set("User-Agent", testkit.BrowserUA)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// impressions sends n single impressions, one request each (so, round-robin, one to each of n shards), and
// counts the answers by status; bodies holds the 503s'.
func impressions(t *testing.T, app *App, n int) (codes map[int]int, bodies []string) {
	t.Helper()
	codes = map[int]int{}
	for i := range n {
		code, body := browserGet(t, "http://"+app.Addr()+"/track/impression?ad_id="+strconv.Itoa(i+1))
		codes[code]++
		if code == http.StatusServiceUnavailable {
			bodies = append(bodies, body)
		}
	}
	return codes, bodies
}

// REDIS_WAIT_REPLICAS=1 on the cluster with six shards: healthy, every request is answered 200. With the
// replica of one master killed, the requests whose shard that master holds are answered 503, saying that
// the events were stored but not confirmed by a replica, so they may or may not survive a failover; the
// others 200. An API with REDIS_WAIT_REPLICAS=0 answers 200 throughout. Every event is stored either way.
func TestWaitReplicasOnTheCluster(t *testing.T) {
	ctx := context.Background()
	c, names := testkit.ClusterExclusive(t)
	testkit.WaitClusterWhole(t, 60*time.Second)
	const shards = 6
	cfg := testConfig(t, testkit.ClusterConfig(t), names.Prefix())
	cfg.StreamShards = shards
	waiting := cfg
	waiting.WaitReplicas = 1
	withWait, withoutWait := startApp(t, waiting), startApp(t, cfg)
	names = redisconn.Names(cfg.Redis)
	streams := names.Streams(event.Impression)
	stored := func() int64 {
		var n int64
		for _, s := range streams {
			n += c.XLen(ctx, s).Val()
		}
		return n
	}

	codes, _ := impressions(t, withWait, shards)
	require.Equal(t, map[int]int{http.StatusOK: shards}, codes, "a healthy cluster confirms every write")

	// The replica of the master of shard 0, and the shards that master holds.
	master := testkit.ClusterMasterOf(t, keyspace.Slot(streams[0]))
	var replica *testkit.ClusterNode
	for _, n := range testkit.ClusterNodes(t) {
		if n.MasterID == master.ID {
			replica = n
		}
	}
	require.NotNil(t, replica, "the master at %s has a replica", master.Addr)
	if replica.PID == 0 {
		t.Skip("the cluster was not started by scripts/lib/cluster.sh: its nodes cannot be killed")
	}
	held := 0
	for _, s := range streams {
		if master.Owns(keyspace.Slot(s)) {
			held++
		}
	}
	require.Equal(t, 2, held, "six shards, two on each master")

	replica.Kill()
	codes, bodies := impressions(t, withWait, shards)
	require.Equal(t, map[int]int{http.StatusOK: shards - held, http.StatusServiceUnavailable: held}, codes,
		"the requests of the shards whose master lost its replica are not confirmed")
	for _, b := range bodies {
		require.Contains(t, b, `"status":"error"`)
		require.Contains(t, b, "did not confirm")
		require.Contains(t, b, "only 0 of 1 replica(s) acknowledged them")
		require.Contains(t, b, "may or may not survive a failover")
	}
	require.EqualValues(t, 2*shards, stored(), "stored on the masters all the same")
	require.Equal(t, float64(held), testkit.AdminMetric(t, withWait.AdminAddr(), "adly_api_redis_wait_total", "outcome", "not_confirmed"))
	require.Equal(t, float64(held), testkit.AdminMetric(t, withWait.AdminAddr(), "adly_api_redis_errors_total", "reason", "not_replicated"))

	codes, _ = impressions(t, withoutWait, shards)
	require.Equal(t, map[int]int{http.StatusOK: shards}, codes, "without REDIS_WAIT_REPLICAS nothing changes")
	require.EqualValues(t, 3*shards, stored())

	replica.Restart()
	testkit.WaitClusterWhole(t, 60*time.Second)
	codes, _ = impressions(t, withWait, shards)
	require.Equal(t, map[int]int{http.StatusOK: shards}, codes, "confirmed again once the replica is back")
	require.EqualValues(t, 4*shards, stored())
}
