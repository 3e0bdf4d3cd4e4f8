package worker

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/jmoiron/sqlx"
	"go.uber.org/zap"

	"adly/pkg/config"
	"adly/pkg/fault"
	"adly/pkg/keyspace"
	"adly/pkg/ledger"
	"adly/pkg/logging"
	"adly/pkg/mariadb"
	"adly/pkg/redisconn"
	"adly/pkg/stream"
)

// Main is the whole command line of a worker binary: no argument runs the daemon until ctx ends (main
// cancels it on SIGINT or SIGTERM); "replay --from DATE" recounts dates. Configuration and usage errors, and
// a replay refused as impossible, are config.Usage errors. exit is called only at an injected fault point
// (ADLY_FAULT, crash tests): main passes os.Exit.
func Main(ctx context.Context, kind Kind, args []string, stdout, stderr io.Writer, exit func(int)) error {
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

	switch {
	case len(args) == 0:
		return runDaemon(ctx, cfg, kind, log, fault.Exit(log, cfg.Fault, exit))
	case args[0] == "replay":
		return runReplay(ctx, cfg, kind, log, args[1:], stdout, stderr)
	default:
		return config.Usage(fmt.Errorf("usage: %s            run the worker\n       %s replay --from YYYY-MM-DD   recount every date from that one on", kind.Name, kind.Name))
	}
}

func runDaemon(ctx context.Context, cfg Config, kind Kind, log *zap.Logger, die func()) error {
	client := redisconn.NewClient(cfg.Redis, redisconn.ClientOptions{NoRetries: true})
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

func runReplay(ctx context.Context, cfg Config, kind Kind, log *zap.Logger, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(kind.Name+" replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "first date to recount, YYYY-MM-DD in TIMEZONE, the zone the workers count in (required)")
	if err := fs.Parse(args); err != nil {
		return config.Usage(err)
	}
	if *from == "" || fs.NArg() > 0 {
		return config.Usage(errors.New("replay: --from YYYY-MM-DD is required (and nothing else)"))
	}
	loc, _ := time.LoadLocation(cfg.Timezone)
	client := redisconn.NewClient(cfg.Redis, redisconn.ClientOptions{NoRetries: true})
	defer func() { _ = client.Close() }()
	db, err := mariadb.Open(ctx, cfg.DB)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	defer func() { _ = db.Close() }()
	names := keyspace.NewNames(cfg.KeyPrefix)
	group := stream.NewGroup(client, kind.Stream(names), kind.Group(names))
	counter := ledger.NewCounter(db, kind.Table, group.Stream(), group.Name())
	res, err := Replay(ctx, group, counter, *from, loc)
	if errors.Is(err, ErrReplayImpossible) {
		return config.Usage(fmt.Errorf("replay: %w", err))
	}
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	voidFrom := time.UnixMilli(res.Plan.VoidFromMs).In(loc).Format(time.RFC3339)
	log.Info("replay started", zap.String("from", *from), zap.String("timezone", loc.String()), zap.String("cleared_from", res.Plan.ClearFrom),
		zap.String("recount_from", voidFrom), zap.Int64("cleared_rows", res.ClearedRows), zap.String("group_reset_to", res.ResetTo))
	fmt.Fprintf(stdout, "replay from %s (TIMEZONE=%s): cleared %d rows of %s dated %s or later; the events from %s on are recounted by the running workers, dated in the workers' TIMEZONE (run them with TIMEZONE=%s); group %s on %s reset to %s\n",
		*from, loc, res.ClearedRows, kind.Table.Name, res.Plan.ClearFrom, voidFrom, loc, group.Name(), group.Stream(), res.ResetTo)
	if res.Plan.ClearFrom < *from {
		fmt.Fprintf(stdout, "the rows were dated in another zone: those of %s also held events from before %s's midnight in %s; they are recounted too, under their dates in %s\n",
			res.Plan.ClearFrom, *from, loc, loc)
	}
	return nil
}
