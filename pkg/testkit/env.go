package testkit

import (
	"context"
	"net"
	"strconv"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"adly/pkg/config"
	"adly/pkg/keyspace"
	"adly/pkg/mariadb"
)

// Env is one test's share of the real servers: a key prefix of its own on the test Redis and a database of
// its own on the test MariaDB, both removed when the test ends. Tests that each use their own Env may run
// in parallel.
type Env struct {
	Redis    redis.UniversalClient // direct, no silent retries
	Names    keyspace.Names        // under the test's prefix
	DB       *sqlx.DB
	DBConfig config.DB // DBConfig.Name is the test's database
}

// NewEnv makes a fresh Env.
func NewEnv(t testing.TB) *Env {
	t.Helper()
	client, names := Redis(t)
	db, cfg := MariaDB(t)
	return &Env{Redis: client, Names: names, DB: db, DBConfig: cfg}
}

// BinaryEnv is the environment that points a binary at this Env's prefix and database.
func (e *Env) BinaryEnv() []string {
	return []string{"REDIS_KEY_PREFIX=" + e.Names.Prefix(), "DB_NAME=" + e.DBConfig.Name}
}

// ProxiedRedis is a client to the test Redis through a Proxy the test controls (see ProxiedRedis); keys
// still go under e.Names.
func (e *Env) ProxiedRedis(t testing.TB) (*Proxy, redis.UniversalClient) {
	t.Helper()
	return ProxiedRedis(t)
}

// ProxiedDB is a connection to this Env's database through a Proxy the test controls.
func (e *Env) ProxiedDB(t testing.TB) (*Proxy, *sqlx.DB) {
	t.Helper()
	proxy := NewProxy(t, net.JoinHostPort(e.DBConfig.Host, strconv.Itoa(e.DBConfig.Port)))
	cfg := e.DBConfig
	cfg.Host, cfg.Port = "127.0.0.1", proxy.Port()
	db, err := mariadb.Open(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return proxy, db
}
