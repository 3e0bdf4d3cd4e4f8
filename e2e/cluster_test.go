package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"adly/pkg/event"
	"adly/pkg/keyspace"
	"adly/pkg/testkit"
)

// clusterShards is STREAM_SHARDS in the cluster tests: two shards per master of the test cluster.
const clusterShards = 6

// clusterRun is the real binaries of one test on the test Redis Cluster, with STREAM_SHARDS shards.
type clusterRun struct {
	t      *testing.T
	c      *redis.ClusterClient
	names  keyspace.Names // as the binaries take them: the test's prefix, the shards, tagged for a cluster
	db     *sqlx.DB
	common []string

	mu    sync.Mutex
	procs map[string]*clusterProc // by name
}

type clusterProc struct {
	bin string
	env []string
	p   *testkit.Process
}

func newClusterRun(t *testing.T, c *redis.ClusterClient, names keyspace.Names) *clusterRun {
	db, dbCfg := testkit.MariaDB(t)
	return &clusterRun{
		t: t, c: c, db: db, procs: map[string]*clusterProc{},
		names: names.WithShards(clusterShards).OnCluster(),
		common: append(testkit.ClusterEnv(t), "REDIS_KEY_PREFIX="+names.Prefix(), "STREAM_SHARDS="+strconv.Itoa(clusterShards),
			"DB_NAME="+dbCfg.Name, "LOG_LEVEL=warn", "ADMIN_ADDR=127.0.0.1:0", "TIMEZONE=UTC"),
	}
}

// spawn starts a named binary with the run's environment and env.
func (r *clusterRun) spawn(name, bin string, env ...string) {
	cp := &clusterProc{bin: testkit.Binary(r.t, bin), env: append(append([]string{}, r.common...), env...)}
	cp.p = testkit.Spawn(r.t, cp.bin, cp.env...)
	r.mu.Lock()
	r.procs[name] = cp
	r.mu.Unlock()
}

// killAndRestart SIGKILLs the named process and starts it again with the same environment (a worker keeps
// its consumer name, so it first re-reads what it had pending).
func (r *clusterRun) killAndRestart(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cp := r.procs[name]
	cp.p.Kill()
	cp.p = testkit.Spawn(r.t, cp.bin, cp.env...)
}

// startPipeline starts the API on httpAddr, two impression workers, two click workers and a path syncer.
func (r *clusterRun) startPipeline(httpAddr string, apiEnv ...string) {
	r.spawn("api", "api", append([]string{"HTTP_ADDR=" + httpAddr, "NEW_PATHS_PER_MINUTE=0"}, apiEnv...)...)
	worker := []string{"BLOCK=200ms", "CLAIM_MIN_IDLE=3s", "CLAIM_INTERVAL=500ms", "TRIM_INTERVAL=1s", "SHUTDOWN_TIMEOUT=2s"}
	for i := 1; i <= 2; i++ {
		r.spawn(fmt.Sprintf("imp%d", i), "impression-worker", append([]string{fmt.Sprintf("CONSUMER_NAME=imp%d", i)}, worker...)...)
		r.spawn(fmt.Sprintf("clk%d", i), "click-worker", append([]string{fmt.Sprintf("CONSUMER_NAME=clk%d", i)}, worker...)...)
	}
	r.spawn("syncer", "path-syncer", "SYNC_INTERVAL=300ms", "SYNC_LOCK_TTL=3s", "SHUTDOWN_TIMEOUT=2s")
}

// drained reports whether every shard of both kinds has delivered and acknowledged every entry, and no
// path counter or staged sync chunk is left on any master; if not, what is left.
func (r *clusterRun) drained(ctx context.Context) (bool, string) {
	for _, typ := range []event.Type{event.Impression, event.Click} {
		group := r.names.ImpressionGroup()
		if typ == event.Click {
			group = r.names.ClickGroup()
		}
		for _, s := range r.names.Streams(typ) {
			info, err := r.c.XInfoStream(ctx, s).Result()
			if err != nil {
				return false, fmt.Sprintf("%s: %v", s, err)
			}
			groups, err := r.c.XInfoGroups(ctx, s).Result()
			if err != nil || len(groups) != 1 || groups[0].Name != group || groups[0].Pending != 0 || groups[0].LastDeliveredID != info.LastGeneratedID {
				return false, fmt.Sprintf("%s (last %s): groups %+v %v", s, info.LastGeneratedID, groups, err)
			}
		}
	}
	var left []string
	var mu sync.Mutex // ForEachMaster calls every master at once
	err := r.c.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		// Counters, and the syncer's pending sets and staged chunks (its lock, epoch and fences stay).
		for _, pattern := range []string{r.names.HitKeyPattern(), r.names.Prefix() + "analytics:sync:pending*", r.names.Prefix() + "analytics:sync:staging*"} {
			keys, err := node.Keys(ctx, pattern).Result()
			if err != nil {
				return err
			}
			mu.Lock()
			left = append(left, keys...)
			mu.Unlock()
		}
		return nil
	})
	if err != nil || len(left) > 0 {
		return false, fmt.Sprintf("%v; %d keys left: %q", err, len(left), left[:min(len(left), 10)])
	}
	return true, ""
}

func (r *clusterRun) counted(ctx context.Context, table, column string) map[adDate]int64 {
	got := map[adDate]int64{}
	rows, err := r.db.QueryContext(ctx, "SELECT ad_id, DATE_FORMAT(date, '%Y-%m-%d'), "+column+" FROM "+table)
	require.NoError(r.t, err)
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var k adDate
		var n int64
		require.NoError(r.t, rows.Scan(&k.ad, &k.date, &n))
		got[k] = n
	}
	require.NoError(r.t, rows.Err())
	return got
}

func (r *clusterRun) countedHits(ctx context.Context) map[string]int64 {
	got := map[string]int64{}
	rows, err := r.db.QueryContext(ctx, "SELECT path, hit_count FROM path_counters")
	require.NoError(r.t, err)
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var p string
		var n int64
		require.NoError(r.t, rows.Scan(&p, &n))
		got[p] = n
	}
	require.NoError(r.t, rows.Err())
	return got
}

// The whole pipeline on a real Redis Cluster with STREAM_SHARDS=6: the API, two workers of each kind and the
// path syncer, as binaries. While clients send impressions, clicks and path hits (batches, single events,
// and impressions with an event_id sent twice, as a browser's retry), a worker or the syncer is SIGKILLed
// every few hundred milliseconds and started again. In the end MariaDB holds exactly what the API answered
// 200 for: every (ad_id, date) of both kinds and every path.
func TestShardedPipelineOnClusterCountsExactlyUnderChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole pipeline on the test cluster")
	}
	ctx := context.Background()
	c, names := testkit.Cluster(t)
	r := newClusterRun(t, c, names)
	httpAddr := testkit.FreeAddr(t)
	r.startPipeline(httpAddr)
	book := newAnswered()
	lc := &loadClient{base: "http://" + httpAddr, http: &http.Client{Timeout: 10 * time.Second}, book: book}
	testkit.WaitServing(t, lc.base+"/", 15*time.Second)

	stopLoad := make(chan struct{})
	var load sync.WaitGroup
	var eventIDs atomic.Int64
	for g := range 3 {
		load.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for {
				select {
				case <-stopLoad:
					return
				default:
				}
				var err error
				switch g {
				case 0: // batches of impressions, clicks and hits on 300 paths (new and existing counters)
					_, err = lc.mixedBatch(rng, 20, 5, 20)
				case 1: // single impressions with an event_id, each sent twice
					_, err = lc.impressionWithRetry(1+rng.Int64N(50), eventIDs.Add(1))
				default: // single clicks
					_, err = lc.click(1 + rng.Int64N(50))
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}

	// Chaos: a worker or the syncer, SIGKILLed and started again, every 300–900 ms for 12 s.
	victims := []string{"imp1", "imp2", "clk1", "clk2", "syncer"}
	kills := 0
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	for end := time.Now().Add(12 * time.Second); time.Now().Before(end) && !t.Failed(); kills++ {
		time.Sleep(time.Duration(300+rng.IntN(600)) * time.Millisecond)
		r.killAndRestart(victims[rng.IntN(len(victims))])
	}
	close(stopLoad)
	load.Wait()
	require.False(t, t.Failed())

	var why string
	if !testkit.Within(90*time.Second, func() (ok bool) { ok, why = r.drained(ctx); return ok }) {
		t.Fatalf("every shard consumed and every path counter synced within 90s: %s", why)
	}
	require.Positive(t, book.accepted)
	require.Equal(t, book.impressions, r.counted(ctx, "ad_daily_impressions", "impressions"), "impressions answered 200, each counted once")
	require.Equal(t, book.clicks, r.counted(ctx, "ad_daily_clicks", "clicks"), "clicks answered 200, each counted once")
	require.Equal(t, book.hits, r.countedHits(ctx), "path hits answered 200, each counted once")

	// The events were spread over every shard of both kinds.
	for _, typ := range []event.Type{event.Impression, event.Click} {
		for _, s := range r.names.Streams(typ) {
			info, err := c.XInfoStream(ctx, s).Result()
			require.NoError(t, err, s)
			require.NotEqual(t, "0-0", info.LastGeneratedID, "shard %s was written", s)
		}
	}
	t.Logf("%d requests answered 200, %d refused; %d kills; %d (ad, date) impression keys, %d click keys, %d paths counted exactly",
		book.accepted, book.refused, kills, len(book.impressions), len(book.clicks), len(book.hits))
}

// A Redis master is killed under load, while its replica lags behind, and the replica is promoted. With
// REDIS_WAIT_REPLICAS=1 the API answers 200 only once a replica holds the write, so every event answered 200
// is counted exactly once. Without it, Redis acknowledges before it replicates: the test records how many
// events answered 200 were lost (it asserts only that none was counted twice or counted without being
// sent). Every request carries an ad_id of its own, so each event is followed by itself.
func TestFailoverKeepsEveryConfirmedEvent(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a master of the test cluster")
	}
	for _, wait := range []int{1, 0} {
		t.Run("REDIS_WAIT_REPLICAS="+strconv.Itoa(wait), func(t *testing.T) { failover(t, wait) })
	}
}

func failover(t *testing.T, wait int) {
	ctx := context.Background()
	c, names := testkit.ClusterExclusive(t)
	r := newClusterRun(t, c, names)
	httpAddr := testkit.FreeAddr(t)
	r.spawn("api", "api", "HTTP_ADDR="+httpAddr, "REDIS_WAIT_REPLICAS="+strconv.Itoa(wait), "REDIS_WRITE_TIMEOUT=2s")
	r.spawn("imp1", "impression-worker", "CONSUMER_NAME=imp1", "BLOCK=200ms", "CLAIM_MIN_IDLE=2s", "CLAIM_INTERVAL=500ms", "SHUTDOWN_TIMEOUT=1s")
	base := "http://" + httpAddr
	testkit.WaitServing(t, base+"/", 15*time.Second)

	var mu sync.Mutex
	sent := map[int64]int{} // ad_id → status answered (0: no answer)
	var next atomic.Int64
	stop := make(chan struct{})
	var load sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for range 4 {
		load.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				ad := next.Add(1)
				req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/track/impression?ad_id=%d", base, ad), nil)
				if err != nil {
					t.Error(err)
					return
				}
				req.Header.Set("User-Agent", testkit.BrowserUA)
				code := 0
				if resp, err := client.Do(req); err == nil {
					code = resp.StatusCode
					_ = resp.Body.Close()
				}
				mu.Lock()
				sent[ad] = code
				mu.Unlock()
				if code != http.StatusOK {
					time.Sleep(5 * time.Millisecond)
				}
			}
		})
	}
	accepted := func() int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, code := range sent {
			if code == http.StatusOK {
				n++
			}
		}
		return n
	}
	testkit.Wait(t, 20*time.Second, func() bool { return accepted() > 300 }, "the API accepts impressions before the kill")

	// The replica of the first impression shard's master falls behind: it is frozen, and the master's
	// output buffer to it is filled (40 MB under the test's prefix, in the shard's slot), so that what the
	// master answers from now on stays in that buffer. The load goes on for a second; then the master is
	// killed and the replica, thawed, takes over without what it never received.
	shard := r.names.Streams(event.Impression)[0]
	slot := keyspace.Slot(shard)
	victim := testkit.ClusterMasterOf(t, slot)
	var replica *testkit.ClusterNode
	for _, n := range testkit.ClusterNodes(t) {
		if n.MasterID == victim.ID {
			replica = n
		}
	}
	require.NotNil(t, replica, "a replica of %s", victim.Addr)
	require.NotZero(t, replica.PID)
	require.NoError(t, syscall.Kill(replica.PID, syscall.SIGSTOP))
	thaw := sync.OnceFunc(func() { _ = syscall.Kill(replica.PID, syscall.SIGCONT) })
	t.Cleanup(thaw)
	mc := victim.Client()
	junk := strings.Repeat("j", 1<<20)
	for i := range 40 {
		require.NoError(t, mc.Set(ctx, fmt.Sprintf("%sfailover-junk:{%s}:%d", r.names.Prefix(), r.names.ShardTag(shard), i), junk, 0).Err())
	}
	time.Sleep(time.Second) // the load goes on against a lagging replica: what this test is about, not a gate
	before := accepted()
	victim.Kill()
	thaw()
	testkit.Wait(t, 60*time.Second, func() bool {
		for _, n := range testkit.ClusterNodes(t) {
			if n.Master && n.Owns(slot) && n.Addr != victim.Addr && !n.Failed {
				return true
			}
		}
		return false
	}, "a replica of %s is promoted", victim.Addr)
	// The old master comes back as the new master's replica, so a write can be confirmed again everywhere.
	victim.Restart()
	testkit.WaitClusterWhole(t, 60*time.Second)
	after := accepted()
	testkit.Wait(t, 30*time.Second, func() bool { return accepted() > after+300 }, "the API accepts again after the failover")
	close(stop)
	load.Wait()

	// Drained: every impression shard delivered and acknowledged everything it holds.
	require.Eventually(t, func() bool {
		for _, s := range r.names.Streams(event.Impression) {
			info, err := c.XInfoStream(ctx, s).Result()
			if err != nil {
				return false
			}
			groups, err := c.XInfoGroups(ctx, s).Result()
			if err != nil || len(groups) != 1 || groups[0].Pending != 0 || groups[0].LastDeliveredID != info.LastGeneratedID {
				return false
			}
		}
		return true
	}, 90*time.Second, 200*time.Millisecond, "the worker consumed every shard")

	perAd := map[int64]int64{}
	for k, n := range r.counted(ctx, "ad_daily_impressions", "impressions") {
		perAd[k.ad] += n
	}
	lost, unconfirmedKept, unconfirmed := 0, 0, 0
	for ad, code := range sent {
		n := perAd[ad]
		require.LessOrEqual(t, n, int64(1), "ad %d counted more than once", ad)
		switch {
		case code == http.StatusOK && n == 0:
			lost++
		case code != http.StatusOK:
			unconfirmed++
			if n == 1 {
				unconfirmedKept++
			}
		}
	}
	for ad := range perAd {
		_, ok := sent[ad]
		require.True(t, ok, "ad %d counted but never sent", ad)
	}
	figure := fmt.Sprintf("REDIS_WAIT_REPLICAS=%d: %d impressions sent, %d answered 200 (%d before the kill), %d answered otherwise "+
		"(%d of those stored anyway), %d answered 200 and LOST in the failover of %s (its replica lagging)", wait, len(sent), accepted(), before,
		unconfirmed, unconfirmedKept, lost, victim.Addr)
	t.Log(figure)
	recordFigure(t, "failover.txt", figure)
	if wait > 0 {
		require.Zero(t, lost, "with REDIS_WAIT_REPLICAS every event answered 200 survives the failover")
	}
}

// recordFigure appends a line to a file of the run's artifacts, so that figures a test measures (and does
// not assert) can be read after the run.
func recordFigure(t *testing.T, name, line string) {
	f, err := os.OpenFile(filepath.Join(artifactsDir(t), name), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	require.NoError(t, err)
	defer func() { _ = f.Close() }()
	_, err = fmt.Fprintf(f, "%s %s\n", time.Now().UTC().Format(time.RFC3339), line)
	require.NoError(t, err)
}
