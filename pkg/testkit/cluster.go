package testkit

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"adly/pkg/config"
	"adly/pkg/keyspace"
	"adly/pkg/redisconn"
)

// The test Redis Cluster is three masters with one replica each that scripts/test.sh starts for the whole
// run (scripts/lib/cluster.sh) and describes in two variables:
//
//	ADLY_TEST_CLUSTER       its nodes as host:port, comma-separated: the seed list of REDIS_CLUSTER_ADDRS
//	ADLY_TEST_CLUSTER_DIR   its directory: per node (a folder named by its port) redis.conf and redis.pid,
//	                        and the file lock; without it the cluster is used but not killed or locked
//
// Without ADLY_TEST_CLUSTER the tests that need the cluster are skipped, saying how to get one.
//
// Every test package of a run shares the cluster, at once. A test that only reads and writes keys under
// its own prefix (Cluster) holds the cluster's lock shared; a test that kills or restarts nodes
// (ClusterExclusive) holds it exclusively, so that no other test anywhere meets a cluster in failover,
// and leaves the cluster whole again before it lets go.
type clusterEnv struct {
	Addrs []string `envconfig:"ADLY_TEST_CLUSTER"`
	Dir   string   `envconfig:"ADLY_TEST_CLUSTER_DIR"`
}

func (e *clusterEnv) Validate() error {
	for _, a := range e.Addrs {
		if err := config.CheckAddr("ADLY_TEST_CLUSTER", a); err != nil {
			return err
		}
	}
	return nil
}

// loadClusterEnv reads the cluster's variables and skips the test when there is no cluster.
func loadClusterEnv(t testing.TB) clusterEnv {
	t.Helper()
	var e clusterEnv
	require.NoError(t, config.Load(&e))
	if len(e.Addrs) == 0 {
		t.Skip("needs a Redis Cluster and ADLY_TEST_CLUSTER is unset: scripts/test.sh starts one for its run " +
			"(or, by hand: source scripts/lib/cluster.sh && cluster_start, then go test; cluster_stop)")
	}
	return e
}

// ClusterConfig is the configuration that reaches the test cluster: the test Redis's settings (its
// password) with REDIS_CLUSTER_ADDRS set to the cluster's nodes. It skips the test when there is no cluster.
func ClusterConfig(t testing.TB) config.Redis {
	t.Helper()
	e := loadClusterEnv(t)
	cfg := RedisConfig(t)
	cfg.ClusterAddrs = e.Addrs
	return cfg
}

// ClusterEnv is the environment that points a binary at the test cluster.
func ClusterEnv(t testing.TB) []string {
	t.Helper()
	return []string{"REDIS_CLUSTER_ADDRS=" + strings.Join(ClusterConfig(t).ClusterAddrs, ",")}
}

// Cluster returns a client of the test cluster, built as the binaries build theirs (redisconn.NewClient
// from the configuration, without silent retries, like the API's), and names under a fresh prefix whose
// keys are removed from every master when the test ends. The test holds the cluster shared (see above).
// It is skipped when there is no cluster.
func Cluster(t testing.TB) (*redis.ClusterClient, keyspace.Names) {
	t.Helper()
	return cluster(t, syscall.LOCK_SH)
}

// ClusterExclusive is Cluster for a test that kills or restarts nodes (ClusterNode.Kill): it waits until
// no other test uses the cluster and keeps it to itself until it ends, when every node it killed is
// started again and the cluster is whole. A test calls one of Cluster and ClusterExclusive, never both.
func ClusterExclusive(t testing.TB) (*redis.ClusterClient, keyspace.Names) {
	t.Helper()
	return cluster(t, syscall.LOCK_EX)
}

func cluster(t testing.TB, how int) (*redis.ClusterClient, keyspace.Names) {
	t.Helper()
	cfg := ClusterConfig(t)
	lockCluster(t, how)
	uc := redisconn.NewClient(cfg, redisconn.ClientOptions{NoRetries: true})
	c, ok := uc.(*redis.ClusterClient)
	require.True(t, ok, "REDIS_CLUSTER_ADDRS builds a cluster client, got %T", uc)
	t.Cleanup(func() { _ = c.Close() })
	require.NoError(t, redisconn.Ping(context.Background(), c, 5*time.Second), "tests need the Redis Cluster at %v", cfg.ClusterAddrs)
	prefix := newPrefix()
	t.Cleanup(func() { cleanupCluster(t, c, prefix) })
	return c, keyspace.NewNames(prefix)
}

var exclusive sync.Map // testing.TB -> true while the test holds the cluster exclusively

// lockCluster takes the cluster's lock file (flock, shared or exclusive) until the test ends. Several test
// processes share one cluster, so the lock is the file's, not a mutex of this process.
func lockCluster(t testing.TB, how int) {
	t.Helper()
	dir := loadClusterEnv(t).Dir
	if dir == "" {
		if how == syscall.LOCK_EX {
			t.Skip("kills cluster nodes, so it needs the cluster started by scripts/lib/cluster.sh (ADLY_TEST_CLUSTER_DIR is unset)")
		}
		return
	}
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_RDWR|os.O_CREATE, 0o644)
	require.NoError(t, err, "the test cluster's lock")
	for {
		err = syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	require.NoError(t, err, "lock the test cluster")
	if how == syscall.LOCK_EX {
		exclusive.Store(t, true)
	}
	t.Cleanup(func() {
		exclusive.Delete(t)
		_ = f.Close() // closing the file lets go of the lock
	})
}

// cleanupCluster deletes every key under prefix on every master, one key per command: a cluster refuses a
// DEL of keys in several slots.
func cleanupCluster(t testing.TB, c *redis.ClusterClient, prefix string) {
	ctx := context.Background()
	err := c.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		iter := node.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		pipe := node.Pipeline()
		for iter.Next(ctx) {
			pipe.Unlink(ctx, iter.Val())
			if pipe.Len() == 1000 {
				if _, err := pipe.Exec(ctx); err != nil {
					return err
				}
			}
		}
		if err := iter.Err(); err != nil {
			return err
		}
		_, err := pipe.Exec(ctx)
		return err
	})
	if err != nil {
		t.Logf("removing the test's keys from the cluster: %v", err)
	}
}
