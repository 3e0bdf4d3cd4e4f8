package pathsync

import (
	"context"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"adly/pkg/keyspace"
	"adly/pkg/testkit"
)

// These tests run the real path-syncer binary on the test Redis Cluster (three masters), with path counters
// written untagged (analytics:hit:<path>, any producer: scattered over every slot) and under the API's shard
// tags (analytics:hit{tag}:<path>: a few slots), often both for one path. Every path's total must be exact.

// newClusterEnv is newEnv on the test cluster; its counters are written under tags (one of them "", untagged).
func newClusterEnv(t *testing.T) *env {
	t.Helper()
	c, names := testkit.Cluster(t)
	db, cfg := testkit.MariaDB(t)
	e := newEnvOn(c, names, db, cfg.Name, testkit.ClusterEnv(t))
	e.tags = append([]string{""}, keyspace.ShardTags(6)...)
	return e
}

// hitKey is the counter a producer writes for path: under one of the env's tags, chosen by pick.
func (e *env) hitKey(path string, pick int) string {
	if len(e.tags) == 0 {
		return e.names.HitKey(path)
	}
	return e.names.TaggedHitKey(path, e.tags[pick%len(e.tags)])
}

// forEachNode runs fn on every master of a cluster, or on the one Redis.
func (e *env) forEachNode(ctx context.Context, fn func(ctx context.Context, c redis.UniversalClient) error) error {
	if cc, ok := e.client.(*redis.ClusterClient); ok {
		var mu sync.Mutex
		return cc.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
			mu.Lock()
			defer mu.Unlock()
			return fn(ctx, node)
		})
	}
	return fn(ctx, e.client)
}

func TestClusterSyncIsExact(t *testing.T) {
	e := newClusterEnv(t)
	made := map[string]uint64{}
	e.preload(t, "c", 3000, made)
	require.Len(t, made, 3000)
	code, out := e.once(t, "SYNC_CHUNK_PATHS=500", "SYNC_LOCK_TTL=30s")
	require.Equal(t, 0, code, out)
	e.requireExact(t, made)
	require.Empty(t, e.left(t), "every counter moved")
	require.Zero(t, e.pendingCount(t), "every chunk finished")
}

// Hits keep arriving (untagged and tagged, on every master) while syncers run and are SIGKILLed at random
// moments; a clean sync at the end makes every total exact.
func TestClusterCrashChaosExactTotals(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test")
	}
	e := newClusterEnv(t)
	preloaded := map[string]uint64{}
	e.preload(t, "k", 5000, preloaded)
	stop := make(chan struct{})
	wait := e.storm(t, stop)
	rng := rand.New(rand.NewPCG(7, 8))
	const kills = 15
	for range kills {
		p := testkit.Start(t, e.command(t, nil, "SYNC_CHUNK_PATHS=200"))
		time.Sleep(time.Duration(50+rng.IntN(400)) * time.Millisecond) // a random moment to kill at, not a gate
		p.Kill()
	}
	close(stop)
	made := wait()
	for p, n := range preloaded {
		made[p] += n
	}
	code, out := e.once(t, "SYNC_LOCK_TTL=30s")
	require.Equal(t, 0, code, out)
	e.requireExact(t, made)
	require.Zero(t, e.pendingCount(t))
	t.Logf("%d paths, %d SIGKILLs on the cluster: exact", len(made), kills)
}

// A syncer frozen (SIGSTOP) past its lock in the middle of a sync on the cluster while a second one takes
// the lock, claims every slot and recovers what the first left; the first is then thawed. Hits arrive
// throughout.
func TestClusterSyncerFrozenPastItsLockLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test")
	}
	e := newClusterEnv(t)
	ctx := context.Background()
	stop := make(chan struct{})
	wait := e.storm(t, stop)
	preloaded := map[string]uint64{}
	lock := []string{"SYNC_LOCK_TTL=1s", "SYNC_CHUNK_PATHS=3000"}
	rng := rand.New(rand.NewPCG(9, 10))
	const rounds = 4
	for round := range rounds {
		e.preload(t, "f"+strconv.Itoa(round), 30000, preloaded)
		a, aOut := e.start(t, []string{"--once"}, lock...)
		testkit.Wait(t, 30*time.Second, func() bool { return e.pendingCount(t) > 0 }, "the first syncer stages a chunk")
		time.Sleep(time.Duration(rng.IntN(150)) * time.Millisecond) // a random moment of the sync, not a gate
		a.Freeze()
		aToken := e.lockHolder(t)
		aPending, err := e.hits.Pending(ctx)
		require.NoError(t, err)
		testkit.Wait(t, 10*time.Second, func() bool { return e.lockHolder(t) != aToken }, "the frozen syncer's lock expires")
		b, bOut := e.start(t, []string{"--once"}, lock...)
		testkit.Wait(t, 10*time.Second, func() bool { h := e.lockHolder(t); return h != "" && h != aToken },
			"the second syncer takes the lock")
		// Thaw once the second syncer has finished the frozen one's pending chunks (in every slot), or after
		// 3 s: the thawed syncer's next steps then meet fences the second one claimed.
		_ = testkit.Within(3*time.Second, func() bool {
			left, err := e.hits.Pending(ctx)
			require.NoError(t, err)
			return !slices.ContainsFunc(left, func(id string) bool { return slices.Contains(aPending, id) })
		})
		a.Thaw()
		<-a.Done()
		<-b.Done()
		t.Logf("round %d: thawed syncer: %v %s", round, a.Err(), aOut)
		require.NoError(t, b.Err(), "the second syncer: %s", bOut)
	}
	close(stop)
	made := wait()
	for p, n := range preloaded {
		made[p] += n
	}
	code, out := e.once(t, "SYNC_LOCK_TTL=30s")
	require.Equal(t, 0, code, out)
	e.requireExact(t, made)
	require.Zero(t, e.pendingCount(t))
	t.Logf("%d paths, %d freezes past the lock on the cluster: exact", len(made), rounds)
}
