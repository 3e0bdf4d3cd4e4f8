package pathsync

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"go.uber.org/zap"

	"adly/pkg/admin"
	"adly/pkg/config"
	"adly/pkg/fault"
	"adly/pkg/hits"
	"adly/pkg/logging"
	"adly/pkg/mariadb"
	"adly/pkg/pathtable"
	"adly/pkg/redisconn"
)

// Main is the path-syncer command line: the daemon until ctx ends (main cancels it on SIGINT or SIGTERM), or
// --once for one sync (like `php artisan analytics:sync`). It fails on a failed sync or any path that could
// not be synced; configuration and usage errors are config.Usage errors. exit is called only at an injected
// fault point (ADLY_FAULT, crash tests): main passes os.Exit.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, exit func(int)) error {
	fs := flag.NewFlagSet("path-syncer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	once := fs.Bool("once", false, "run one sync, print what it did and exit")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return config.Usage(errors.New("usage: path-syncer [--once]"))
	}
	var cfg Config
	if err := config.Load(&cfg); err != nil {
		return config.Usage(fmt.Errorf("configuration: %w", err))
	}
	log, err := logging.New(cfg.Log, "path-syncer")
	if err != nil {
		return config.Usage(err)
	}
	defer func() { _ = log.Sync() }()
	mariadb.LogDriverTo(log.Named("mysql"))

	client := redisconn.NewClient(cfg.Redis, redisconn.ClientOptions{NoRetries: true})
	defer func() { _ = client.Close() }()
	db, err := mariadb.Open(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()

	reg := admin.NewRegistry()
	paths := pathtable.NewPathCounts(db)
	defer func() { _ = paths.Close() }()
	syncer := New(hits.NewHitCounters(client, redisconn.Names(cfg.Redis)), paths, log.Named("sync"), NewMetrics(reg),
		Options{ChunkPaths: cfg.ChunkPaths, LockTTL: cfg.LockTTL, Hooks: FaultHooks(cfg.Fault, fault.Exit(log, cfg.Fault, exit))})

	if *once {
		return runOnce(ctx, syncer, cfg.ShutdownTimeout, stdout, stderr)
	}
	adm, err := admin.Listen(cfg.AdminAddr, reg, log.Named("admin"),
		admin.Check{Name: "redis", Fn: func(ctx context.Context) error { return redisconn.Ping(ctx, client, time.Second) }},
		admin.Check{Name: "mariadb", Fn: paths.Ping},
	)
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	log.Info("syncing", zap.Duration("every", cfg.Every()), zap.String("admin_addr", adm.Addr()))
	err = adm.Serve(ctx, func(ctx context.Context) error { return syncer.Run(ctx, cfg.Every(), cfg.ShutdownTimeout) })
	log.Info("stopped")
	return err
}

// errIncomplete is --once's error when some paths could not be synced (listed on stderr).
var errIncomplete = errors.New("some paths could not be synced")

func runOnce(ctx context.Context, s *Syncer, shutdownTimeout time.Duration, stdout, stderr io.Writer) error {
	sctx, cancel := afterShutdown(ctx, shutdownTimeout) // on Ctrl-C or SIGTERM, SHUTDOWN_TIMEOUT to finish
	defer cancel()
	res, err := s.Sync(sctx)
	fmt.Fprintf(stdout, "Synced %d paths\n", res.Paths)
	if res.Recovered > 0 {
		fmt.Fprintf(stdout, "Finished %d chunks left by an interrupted sync\n", res.Recovered)
	}
	if len(res.Errors) > 0 {
		fmt.Fprintf(stderr, "Errors: %d\n", len(res.Errors))
		for _, e := range res.Errors {
			fmt.Fprintf(stderr, "  - %s\n", e)
		}
	}
	if err != nil {
		return fmt.Errorf("sync failed: %w", err)
	}
	if len(res.Errors) > 0 {
		return errIncomplete
	}
	return nil
}
