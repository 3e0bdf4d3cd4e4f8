package dashboard

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The query parameters of the page.
const (
	paramFrom   = "from"   // first day, YYYY-MM-DD
	paramTo     = "to"     // last day, YYYY-MM-DD
	paramPreset = "preset" // 7, 30 or 90: the days ending today; wins over from and to
	paramAdID   = "ad_id"  // one ad only; empty for all
	paramSort   = "sort"   // the ad table's order: a sort key
	paramPrefix = "prefix" // the path table's filter
)

// Sort keys: a column of the ad table, descending with a leading "-".
const (
	sortAdID        = "ad_id"
	sortImpressions = "impressions"
	sortClicks      = "clicks"
	sortCTR         = "ctr"
)

var sortKeys = []string{sortAdID, sortImpressions, sortClicks, sortCTR}

// maxPrefix is the longest prefix worth asking for: a path is at most 255 bytes.
const maxPrefix = 255

// query is the page's parameters as the request gave them. When one is invalid, parseQuery leaves its field
// zero, so links and forms built from the query carry only valid values.
type query struct {
	From, To string // as given, shown again in the picker
	Preset   int    // 0: none
	AdID     int64  // 0: every ad
	Sort     string // "": defaultSort
	Prefix   string
}

// parseQuery reads the parameters and returns the first problem as an error for the person who sent them.
// The range itself is checked by the RangeParser, not here.
func parseQuery(v url.Values) (query, error) {
	q := query{From: v.Get(paramFrom), To: v.Get(paramTo)}
	var errs []error
	if s := v.Get(paramPreset); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || !isPreset(n) {
			errs = append(errs, fmt.Errorf("preset must be one of %s (days), not %q", presetList(), s))
		} else {
			q.Preset = n
		}
	}
	if s := strings.TrimSpace(v.Get(paramAdID)); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			errs = append(errs, fmt.Errorf("ad_id must be a positive whole number, not %q", s))
		} else {
			q.AdID = n
		}
	}
	if s := v.Get(paramSort); s != "" {
		if !validSort(s) {
			errs = append(errs, fmt.Errorf("sort must be one of %s, with a leading - for descending, not %q",
				strings.Join(sortKeys, ", "), s))
		} else {
			q.Sort = s
		}
	}
	if s := v.Get(paramPrefix); len(s) > maxPrefix {
		errs = append(errs, fmt.Errorf("prefix must be at most %d bytes, not %d", maxPrefix, len(s)))
	} else {
		q.Prefix = s
	}
	return q, errors.Join(errs...)
}

// rangeParams are the from and to to give the RangeParser: a preset's days ending today, the default preset
// when the query names no range, else the dates as given.
func (q query) rangeParams(today time.Time, defaultPreset int) (from, to string) {
	days := q.Preset
	if days == 0 && q.From == "" && q.To == "" {
		days = defaultPreset
	}
	if days == 0 {
		return q.From, q.To
	}
	return formatDate(today.AddDate(0, 0, 1-days)), formatDate(today)
}

func (q query) sort() string {
	if q.Sort == "" {
		return defaultSort
	}
	return q.Sort
}

func validSort(s string) bool {
	s = strings.TrimPrefix(s, "-")
	for _, k := range sortKeys {
		if s == k {
			return true
		}
	}
	return false
}

func presetList() string {
	s := make([]string, len(presets))
	for i, n := range presets {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

func formatDate(t time.Time) string { return t.UTC().Format(time.DateOnly) }
