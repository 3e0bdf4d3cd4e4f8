package report

import "strings"

// Sort is the order of the per-ad report: a key, and whether it is descending. Ties are broken by ad_id,
// ascending; ads without impressions (no CTR) come last when sorting by ctr either way.
type Sort struct {
	Key  string // impressions, clicks, ctr or ad_id
	Desc bool
}

// DefaultSort is most impressions first.
var DefaultSort = Sort{Key: "impressions", Desc: true}

// SortKeys are the keys ParseSort accepts.
var SortKeys = []string{"impressions", "clicks", "ctr", "ad_id"}

// ParseSort reads the sort parameter: a key of SortKeys, ascending, or with a "-" in front, descending
// ("-clicks": most clicks first). Empty is DefaultSort. Anything else is an error wrapping ErrBadRequest.
func ParseSort(s string) (Sort, error) {
	if s == "" {
		return DefaultSort, nil
	}
	key, desc := strings.CutPrefix(s, "-")
	for _, k := range SortKeys {
		if key == k {
			return Sort{Key: k, Desc: desc}, nil
		}
	}
	return Sort{}, badf("sort=%q: use one of %s, with a leading - for descending (e.g. -ctr)", clip(s), strings.Join(SortKeys, ", "))
}

// String is the parameter that gives s.
func (s Sort) String() string {
	if s.Desc {
		return "-" + s.Key
	}
	return s.Key
}

// orderBy is the ORDER BY list of AdsQuery, over its aggregates (i: impressions, c: clicks).
func (s Sort) orderBy() string {
	dir := ""
	if s.Desc {
		dir = " DESC"
	}
	switch s.Key {
	case "clicks":
		return "SUM(c)" + dir + ", ad_id"
	case "ctr":
		// In floating point (1e0 *): a DECIMAL division keeps four decimals and would tie CTRs that differ.
		return "SUM(i) = 0, 1e0 * SUM(c) / SUM(i)" + dir + ", ad_id"
	case "ad_id":
		return "ad_id" + dir
	default:
		return "SUM(i)" + dir + ", ad_id"
	}
}
