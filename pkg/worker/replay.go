package worker

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"adly/pkg/ledger"
	"adly/pkg/streamid"
)

// ReplaySlack moves the reset point this much before midnight of --from, so that entries whose ts falls on
// that date but whose stream ID is a little earlier (clock skew between API hosts and Redis) are recounted
// too. Earlier-dated entries in the slack are skipped: the ledger still vouches for them.
const ReplaySlack = time.Hour

// ErrReplayImpossible means the stream no longer holds the entries the replay would recount.
var ErrReplayImpossible = errors.New("cannot replay")

// Replay recounts every date from fromDate (YYYY-MM-DD, in loc, the zone the workers now count in) on:
// under the group's lock it clears the daily rows that hold entries from that date's midnight on (those of
// valid and of filtered traffic), voids what the ledger says of every entry in those rows, and resets the
// group to just before the first of them; running workers then recount, in loc. The rows were dated in the zone of their time (TIMEZONE may have
// changed since, see planReplay), so the cleared rows may start a day earlier and hold entries of the day
// before midnight too: those are recounted as well, under their date in loc. It refuses when entries it
// would recount may already have been trimmed, or when it cannot tell which zone the rows were dated in.
// The package doc says why the recount is exact. It is ReplayShards of one shard.
func Replay(ctx context.Context, group Group, counter Ledger, fromDate string, loc *time.Location) (ReplayResult, error) {
	return ReplayShards(ctx, []Group{group}, oneShard{counter}, fromDate, loc)
}

// ShardLedgers is what ReplayShards uses of the ledgers of every shard of a kind (ledger.Shards): one
// transaction that holds every shard's lock row, plans and records each shard's replay, clears the daily
// rows once and resets each shard's group.
type ShardLedgers interface {
	Replay(ctx context.Context, plan func(i int, h ledger.ZoneHistory) (ledger.ReplayPlan, error), reset func(ctx context.Context, i int, p ledger.ReplayPlan) error) (ledger.Cleared, error)
}

var _ ShardLedgers = ledger.Shards(nil)

// oneShard is the ShardLedgers of a single Ledger.
type oneShard struct{ l Ledger }

func (o oneShard) Replay(ctx context.Context, plan func(int, ledger.ZoneHistory) (ledger.ReplayPlan, error), reset func(context.Context, int, ledger.ReplayPlan) error) (ledger.Cleared, error) {
	return o.l.Replay(ctx, func(h ledger.ZoneHistory) (ledger.ReplayPlan, error) { return plan(0, h) },
		func(ctx context.Context, p ledger.ReplayPlan) error { return reset(ctx, 0, p) })
}

// ReplayShards is Replay for a kind whose events are split over shards: groups[i] is the group of the shard
// whose ledger is ledgers' i-th. The daily rows from the date on are cleared once, and every shard's ledger
// voided and group reset in the same transaction, which holds every shard's lock row (package doc, point 7).
// Each shard's plan comes from its own ledger; they must agree on the first date cleared (they do when every
// worker counts in one zone), or the replay refuses.
func ReplayShards(ctx context.Context, groups []Group, ledgers ShardLedgers, fromDate string, loc *time.Location) (ReplayResult, error) {
	day, err := time.ParseInLocation(time.DateOnly, fromDate, loc)
	if err != nil {
		return ReplayResult{}, fmt.Errorf("%w: --from %q is not a date (YYYY-MM-DD)", ErrReplayImpossible, fromDate)
	}
	// Checked before (to refuse early: the replay needs at least this) and again, from the planned point,
	// after each group has moved back: from then on the trimmer keeps everything the group needs, so a trim
	// racing with the replay is caught by the second check.
	for _, g := range groups {
		if err := holdsFrom(ctx, g, day.Add(-ReplaySlack).UnixMilli(), fromDate, loc); err != nil {
			return ReplayResult{}, err
		}
	}
	res := ReplayResult{Shards: make([]ShardReplay, len(groups))}
	cleared, err := ledgers.Replay(ctx, func(i int, h ledger.ZoneHistory) (ledger.ReplayPlan, error) {
		p, err := planReplay(day, loc, h)
		if err != nil {
			return p, err
		}
		if i > 0 && p.ClearFrom != res.Shards[0].Plan.ClearFrom {
			return p, fmt.Errorf("%w from %s: the counts of stream %s were dated in another zone than those of %s (the rows from %s on hold the first's entries from %s, the second's from %s); run every worker with TIMEZONE=%s",
				ErrReplayImpossible, fromDate, groups[i].Stream(), groups[0].Stream(), p.ClearFrom, groups[i].Stream(), res.Shards[0].Plan.ClearFrom, loc)
		}
		res.Shards[i] = ShardReplay{Stream: groups[i].Stream(), Plan: p}
		return p, nil
	}, func(ctx context.Context, i int, p ledger.ReplayPlan) error {
		to, err := resetGroup(ctx, groups[i], p, fromDate, loc)
		res.Shards[i].ResetTo = to
		return err
	})
	if err != nil {
		return ReplayResult{}, err
	}
	res.ClearedRows, res.ClearedFilteredRows = cleared.Rows, cleared.FilteredRows
	res.Plan, res.ResetTo = res.Shards[0].Plan, res.Shards[0].ResetTo
	for _, s := range res.Shards[1:] {
		res.Plan.VoidFromMs = min(res.Plan.VoidFromMs, s.Plan.VoidFromMs)
	}
	return res, nil
}

// resetGroup moves group back to ReplaySlack before p's VoidFromMs (never forward) and checks that the
// stream still holds every entry from there; it returns where the group is now.
func resetGroup(ctx context.Context, group Group, p ledger.ReplayPlan, fromDate string, loc *time.Location) (string, error) {
	resetMs := p.VoidFromMs - ReplaySlack.Milliseconds()
	reset := "0-0"
	if resetMs > 0 {
		reset = fmt.Sprintf("%d-%d", resetMs-1, uint64(math.MaxUint64))
	}
	// Only ever move the group back: a group that has not yet reached the reset point would skip
	// undelivered entries if moved forward.
	info, err := group.Info(ctx)
	if err != nil {
		return "", err
	}
	if info.LastDelivered.Less(streamid.MustParse(reset)) {
		return info.LastDelivered.String(), nil
	}
	if err := group.SetID(ctx, reset); err != nil {
		return "", err
	}
	// If this fails the counts are not cleared (the transaction rolls back); the group re-reads entries
	// the ledger still vouches for, and skips them.
	return reset, holdsFrom(ctx, group, resetMs, fromDate, loc)
}

// holdsFrom checks that the stream still holds every entry from resetMs on. Entries are only ever removed
// from the front (trimming), so it does when nothing was removed, or when its oldest remaining entry is not
// after that point.
func holdsFrom(ctx context.Context, group Group, resetMs int64, fromDate string, loc *time.Location) error {
	r, err := group.Retained(ctx)
	if err != nil {
		return err
	}
	if r.Removed <= 0 || r.Empty {
		return nil
	}
	if r.First.Ms > uint64(max(resetMs, 0)) {
		return fmt.Errorf("%w from %s: the stream %s no longer holds all its entries (%d were trimmed; the oldest left is from %s); replay a later date",
			ErrReplayImpossible, fromDate, group.Stream(), r.Removed, time.UnixMilli(int64(r.First.Ms)).In(loc).Format(time.RFC3339))
	}
	return nil
}

// ReplayResult says what a replay did.
type ReplayResult struct {
	ClearedRows         int64  // rows of the daily table
	ClearedFilteredRows int64  // rows of its filtered table
	ResetTo             string // where the first shard's group is now
	// Plan is the first shard's plan, its VoidFromMs the earliest of every shard's.
	Plan   ledger.ReplayPlan
	Shards []ShardReplay // one per shard, in the order of the groups
}

// ShardReplay says what a replay did to one shard: its plan (the shards' share ClearFrom) and where its
// group is now.
type ShardReplay struct {
	Stream  string
	Plan    ledger.ReplayPlan
	ResetTo string
}
