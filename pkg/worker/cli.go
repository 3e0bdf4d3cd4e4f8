package worker

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"
	"go.uber.org/zap"

	"adly/pkg/config"
	"adly/pkg/keyspace"
	"adly/pkg/ledger"
	"adly/pkg/logging"
	"adly/pkg/mariadb"
	"adly/pkg/redisconn"
	"adly/pkg/stream"
)

// Main is the whole command line of a worker binary: no argument runs the daemon; "replay --from DATE"
// recounts dates. It returns the exit status: 0 success, 1 failure, 2 bad configuration or usage.
func Main(kind Kind, args []string, stderr io.Writer) int {
	var cfg Config
	if err := config.Load(&cfg); err != nil {
		fmt.Fprintf(stderr, "%s: configuration: %v\n", kind.Name, err)
		return config.ExitBadConfig
	}
	log, err := logging.New(cfg.Log, kind.Name)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", kind.Name, err)
		return config.ExitBadConfig
	}
	defer func() { _ = log.Sync() }()
	mariadb.LogDriverTo(log.Named("mysql"))

	switch {
	case len(args) == 0:
		return runDaemon(cfg, kind, log)
	case args[0] == "replay":
		return runReplay(cfg, kind, log, args[1:], stderr)
	default:
		fmt.Fprintf(stderr, "usage: %s            run the worker\n       %s replay --from YYYY-MM-DD   recount every date from that one on\n", kind.Name, kind.Name)
		return config.ExitBadConfig
	}
}

func runDaemon(cfg Config, kind Kind, log *zap.Logger) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	client := redisconn.NewClient(cfg.Redis, redisconn.ClientOptions{NoRetries: true})
	defer func() { _ = client.Close() }()
	WarnAboutRedis(ctx, client, log)
	db, err := openDB(ctx, cfg.DB, log)
	if err != nil {
		return 1
	}
	defer func() { _ = db.Close() }()
	hooks := FaultHooks(cfg.Fault, func() {
		log.Warn("ADLY_FAULT: exiting at the injected fault point", zap.String("fault", cfg.Fault))
		os.Exit(3)
	})
	app, err := NewApp(cfg, kind, log, client, db, hooks)
	if err != nil {
		log.Error("start", zap.Error(err))
		return 1
	}
	if err := app.Run(ctx); err != nil {
		log.Error("run", zap.Error(err))
		return 1
	}
	return 0
}

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

func runReplay(cfg Config, kind Kind, log *zap.Logger, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet(kind.Name+" replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "first date to recount, YYYY-MM-DD in TIMEZONE, the zone the workers count in (required)")
	if err := fs.Parse(args); err != nil {
		return config.ExitBadConfig
	}
	if *from == "" || fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s replay: --from YYYY-MM-DD is required (and nothing else)\n", kind.Name)
		return config.ExitBadConfig
	}
	loc, _ := time.LoadLocation(cfg.Timezone)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	client := redisconn.NewClient(cfg.Redis, redisconn.ClientOptions{NoRetries: true})
	defer func() { _ = client.Close() }()
	db, err := mariadb.Open(ctx, cfg.DB)
	if err != nil {
		fmt.Fprintf(stderr, "%s replay: %v\n", kind.Name, err)
		return 1
	}
	defer func() { _ = db.Close() }()
	names := keyspace.NewNames(cfg.KeyPrefix)
	group := stream.NewGroup(client, kind.Stream(names), kind.Group(names))
	counter := ledger.NewCounter(db, kind.Table, group.Stream(), group.Name())
	res, err := Replay(ctx, group, counter, *from, loc)
	if err != nil {
		fmt.Fprintf(stderr, "%s replay: %v\n", kind.Name, err)
		if errors.Is(err, ErrReplayImpossible) {
			return config.ExitBadConfig
		}
		return 1
	}
	voidFrom := time.UnixMilli(res.Plan.VoidFromMs).In(loc).Format(time.RFC3339)
	log.Info("replay started", zap.String("from", *from), zap.String("timezone", loc.String()), zap.String("cleared_from", res.Plan.ClearFrom),
		zap.String("recount_from", voidFrom), zap.Int64("cleared_rows", res.ClearedRows), zap.String("group_reset_to", res.ResetTo))
	fmt.Fprintf(os.Stdout, "replay from %s (TIMEZONE=%s): cleared %d rows of %s dated %s or later; the events from %s on are recounted by the running workers, dated in the workers' TIMEZONE (run them with TIMEZONE=%s); group %s on %s reset to %s\n",
		*from, loc, res.ClearedRows, kind.Table.Name, res.Plan.ClearFrom, voidFrom, loc, group.Name(), group.Stream(), res.ResetTo)
	if res.Plan.ClearFrom < *from {
		fmt.Fprintf(os.Stdout, "the rows were dated in another zone: those of %s also held events from before %s's midnight in %s; they are recounted too, under their dates in %s\n",
			res.Plan.ClearFrom, *from, loc, loc)
	}
	return 0
}
