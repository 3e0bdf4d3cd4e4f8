package pathsync

import (
	"adly/pkg/hits"
	"adly/pkg/keyspace"
	"adly/pkg/pathtable"
	"adly/pkg/redisconn"
	"adly/pkg/testkit"
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"
)

type env struct {
	client redis.UniversalClient
	db     *sqlx.DB
	names  keyspace.Names
	hits   *hits.HitCounters
	paths  *pathtable.PathCounts
	dbName string
	// redisEnv points the binaries at a private redis-server or the cluster; empty for the shared Redis.
	redisEnv []string
	// tags are the hash tags producers write counters under ("" untagged); nil: untagged only.
	tags []string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	k := testkit.NewEnv(t)
	return newEnvOn(k.Redis, k.Names, k.DB, k.DBConfig.Name, nil)
}

// newEnvOnServer is newEnv over a private redis-server (for tests that fill Redis or kill it).
func newEnvOnServer(t *testing.T, srv *testkit.RedisServer) *env {
	t.Helper()
	client := redisconn.NewClient(srv.Config(), redisconn.ClientOptions{NoRetries: true})
	t.Cleanup(func() { _ = client.Close() })
	db, cfg := testkit.MariaDB(t)
	return newEnvOn(client, keyspace.NewNames("adlytest:private:"), db, cfg.Name, srv.Env())
}

func newEnvOn(client redis.UniversalClient, names keyspace.Names, db *sqlx.DB, dbName string, redisEnv []string) *env {
	return &env{client: client, db: db, names: names, hits: hits.NewHitCounters(client, names),
		paths: pathtable.NewPathCounts(db), dbName: dbName, redisEnv: redisEnv}
}

func (e *env) syncer(t *testing.T, opts Options) *Syncer {
	t.Helper()
	return New(e.hits, e.paths, zaptest.NewLogger(t), NewMetrics(prometheus.NewRegistry()), opts)
}

func (e *env) table(t *testing.T) map[string]uint64 {
	t.Helper()
	rows, err := e.paths.All(context.Background())
	require.NoError(t, err)
	out := map[string]uint64{}
	for _, r := range rows {
		out[r.Path] = r.HitCount
	}
	return out
}

// left is what is still in Redis counters (not yet synced).
func (e *env) left(t *testing.T) map[string]uint64 {
	t.Helper()
	ctx := context.Background()
	out := map[string]uint64{}
	err := e.forEachNode(ctx, func(ctx context.Context, c redis.UniversalClient) error {
		iter := c.Scan(ctx, 0, e.names.HitKeyPattern(), 1000).Iterator()
		for iter.Next(ctx) {
			path, _ := e.names.PathOfHitKey(iter.Val())
			n, err := c.Get(ctx, iter.Val()).Uint64()
			if err == nil {
				out[path] += n
			}
		}
		return iter.Err()
	})
	require.NoError(t, err)
	return out
}

func TestSyncAddsTheRedisValueAsTheIncrement(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	s := e.syncer(t, Options{ChunkPaths: 2})
	written := map[string]int64{"/": 3, "/checking/a": 5, "home": 1, "/café": 2, `/it's "q" \ %_;--`: 4,
		"/checking/a ": 6, "/Checking/A": 7, "/cafe": 8}
	for path, n := range written {
		require.NoError(t, e.client.Set(ctx, e.names.HitKey(path), n, 0).Err())
	}
	res, err := s.Sync(ctx)
	require.NoError(t, err)
	require.Equal(t, 8, res.Paths)
	require.EqualValues(t, 36, res.Hits)
	require.Empty(t, res.Errors)
	require.Equal(t, map[string]uint64{"/": 3, "/checking/a": 5, "home": 1, "/café": 2, `/it's "q" \ %_;--`: 4,
		"/checking/a ": 6, "/Checking/A": 7, "/cafe": 8}, e.table(t),
		"quotes, backslashes and SQL wildcards are stored as they are; paths differing only in case, accents "+
			"or trailing spaces are different rows")
	require.Empty(t, e.left(t))

	before := e.row(t, "/checking/a")
	// updated_at has second resolution: wait until MariaDB's clock is past it, so a bump is visible.
	testkit.Wait(t, 5*time.Second, func() bool {
		var now time.Time
		require.NoError(t, e.db.Get(&now, "SELECT NOW()"))
		return now.After(before.UpdatedAt)
	}, "MariaDB's clock passes the first updated_at")
	require.NoError(t, e.client.IncrBy(ctx, e.names.HitKey("/checking/a"), 4).Err())
	res, err = s.Sync(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, res.Paths)
	require.Equal(t, uint64(9), e.table(t)["/checking/a"], "5 + 4: the Redis value is the increment")
	after := e.row(t, "/checking/a")
	require.Equal(t, before.CreatedAt, after.CreatedAt, "created_at kept")
	require.True(t, after.UpdatedAt.After(before.UpdatedAt), "updated_at bumped: %v then %v", before.UpdatedAt, after.UpdatedAt)
}

// row is path's row of path_counters; the test fails if there is none.
func (e *env) row(t *testing.T, path string) pathtable.Row {
	t.Helper()
	rows, err := e.paths.All(context.Background())
	require.NoError(t, err)
	for _, r := range rows {
		if r.Path == path {
			return r
		}
	}
	t.Fatalf("no row for %q in path_counters", path)
	return pathtable.Row{}
}

func TestBadKeysAreParkedAndNeverStopTheOthers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	long := "/" + fmt.Sprintf("%0300d", 0)
	bad := map[string]any{
		long:       1,
		"/bad\xff": 1,
		"/nan":     "abc",
		"/neg":     -3,
		"/float":   "1.5",
		"/ctl\x01": 2,
	}
	for path, v := range bad {
		require.NoError(t, e.client.Set(ctx, e.names.HitKey(path), v, 0).Err())
	}
	require.NoError(t, e.client.HSet(ctx, e.names.HitKey("/hash"), "x", 1).Err())
	require.NoError(t, e.client.Set(ctx, e.names.HitKey("/good"), 7, 0).Err())

	s := e.syncer(t, Options{})
	res, err := s.Sync(ctx)
	require.NoError(t, err)
	require.Equal(t, map[string]uint64{"/good": 7}, e.table(t))
	require.Len(t, res.Errors, len(bad)+1)
	for path := range bad {
		require.EqualValues(t, 0, e.client.Exists(ctx, e.names.HitKey(path)).Val(), "not retried forever: %q", path)
		require.EqualValues(t, 1, e.client.Exists(ctx, e.names.ParkedKey(path)).Val(), "not deleted silently: %q", path)
	}
	require.Equal(t, "abc", e.client.Get(ctx, e.names.ParkedKey("/nan")).Val())
	res, err = s.Sync(ctx)
	require.NoError(t, err)
	require.Empty(t, res.Errors, "parked keys are reported once")
}

func TestOneSyncAtATime(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	ok, err := e.hits.AcquireLock(ctx, "someone-else", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	s := e.syncer(t, Options{})
	_, err = s.Sync(ctx)
	require.ErrorIs(t, err, ErrLocked)
	require.NoError(t, e.hits.ReleaseLock(ctx, "not-the-owner"))
	_, err = s.Sync(ctx)
	require.ErrorIs(t, err, ErrLocked, "only the owner releases the lock")
	require.NoError(t, e.hits.ReleaseLock(ctx, "someone-else"))
	_, err = s.Sync(ctx)
	require.NoError(t, err)
	ok, err = e.hits.AcquireLock(ctx, "next", time.Minute)
	require.NoError(t, err)
	require.True(t, ok, "a finished sync releases its lock")
}

// Chunks left staged by a crash are committed by the next sync, in the current staging format and in the
// earlier one ("path<TAB>value" lines), so that an upgrade never strands a chunk.
func TestRecoversChunksInEitherStagingFormat(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	staged := map[string]string{
		"20260101T000000-old": "/old/a\t3\n/old/b\t4\n/old/a\t1\n",
		"20260101T000000-new": e.names.HitKey("/new/a") + "\n5\n" + e.names.HitKey("/new/b ") + "\n6\n",
	}
	for id, record := range staged {
		require.NoError(t, e.client.Set(ctx, e.names.SyncStaging(id), record, 0).Err())
		require.NoError(t, e.client.SAdd(ctx, e.names.SyncPending(), id).Err())
	}
	require.NoError(t, e.client.Set(ctx, e.names.HitKey("/live"), 2, 0).Err())
	res, err := e.syncer(t, Options{}).Sync(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, res.Recovered)
	require.Equal(t, map[string]uint64{"/old/a": 4, "/old/b": 4, "/new/a": 5, "/new/b ": 6, "/live": 2}, e.table(t))
	pending, err := e.hits.Pending(ctx)
	require.NoError(t, err)
	require.Empty(t, pending)
	_, err = e.syncer(t, Options{}).Sync(ctx)
	require.NoError(t, err)
	require.Equal(t, map[string]uint64{"/old/a": 4, "/old/b": 4, "/new/a": 5, "/new/b ": 6, "/live": 2}, e.table(t),
		"a recovered chunk is committed once")
}

// Storm: many goroutines INCR random paths while syncs run back to back; every hit ends up exactly once in
// path_counters or still in Redis.
func TestStormNoHitLostOrDoubled(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	s := e.syncer(t, Options{ChunkPaths: 50, ScanCount: 20})
	var made sync.Map
	var total atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for {
				select {
				case <-stop:
					return
				default:
				}
				path := "/p/" + strconv.Itoa(rng.IntN(300))
				if err := e.client.Incr(ctx, e.names.HitKey(path)).Err(); err != nil {
					t.Errorf("incr: %v", err)
					return
				}
				v, _ := made.LoadOrStore(path, new(atomic.Int64))
				v.(*atomic.Int64).Add(1)
				total.Add(1)
			}
		})
	}
	// At least 3 s of storm and at least 6 syncs that moved hits while it blew, however slow the machine
	// (within 60 s).
	syncs, moving := 0, 0
	deadline, limit := time.Now().Add(3*time.Second), time.Now().Add(60*time.Second)
	for (time.Now().Before(deadline) || moving < 6) && time.Now().Before(limit) {
		res, err := s.Sync(ctx)
		require.NoError(t, err)
		syncs++
		if res.Hits > 0 {
			moving++
		}
	}
	close(stop)
	wg.Wait()

	got := e.table(t)
	for path, n := range e.left(t) {
		got[path] += n
	}
	want := map[string]uint64{}
	made.Range(func(k, v any) bool {
		want[k.(string)] = uint64(v.(*atomic.Int64).Load())
		return true
	})
	require.Equal(t, want, got, "every path's hits are counted once, and no path appears from nowhere")
	var counted uint64
	for _, n := range got {
		counted += n
	}
	require.EqualValues(t, total.Load(), counted, "every INCR is counted once, in MariaDB or still in Redis")
	t.Logf("%d hits over %d syncs (%d moved hits): exact", total.Load(), syncs, moving)
	require.GreaterOrEqual(t, moving, 6, "syncs moved hits while the storm blew")
}

// A sync whose lock is taken from it (it expired during a pause and another syncer took it) stops with
// ErrLockLost at its next step and changes nothing more in Redis; the lock's new owner finishes its chunks,
// exactly.
func TestASyncThatLostItsLockStops(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	written := map[string]uint64{}
	for i := range 500 {
		path := "/l/" + strconv.Itoa(i)
		written[path] = uint64(1 + i%4)
		require.NoError(t, e.client.Set(ctx, e.names.HitKey(path), written[path], 0).Err())
	}
	steal := func() { // runs in a committer goroutine: no FailNow there
		if err := e.client.Set(ctx, e.names.SyncLock(), "thief", 0).Err(); err != nil {
			t.Error(err)
		}
	}
	for _, hooks := range []struct {
		name  string
		hooks Hooks
	}{{"stolen after a move", Hooks{AfterMove: steal}}, {"stolen after a commit", Hooks{AfterCommit: steal}}} {
		t.Run(hooks.name, func(t *testing.T) {
			_, err := e.syncer(t, Options{ChunkPaths: 30, ScanCount: 50, Hooks: hooks.hooks}).Sync(ctx)
			require.ErrorIs(t, err, ErrLockLost)
			require.Equal(t, "thief", e.client.Get(ctx, e.names.SyncLock()).Val(), "the loser leaves the new owner's lock alone")
			require.NotZero(t, len(e.left(t)), "it stopped moving")
			require.NoError(t, e.client.Del(ctx, e.names.SyncLock()).Err())
			res, err := e.syncer(t, Options{}).Sync(ctx)
			require.NoError(t, err)
			require.NotZero(t, res.Recovered, "the next owner finished what the loser left")
			require.Empty(t, e.left(t))
			require.Equal(t, written, e.table(t))
			for path, n := range written { // again, for the next case
				require.NoError(t, e.client.Set(ctx, e.names.HitKey(path), n, 0).Err())
				written[path] = 2 * n
			}
		})
	}
}
