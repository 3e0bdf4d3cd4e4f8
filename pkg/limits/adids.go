package limits

import (
	"adly/pkg/event"
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// AdIDRanges is a set of admitted ad ids, kept as sorted, disjoint, non-adjacent ranges. The zero value
// admits every ad id, as does the empty setting. It is immutable and safe for concurrent use.
type AdIDRanges struct {
	r []adIDRange // nil: every ad id
}

type adIDRange struct{ lo, hi int64 }

// ParseAdIDRanges reads a comma-separated list of ad ids and inclusive ranges, such as
// "1-5000,9000,10000-10099". An empty or blank string admits every ad id. Whitespace around items and
// around the dash is ignored. Ids are decimal, 1..event.MaxAdID. Overlapping and adjacent items are merged,
// and a list that covers every ad id is the same as the empty one. An empty item, anything that is not a
// number or a range of two, a reversed range ("9-3") and a number out of range are errors naming the item.
func ParseAdIDRanges(s string) (AdIDRanges, error) {
	if strings.TrimSpace(s) == "" {
		return AdIDRanges{}, nil
	}
	var rs []adIDRange
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		r, err := parseAdIDRange(item)
		if err != nil {
			return AdIDRanges{}, fmt.Errorf("ad_id ranges: item %q: %w", item, err)
		}
		rs = append(rs, r)
	}
	slices.SortFunc(rs, func(a, b adIDRange) int { return cmp.Compare(a.lo, b.lo) })
	merged := rs[:1]
	for _, r := range rs[1:] {
		last := &merged[len(merged)-1]
		if r.lo <= last.hi+1 {
			last.hi = max(last.hi, r.hi)
			continue
		}
		merged = append(merged, r)
	}
	if len(merged) == 1 && merged[0] == (adIDRange{1, event.MaxAdID}) {
		return AdIDRanges{}, nil
	}
	return AdIDRanges{r: slices.Clip(merged)}, nil
}

func parseAdIDRange(item string) (adIDRange, error) {
	if item == "" {
		return adIDRange{}, errors.New("empty item")
	}
	loText, hiText, isRange := strings.Cut(item, "-")
	lo, err := parseID(strings.TrimSpace(loText))
	if err != nil {
		return adIDRange{}, err
	}
	if !isRange {
		return adIDRange{lo, lo}, nil
	}
	hi, err := parseID(strings.TrimSpace(hiText))
	if err != nil {
		return adIDRange{}, err
	}
	if hi < lo {
		return adIDRange{}, fmt.Errorf("the range is reversed (%d > %d)", lo, hi)
	}
	return adIDRange{lo, hi}, nil
}

// parseID reads one ad id: decimal digits only, 1..event.MaxAdID.
func parseID(s string) (int64, error) {
	if s == "" {
		return 0, errors.New("an ad id is missing")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%q is not an ad id (decimal digits, or two joined by -)", s)
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 || n > event.MaxAdID {
		return 0, fmt.Errorf("ad id %s is not between 1 and %d", s, event.MaxAdID)
	}
	return n, nil
}

// All reports whether every ad id is admitted.
func (a AdIDRanges) All() bool { return a.r == nil }

// Contains reports whether id is admitted: an ad id (1..event.MaxAdID) in one of the ranges, or any ad id
// when all are. It is a binary search over the ranges and does not allocate.
func (a AdIDRanges) Contains(id int64) bool {
	if id < 1 || id > event.MaxAdID {
		return false
	}
	if a.r == nil {
		return true
	}
	// The first range that ends at or after id is the only one that can hold it.
	lo, hi := 0, len(a.r)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if a.r[m].hi < id {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo < len(a.r) && a.r[lo].lo <= id
}

// String is the canonical form: the merged ranges in order, a single id alone, "" when every ad id is
// admitted. ParseAdIDRanges reads it back as the same set.
func (a AdIDRanges) String() string {
	var b strings.Builder
	for i, r := range a.r {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(r.lo, 10))
		if r.hi != r.lo {
			b.WriteByte('-')
			b.WriteString(strconv.FormatInt(r.hi, 10))
		}
	}
	return b.String()
}
