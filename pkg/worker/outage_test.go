package worker

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"adly/pkg/rdb"
	"adly/pkg/rdb/rdbtest"
	"adly/pkg/store"
	"adly/pkg/store/storetest"
)

// MariaDB down: entries stay pending (no acknowledgement), the worker backs off instead of spinning, and it
// recovers by itself when MariaDB returns. Redis down: the same.
func TestRecoversFromOutages(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()

	dbCfg := storetest.Config(t)
	dbCfg.Name = e.dbName
	dbProxy := rdbtest.NewProxy(t, net.JoinHostPort(dbCfg.Host, strconv.Itoa(dbCfg.Port)))
	viaDB := dbCfg
	viaDB.Host, viaDB.Port = "127.0.0.1", dbProxy.Port()
	db, err := store.Open(ctx, viaDB)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })

	redisCfg := rdbtest.Config(t)
	redisProxy := rdbtest.NewProxy(t, redisCfg.Addr())
	viaRedis := redisCfg
	viaRedis.Host, viaRedis.Port = "127.0.0.1", redisProxy.Port()
	client := rdb.NewClient(viaRedis, rdb.ClientOptions{NoRetries: true})
	t.Cleanup(func() { _ = client.Close() })

	w := *e
	w.group = rdb.NewGroup(client, e.group.Stream(), e.group.Name())
	w.counter = store.NewCounter(db, store.Impressions, e.group.Stream(), e.group.Name())
	_, reg := w.start(t, testOptions("a"))

	want := e.publish(t, threeDays(3000, 9), time.UTC)
	e.drained(t, 10*time.Second)

	// MariaDB goes away.
	dbProxy.SetDown(true)
	for k, n := range e.publish(t, threeDays(2000, 9), time.UTC) {
		want[k] += n
	}
	time.Sleep(1500 * time.Millisecond)
	info, err := e.group.Info(ctx)
	require.NoError(t, err)
	require.Positive(t, info.Pending, "nothing is acknowledged while MariaDB is down")
	commitErrors := metric(t, reg, "adly_worker_errors_total", "op", "commit")
	require.Positive(t, commitErrors)
	require.Less(t, commitErrors, 15.0, "backoff, not a busy loop")
	dbProxy.SetDown(false)
	e.drained(t, 30*time.Second)
	requireCounts(t, want, e.counts(t))

	// Redis goes away.
	redisProxy.SetDown(true)
	time.Sleep(time.Second)
	readErrors := metric(t, reg, "adly_worker_errors_total", "op", "read")
	require.Positive(t, readErrors)
	require.Less(t, readErrors, 15.0)
	redisProxy.SetDown(false)
	for k, n := range e.publish(t, threeDays(1000, 9), time.UTC) {
		want[k] += n
	}
	e.drained(t, 30*time.Second)
	requireCounts(t, want, e.counts(t))
}
