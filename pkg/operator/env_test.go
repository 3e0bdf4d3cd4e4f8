package operator

import (
	"bytes"
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/redis/go-redis/v9"

	"adly/pkg/config"
	"adly/pkg/keyspace"
	"adly/pkg/testkit"
)

// env is one test's real Redis (own prefix) and real MariaDB (own database).
type env struct {
	client redis.UniversalClient
	names  keyspace.Names
	db     *sqlx.DB
	dbCfg  config.DB
}

func newEnv(t *testing.T) *env {
	t.Helper()
	client, names := testkit.Redis(t)
	db, cfg := testkit.MariaDB(t)
	return &env{client: client, names: names, db: db, dbCfg: cfg}
}

// setenv points the command line's configuration at the test's Redis prefix and database.
func (e *env) setenv(t *testing.T) {
	t.Helper()
	t.Setenv("REDIS_KEY_PREFIX", e.names.Prefix())
	t.Setenv("DB_NAME", e.dbCfg.Name)
	t.Setenv("TIMEZONE", "UTC")
	t.Setenv("LOG_LEVEL", "error")
}

// run runs the command line and returns its exit status, stdout and stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := config.ExitStatus(Main(context.Background(), args, &stdout, &stderr))
	return code, stdout.String(), stderr.String()
}

// msOf is the stream-ID time part of t.
func msOf(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }
