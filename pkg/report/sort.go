package report

import (
	"cmp"
	"strings"
)

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

// compare orders two rows of Ads: by the key, then by ad_id ascending. Rows without a CTR come after the
// others in both directions.
func (s Sort) compare(a, b AdRow) int {
	var c int
	switch s.Key {
	case "clicks":
		c = cmp.Compare(a.Clicks, b.Clicks)
	case "ctr":
		switch {
		case a.CTR == nil && b.CTR == nil:
		case a.CTR == nil:
			return 1
		case b.CTR == nil:
			return -1
		default:
			c = cmp.Compare(*a.CTR, *b.CTR)
		}
	case "ad_id":
		c = cmp.Compare(a.AdID, b.AdID)
	default:
		c = cmp.Compare(a.Impressions, b.Impressions)
	}
	if s.Desc {
		c = -c
	}
	return cmp.Or(c, cmp.Compare(a.AdID, b.AdID))
}
