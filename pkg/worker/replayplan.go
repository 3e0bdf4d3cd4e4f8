package worker

import (
	"adly/pkg/ledger"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// zoneSegment: the daily rows of the entries whose ts is at or after start (up to the next segment) are
// dated in loc.
type zoneSegment struct {
	start int64 // unix ms
	loc   *time.Location
}

// planReplay decides what a replay from day's midnight (in loc, the zone the workers now count in) clears
// and voids, from the zones the daily rows were dated in. Those are a sequence of segments of time: the
// initial zone (that of the ledger rows written before the first recorded replay), then, from each recorded
// replay's instant on, the zone it recounted in (a later replay replaces what an earlier one recounted from
// its instant on). Within a segment a row's date grows with ts, and across a boundary it does not go back
// (checked), so the rows dated D0 or later hold exactly the entries from some instant T0 on: D0 is the row
// date of midnight, T0 the first instant whose row date is D0. Clearing the rows from D0 and voiding the
// entries from T0 then remove the same entries' counts, and the workers count each of them again, once.
func planReplay(day time.Time, loc *time.Location, h ledger.ZoneHistory) (ledger.ReplayPlan, error) {
	segs, err := zoneSegments(loc, h)
	if err != nil {
		return ledger.ReplayPlan{}, err
	}
	midnight := day.UnixMilli()
	at := func(ms int64) zoneSegment { // the segment holding ms
		s := segs[0]
		for _, next := range segs[1:] {
			if next.start > ms {
				break
			}
			s = next
		}
		return s
	}
	dateOf := func(ms int64, l *time.Location) string { return time.UnixMilli(ms).In(l).Format(time.DateOnly) }
	clear := dateOf(midnight, at(midnight).loc)
	voidFrom := int64(math.MaxInt64)
	for i, s := range segs {
		first, err := time.ParseInLocation(time.DateOnly, clear, s.loc)
		if err != nil {
			return ledger.ReplayPlan{}, fmt.Errorf("replay: %w", err)
		}
		c := max(s.start, first.UnixMilli())
		if i+1 == len(segs) || c < segs[i+1].start {
			voidFrom = c
			break
		}
	}
	for _, s := range segs[1:] {
		if s.start > voidFrom && dateOf(s.start, s.loc) < clear {
			return ledger.ReplayPlan{}, fmt.Errorf("%w from %s: the counts from %s on were dated in %s, whose dates run behind the earlier zone's by more than a day; replay from %s or earlier",
				ErrReplayImpossible, day.Format(time.DateOnly), time.UnixMilli(s.start).In(loc).Format(time.RFC3339), s.loc, dateOf(s.start, loc))
		}
	}
	return ledger.ReplayPlan{ClearFrom: clear, VoidFromMs: voidFrom, Zone: loc.String()}, nil
}

// zoneSegments builds the segments of zoneHistory (see planReplay). The initial zone is the one the ledger's
// oldest rows were dated in, not counting the zone of the replay that follows them (workers restarted with a
// new TIMEZONE may count a little before that replay); no zone recorded means loc (rows of older versions).
func zoneSegments(loc *time.Location, h ledger.ZoneHistory) ([]zoneSegment, error) {
	next := loc.String()
	if len(h.Spans) > 0 {
		next = h.Spans[0].Zone
	}
	others := slices.DeleteFunc(slices.Clone(h.Initial), func(z string) bool { return z == next })
	initial := next
	switch len(others) {
	case 0:
	case 1:
		initial = others[0]
	default:
		return nil, fmt.Errorf("%w: the counts were dated in several zones (%s: workers ran with different TIMEZONE), so the replay cannot tell which rows hold which instants; run every worker with TIMEZONE=%s and replay once the entries counted in other zones have been trimmed from the stream",
			ErrReplayImpossible, strings.Join(h.Initial, ", "), loc)
	}
	l, err := time.LoadLocation(initial)
	if err != nil {
		return nil, fmt.Errorf("%w: the ledger names zone %q: %v", ErrReplayImpossible, initial, err)
	}
	segs := []zoneSegment{{start: math.MinInt64, loc: l}}
	for _, sp := range h.Spans {
		l, err := time.LoadLocation(sp.Zone)
		if err != nil {
			return nil, fmt.Errorf("%w: a past replay names zone %q: %v", ErrReplayImpossible, sp.Zone, err)
		}
		for len(segs) > 1 && segs[len(segs)-1].start >= sp.FromMs {
			segs = segs[:len(segs)-1]
		}
		segs = append(segs, zoneSegment{start: sp.FromMs, loc: l})
	}
	return segs, nil
}
