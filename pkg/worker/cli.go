package worker

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/jmoiron/sqlx"
	"go.uber.org/zap"

	"adly/pkg/config"
	"adly/pkg/fault"
	"adly/pkg/logging"
	"adly/pkg/mariadb"
	"adly/pkg/redisconn"
)

// Main is the whole command line of a worker binary: it takes no argument and runs the daemon until ctx ends
// (main cancels it on SIGINT or SIGTERM). Configuration and usage errors are config.Usage errors. exit is
// called only at an injected fault point (ADLY_FAULT, crash tests): main passes os.Exit. Replays are the
// operator's command (adly replay).
func Main(ctx context.Context, kind Kind, args []string, exit func(int)) error {
	var cfg Config
	if err := config.Load(&cfg); err != nil {
		return config.Usage(fmt.Errorf("configuration: %w", err))
	}
	log, err := logging.New(cfg.Log, kind.Name)
	if err != nil {
		return config.Usage(err)
	}
	defer func() { _ = log.Sync() }()
	mariadb.LogDriverTo(log.Named("mysql"))

	if len(args) > 0 {
		return config.Usage(fmt.Errorf("usage: %s (no arguments; to recount dates: adly replay --kind %s --from YYYY-MM-DD)", kind.Name, kind.Table.Column))
	}
	return runDaemon(ctx, cfg, kind, log, fault.Exit(log, cfg.Fault, exit))
}

func runDaemon(ctx context.Context, cfg Config, kind Kind, log *zap.Logger, die func()) error {
	client := redisconn.NewClient(cfg.Redis, redisconn.ClientOptions{NoRetries: true, PoolSize: poolSize(cfg.StreamShards)})
	defer func() { _ = client.Close() }()
	WarnAboutRedis(ctx, client, log)
	db, err := openDB(ctx, cfg.DB, log)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	app, err := NewApp(cfg, kind, log, client, db, FaultHooks(cfg.Fault, die))
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	return app.Run(ctx)
}

// poolSize is go-redis's default pool (10 per CPU) plus 4 connections per shard: each shard's loop holds one
// in a blocking XREADGROUP while it commits and acknowledges the batch before through another, and its
// reclaim, trim and maintenance loops take one now and then. Without them, 256 shards' blocking reads would
// wait for connections instead of reading. (On a cluster the pool is per node, and shards are spread over
// the nodes: more than enough.)
func poolSize(shards int) int { return 10*runtime.GOMAXPROCS(0) + 4*max(shards, 1) }

// openDB waits for MariaDB (it may start after the worker) until it answers or the process is stopped.
func openDB(ctx context.Context, cfg config.DB, log *zap.Logger) (*sqlx.DB, error) {
	bo := backoff{min: 500 * time.Millisecond, max: 10 * time.Second}
	for {
		db, err := mariadb.Open(ctx, cfg)
		if err == nil {
			return db, nil
		}
		log.Warn("mariadb is not answering yet; retrying", zap.Error(err))
		if !sleep(ctx, bo.next()) {
			return nil, ctx.Err()
		}
	}
}
