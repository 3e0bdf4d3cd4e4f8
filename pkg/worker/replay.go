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
// The package doc says why the recount is exact.
func Replay(ctx context.Context, group Group, counter Ledger, fromDate string, loc *time.Location) (ReplayResult, error) {
	day, err := time.ParseInLocation(time.DateOnly, fromDate, loc)
	if err != nil {
		return ReplayResult{}, fmt.Errorf("%w: --from %q is not a date (YYYY-MM-DD)", ErrReplayImpossible, fromDate)
	}
	// Checked before (to refuse early: the replay needs at least this) and again, from the planned point,
	// after the group has moved back: from then on the trimmer keeps everything the group needs, so a trim
	// racing with the replay is caught by the second check.
	if err := holdsFrom(ctx, group, day.Add(-ReplaySlack).UnixMilli(), fromDate, loc); err != nil {
		return ReplayResult{}, err
	}
	var res ReplayResult
	cleared, err := counter.Replay(ctx, func(h ledger.ZoneHistory) (ledger.ReplayPlan, error) {
		return planReplay(day, loc, h)
	}, func(ctx context.Context, p ledger.ReplayPlan) error {
		resetMs := p.VoidFromMs - ReplaySlack.Milliseconds()
		reset := "0-0"
		if resetMs > 0 {
			reset = fmt.Sprintf("%d-%d", resetMs-1, uint64(math.MaxUint64))
		}
		res.Plan, res.ResetTo = p, reset
		// Only ever move the group back: a group that has not yet reached the reset point would skip
		// undelivered entries if moved forward.
		info, err := group.Info(ctx)
		if err != nil {
			return err
		}
		if info.LastDelivered.Less(streamid.MustParse(reset)) {
			res.ResetTo = info.LastDelivered.String()
			return nil
		}
		if err := group.SetID(ctx, reset); err != nil {
			return err
		}
		// If this fails the counts are not cleared (the transaction rolls back); the group re-reads entries
		// the ledger still vouches for, and skips them.
		return holdsFrom(ctx, group, resetMs, fromDate, loc)
	})
	if err != nil {
		return ReplayResult{}, err
	}
	res.ClearedRows, res.ClearedFilteredRows = cleared.Rows, cleared.FilteredRows
	return res, nil
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
	ClearedRows         int64 // rows of the daily table
	ClearedFilteredRows int64 // rows of its filtered table
	ResetTo             string
	Plan                ledger.ReplayPlan
}
