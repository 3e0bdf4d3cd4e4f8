package worker

import (
	"fmt"
	"strconv"
	"time"

	"adly/pkg/event"
	"adly/pkg/ledger"
	"adly/pkg/stream"
)

// maxTS bounds a plausible event time (year 2100); anything later is malformed.
const maxTS = 4102444800

// parseEntry validates a stream entry and dates it in loc: the day of its ts there. An entry with the field
// ivt is filtered traffic, and its Reason is ivt's value (see the package doc). poison is why the entry
// cannot be counted, empty when it can. dates, when not nil, caches date strings per quarter hour across the
// calls of one batch.
func parseEntry(m stream.Message, loc *time.Location, dates map[int64]string) (e ledger.Entry, poison string) {
	adRaw, ok := m.Values["ad_id"].(string)
	if !ok {
		return ledger.Entry{}, "missing ad_id"
	}
	adID, err := event.ParseAdID(adRaw)
	if err != nil {
		return ledger.Entry{}, "malformed ad_id: " + event.Reason(err)
	}
	tsRaw, ok := m.Values["ts"].(string)
	if !ok {
		return ledger.Entry{}, "missing ts"
	}
	ts, err := strconv.ParseInt(tsRaw, 10, 64)
	if err != nil || ts <= 0 || ts > maxTS {
		return ledger.Entry{}, fmt.Sprintf("malformed ts %q: want unix seconds", truncate(tsRaw))
	}
	var reason string
	if v, ok := m.Values["ivt"]; ok { // valid traffic pays this lookup and nothing more
		reason, _ = v.(string)
		if !validIVT(reason) {
			return ledger.Entry{}, fmt.Sprintf("malformed ivt %q: want a reason token [a-z][a-z0-9_]{0,31}", truncate(reason))
		}
	}
	return ledger.Entry{ID: m.ID, AdID: adID, TS: ts, Date: cachedDate(ts, loc, dates), Reason: reason}, ""
}

// validIVT reports whether s is a filter reason as the stream contract has it: [a-z][a-z0-9_]{0,31}. Any
// such token is accepted, so a reason the API starts to give needs no change here.
func validIVT(s string) bool {
	if len(s) == 0 || len(s) > 32 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// cachedDate is DateOf, computed once per quarter hour: every time zone's offset, and every change of it, is
// a whole number of quarter hours, so all the seconds of a quarter hour share one date.
func cachedDate(ts int64, loc *time.Location, dates map[int64]string) string {
	if dates == nil {
		return DateOf(ts, loc)
	}
	q := ts / 900
	if d, ok := dates[q]; ok {
		return d
	}
	d := DateOf(ts, loc)
	dates[q] = d
	return d
}

// DateOf is the calendar date (YYYY-MM-DD) of unix time ts in loc.
func DateOf(ts int64, loc *time.Location) string {
	return time.Unix(ts, 0).In(loc).Format(time.DateOnly)
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
