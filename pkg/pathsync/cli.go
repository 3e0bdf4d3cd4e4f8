package pathsync

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"adly/pkg/admin"
	"adly/pkg/config"
	"adly/pkg/hits"
	"adly/pkg/keyspace"
	"adly/pkg/logging"
	"adly/pkg/mariadb"
	"adly/pkg/pathtable"
	"adly/pkg/redisconn"
)

// Main is the path-syncer command line: the daemon, or --once for one sync (like `php artisan
// analytics:sync`). It returns the exit status: 0 success, 1 a failed sync or any path that could not be
// synced, 2 bad configuration or usage.
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("path-syncer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	once := fs.Bool("once", false, "run one sync, print what it did and exit")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: path-syncer [--once]")
		return config.ExitBadConfig
	}
	var cfg Config
	if err := config.Load(&cfg); err != nil {
		fmt.Fprintf(stderr, "path-syncer: configuration: %v\n", err)
		return config.ExitBadConfig
	}
	log, err := logging.New(cfg.Log, "path-syncer")
	if err != nil {
		fmt.Fprintf(stderr, "path-syncer: %v\n", err)
		return config.ExitBadConfig
	}
	defer func() { _ = log.Sync() }()
	mariadb.LogDriverTo(log.Named("mysql"))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	client := redisconn.NewClient(cfg.Redis, redisconn.ClientOptions{NoRetries: true})
	defer func() { _ = client.Close() }()
	db, err := mariadb.Open(ctx, cfg.DB)
	if err != nil {
		fmt.Fprintf(stderr, "path-syncer: %v\n", err)
		return 1
	}
	defer func() { _ = db.Close() }()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	paths := pathtable.NewPathCounts(db)
	defer func() { _ = paths.Close() }()
	hooks := FaultHooks(cfg.Fault, func() {
		log.Warn("ADLY_FAULT: exiting at the injected fault point", zap.String("fault", cfg.Fault))
		os.Exit(3)
	})
	syncer := New(hits.NewHitCounters(client, keyspace.NewNames(cfg.KeyPrefix)), paths, log.Named("sync"), NewMetrics(reg),
		Options{ChunkPaths: cfg.ChunkPaths, LockTTL: cfg.LockTTL, Hooks: hooks})

	if *once {
		return runOnce(ctx, syncer, cfg.ShutdownTimeout, stdout, stderr)
	}
	adm, err := admin.Listen(cfg.AdminAddr, reg, log.Named("admin"),
		admin.Check{Name: "redis", Fn: func(ctx context.Context) error { return redisconn.Ping(ctx, client, time.Second) }},
		admin.Check{Name: "mariadb", Fn: paths.Ping},
	)
	if err != nil {
		log.Error("start", zap.Error(err))
		return 1
	}
	log.Info("syncing", zap.Duration("every", cfg.Every()), zap.String("admin_addr", adm.Addr()))
	adminCtx, stopAdmin := context.WithCancel(context.WithoutCancel(ctx))
	var g errgroup.Group
	g.Go(func() error { return adm.Run(adminCtx) })
	runErr := syncer.Run(ctx, cfg.Every(), cfg.ShutdownTimeout)
	adm.Drain()
	stopAdmin()
	if err := g.Wait(); err != nil && runErr == nil {
		runErr = err
	}
	if runErr != nil {
		log.Error("run", zap.Error(runErr))
		return 1
	}
	log.Info("stopped")
	return 0
}

func runOnce(ctx context.Context, s *Syncer, shutdownTimeout time.Duration, stdout, stderr io.Writer) int {
	sctx, cancel := afterShutdown(ctx, shutdownTimeout) // on Ctrl-C or SIGTERM, SHUTDOWN_TIMEOUT to finish
	defer cancel()
	res, err := s.Sync(sctx)
	fmt.Fprintf(stdout, "Synced %d paths\n", res.Paths)
	if res.Recovered > 0 {
		fmt.Fprintf(stdout, "Finished %d chunks left by an interrupted sync\n", res.Recovered)
	}
	status := 0
	if len(res.Errors) > 0 {
		fmt.Fprintf(stderr, "Errors: %d\n", len(res.Errors))
		for _, e := range res.Errors {
			fmt.Fprintf(stderr, "  - %s\n", e)
		}
		status = 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "sync failed: %v\n", err)
		status = 1
	}
	return status
}
