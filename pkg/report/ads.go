package report

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
)

// Limits of the per-ad and path reports.
const (
	DefaultLimit  = 100
	MaxAdsLimit   = 10000
	MaxPathsLimit = 1000
)

// Ads reports the valid totals of each ad over r — every ad with a valid count in r, or only adID, whose row
// is then returned with zeros if it has none — sorted by sort and cut to limit rows, each with its filtered
// traffic by reason. sort is what ParseSort reads: impressions, clicks, ctr or ad_id, ascending, or with a
// leading "-" descending; "" is most impressions first. An ad with only filtered traffic in r is not listed
// (Summary counts it). limit must be between 1 and MaxAdsLimit. A bad sort or limit is an error wrapping
// ErrBadRequest.
func (s *Store) Ads(ctx context.Context, r Range, adID int64, sort string, limit int) ([]AdRow, error) {
	order, err := ParseSort(sort)
	if err != nil {
		return nil, err
	}
	if limit < 1 || limit > MaxAdsLimit {
		return nil, badf("limit=%d: use 1 to %d", limit, MaxAdsLimit)
	}
	totals := [2]map[int64]int64{{}, {}}
	filtered := [2]map[int64]reasonCounts{{}, {}}
	err = s.run(ctx, AdsStatements(r, adID), func(kind, stmt int, rows *sql.Rows) error {
		var id, n int64
		if stmt == 0 {
			if err := rows.Scan(&id, &n); err != nil {
				return err
			}
			totals[kind][id] += n
			return nil
		}
		var reason string
		if err := rows.Scan(&id, &reason, &n); err != nil {
			return err
		}
		if filtered[kind][id] == nil {
			filtered[kind][id] = reasonCounts{}
		}
		filtered[kind][id][reason] += n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ads %s: %w", r, err)
	}

	out := make([]AdRow, 0, max(len(totals[0]), len(totals[1])))
	for id, imp := range totals[0] {
		out = append(out, AdRow{AdID: id, Totals: NewTotals(imp, totals[1][id])})
	}
	for id, clk := range totals[1] {
		if _, ok := totals[0][id]; !ok {
			out = append(out, AdRow{AdID: id, Totals: NewTotals(0, clk)})
		}
	}
	if adID != 0 && len(out) == 0 {
		out = append(out, AdRow{AdID: adID, Totals: NewTotals(0, 0)})
	}
	slices.SortFunc(out, order.compare)
	out = out[:min(limit, len(out))]
	for i := range out {
		rs := reasons{}
		for kind := range filtered {
			for reason, n := range filtered[kind][out[i].AdID] {
				rs.add(kind, reason, n)
			}
		}
		out[i].Filtered = rs.sorted()
	}
	return out, nil
}

// reasonCounts is one kind's filtered counts of one ad, by reason.
type reasonCounts map[string]int64

// reasons is filtered traffic by reason, both kinds.
type reasons map[string]*Filtered

func (rs reasons) add(kind int, reason string, n int64) {
	f := rs[reason]
	if f == nil {
		f = &Filtered{Reason: reason}
		rs[reason] = f
	}
	if kind == 0 {
		f.Impressions += n
	} else {
		f.Clicks += n
	}
}

// sorted lists the reasons, most impressions first, then most clicks, then by name (never nil).
func (rs reasons) sorted() []Filtered {
	out := make([]Filtered, 0, len(rs))
	for _, f := range rs {
		out = append(out, *f)
	}
	slices.SortFunc(out, func(a, b Filtered) int {
		return cmp.Or(cmp.Compare(b.Impressions, a.Impressions), cmp.Compare(b.Clicks, a.Clicks), cmp.Compare(a.Reason, b.Reason))
	})
	return out
}
