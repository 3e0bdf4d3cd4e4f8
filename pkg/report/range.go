package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrBadRequest marks an error in what the caller asked for (a bad date, a range too long, an unknown
// parameter): the API answers it with 400 and the error's text.
var ErrBadRequest = errors.New("bad request")

// badRequest is an ErrBadRequest whose text is the reason alone, as the answer shows it.
type badRequest struct{ reason string }

func (e badRequest) Error() string { return e.reason }
func (e badRequest) Unwrap() error { return ErrBadRequest }

func badf(format string, args ...any) error { return badRequest{fmt.Sprintf(format, args...)} }

// DateLayout is how dates are written in parameters, answers and file names.
const DateLayout = "2006-01-02"

// Range limits and defaults.
const (
	// MaxDays is the longest range a report covers (a leap year).
	MaxDays = 366
	// DefaultDays is the length of the range when the caller gives neither end.
	DefaultDays = 30
)

// The dates a range may name: DATE columns hold years 1000 to 9999; before 1970 nothing was counted.
var (
	minDate = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	maxDate = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
)

// Range is an inclusive range of calendar days of the report's zone. From and To are civil dates held as
// time.Time at 00:00 UTC (see the package comment); From is never after To.
type Range struct {
	From, To time.Time
}

// Days is the number of days in the range, both ends included.
func (r Range) Days() int { return int((r.To.Unix()-r.From.Unix())/86400) + 1 }

// Previous is the range of the same length that ends the day before r starts (the period a report compares
// with).
func (r Range) Previous() Range {
	n := r.Days()
	return Range{From: r.From.AddDate(0, 0, -n), To: r.From.AddDate(0, 0, -1)}
}

// Dates lists every day of the range in order, as DateLayout strings.
func (r Range) Dates() []string {
	out := make([]string, 0, r.Days())
	for d := r.From; !d.After(r.To); d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format(DateLayout))
	}
	return out
}

// String is "2026-11-01..2026-11-30".
func (r Range) String() string { return r.From.Format(DateLayout) + ".." + r.To.Format(DateLayout) }

// MarshalJSON writes {"from":"2026-11-01","to":"2026-11-30","days":30}.
func (r Range) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		From string `json:"from"`
		To   string `json:"to"`
		Days int    `json:"days"`
	}{r.From.Format(DateLayout), r.To.Format(DateLayout), r.Days()})
}

// Today is the calendar day of now in loc, as a civil date.
func Today(now time.Time, loc *time.Location) time.Time {
	y, m, d := now.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// ParseRange reads the from and to parameters (YYYY-MM-DD, both included). Empty ends take defaults: to is
// today in loc, from is DefaultDays-1 days before to (the last 30 days, today included). A date that does
// not parse, from after to, or a range longer than maxDays (MaxDays when maxDays is not positive) is an
// error wrapping ErrBadRequest that says why.
func ParseRange(from, to string, now time.Time, loc *time.Location, maxDays int) (Range, error) {
	if maxDays <= 0 {
		maxDays = MaxDays
	}
	var r Range
	var err error
	if to == "" {
		r.To = Today(now, loc)
	} else if r.To, err = parseDate("to", to); err != nil {
		return Range{}, err
	}
	if from == "" {
		r.From = r.To.AddDate(0, 0, -(min(DefaultDays, maxDays) - 1))
	} else if r.From, err = parseDate("from", from); err != nil {
		return Range{}, err
	}
	if r.From.After(r.To) {
		return Range{}, badf("from (%s) is after to (%s)", r.From.Format(DateLayout), r.To.Format(DateLayout))
	}
	if n := r.Days(); n > maxDays {
		return Range{}, badf("the range %s covers %d days; at most %d are allowed", r, n, maxDays)
	}
	return r, nil
}

// parseDate reads one YYYY-MM-DD date; name is the parameter's, for the error.
func parseDate(name, s string) (time.Time, error) {
	d, err := time.Parse(DateLayout, s)
	if err != nil || len(s) != len(DateLayout) {
		return time.Time{}, badf("%s=%q is not a date (YYYY-MM-DD)", name, clip(s))
	}
	if d.Before(minDate) || d.After(maxDate) {
		return time.Time{}, badf("%s=%s is outside 1970-01-01 to 9999-12-31", name, s)
	}
	return d, nil
}

// clip shortens what a caller sent before it is quoted in an answer.
func clip(s string) string {
	const n = 64
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
