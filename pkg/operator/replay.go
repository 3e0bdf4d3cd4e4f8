package operator

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"go.uber.org/zap"

	"adly/pkg/config"
	"adly/pkg/ledger"
	"adly/pkg/logging"
	"adly/pkg/mariadb"
	"adly/pkg/redisconn"
	"adly/pkg/stream"
	"adly/pkg/worker"
)

const replayUsageLine = "usage: adly replay --kind impressions|clicks --from YYYY-MM-DD"

const replayUsage = replayUsageLine + `

Recounts every date from --from on, exactly (no doubling): clears those dates' daily counts, of valid and
of filtered traffic, voids what the exactly-once ledger says of them, and moves the consumer group back —
on every shard of the kind (STREAM_SHARDS) at once; the running workers then recount. The dates are calendar days in TIMEZONE (default UTC), as the workers
count them. It refuses, and changes nothing, when the stream no longer holds the entries of that date (they
were trimmed).

  --kind impressions|clicks  which stream and daily tables
  --from YYYY-MM-DD          the first date to recount

Exit status: 0 the replay started, 1 failure, 2 bad usage or refused as impossible (nothing changed).
`

// kinds are the worker kinds replay knows, by --kind.
var kinds = map[string]worker.Kind{"impressions": worker.Impressions, "clicks": worker.Clicks}

func runReplay(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("adly replay", flag.ContinueOnError)
	kindName := fs.String("kind", "", "")
	from := fs.String("from", "", "")
	err := parseFlags(fs, args, replayUsage, stdout, replayUsageLine)
	if errors.Is(err, errHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	kind, ok := kinds[*kindName]
	if !ok {
		return &usageError{msg: fmt.Sprintf("--kind must be impressions or clicks, got '%s'", *kindName), usage: replayUsageLine}
	}
	if *from == "" {
		return &usageError{msg: "--from YYYY-MM-DD is required", usage: replayUsageLine}
	}
	if _, err := time.Parse(time.DateOnly, *from); err != nil || !dayPattern.MatchString(*from) {
		return &usageError{msg: fmt.Sprintf("--from must be a real day as YYYY-MM-DD, got '%s'", *from), usage: replayUsageLine}
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	log, err := logging.New(cfg.Log, kind.Name)
	if err != nil {
		return fmt.Errorf("%w: %w", errConfig, err)
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
	names := redisconn.Names(cfg.Redis)
	var groups []*stream.Group
	var ledgers ledger.Shards
	for _, name := range kind.Streams(names) {
		groups = append(groups, stream.NewGroup(client, name, kind.Group(names)))
		ledgers = append(ledgers, ledger.NewCounter(db, kind.Table, name, kind.Group(names)))
	}
	return replay(ctx, kind, groups, ledgers, *from, cfg.location(), log, stdout)
}

// replay runs worker.ReplayShards over every shard of the kind and says what it did: on stdout the cleared
// rows and each group's new position, in the log the same as fields.
func replay(ctx context.Context, kind worker.Kind, groups []*stream.Group, ledgers ledger.Shards, from string, loc *time.Location, log *zap.Logger, stdout io.Writer) error {
	gs := make([]worker.Group, len(groups))
	for i, g := range groups {
		gs[i] = g
	}
	res, err := worker.ReplayShards(ctx, gs, ledgers, from, loc)
	if errors.Is(err, worker.ErrReplayImpossible) {
		return config.Usage(err)
	}
	if err != nil {
		return err
	}
	voidFrom := time.UnixMilli(res.Plan.VoidFromMs).In(loc).Format(time.RFC3339)
	resets := make([]string, len(res.Shards))
	for i, sh := range res.Shards {
		resets[i] = sh.Stream + " to " + sh.ResetTo
	}
	log.Info("replay started", zap.String("from", from), zap.String("timezone", loc.String()), zap.String("cleared_from", res.Plan.ClearFrom),
		zap.String("recount_from", voidFrom), zap.Int64("cleared_rows", res.ClearedRows), zap.Int64("cleared_filtered_rows", res.ClearedFilteredRows),
		zap.String("group_reset_to", res.ResetTo), zap.Strings("shards_reset_to", resets))
	where := fmt.Sprintf("group %s on %s reset to %s", groups[0].Name(), groups[0].Stream(), res.ResetTo)
	if len(groups) > 1 {
		where = fmt.Sprintf("group %s reset on each of the %d shards (in one transaction with the clearing): %s", groups[0].Name(), len(groups), strings.Join(resets, ", "))
	}
	fmt.Fprintf(stdout, "replay from %s (TIMEZONE=%s): cleared %d rows of %s and %d of %s dated %s or later; the events from %s on are recounted by the running workers, dated in the workers' TIMEZONE (run them with TIMEZONE=%s); %s\n",
		from, loc, res.ClearedRows, kind.Table.Name, res.ClearedFilteredRows, kind.Table.Filtered, res.Plan.ClearFrom, voidFrom, loc, where)
	if res.Plan.ClearFrom < from {
		fmt.Fprintf(stdout, "the rows were dated in another zone: those of %s also held events from before %s's midnight in %s; they are recounted too, under their dates in %s\n",
			res.Plan.ClearFrom, from, loc, loc)
	}
	return nil
}
