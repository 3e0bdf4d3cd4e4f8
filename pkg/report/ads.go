package report

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/jmoiron/sqlx"
)

// Limits of the per-ad and path reports.
const (
	DefaultLimit  = 100
	MaxAdsLimit   = 10000
	MaxPathsLimit = 1000
)

// Ads reports the valid totals of each ad over r — every ad with a valid count in r, or only adID, whose row
// is then returned with zeros if it has none — sorted by sort and cut to limit rows, each with its filtered
// traffic by reason. An ad with only filtered traffic in r is not listed (Summary counts it). limit must be
// between 1 and MaxAdsLimit.
func (s *Store) Ads(ctx context.Context, r Range, adID int64, sort Sort, limit int) ([]AdRow, error) {
	if limit < 1 || limit > MaxAdsLimit {
		return nil, badf("limit=%d: use 1 to %d", limit, MaxAdsLimit)
	}
	var out []AdRow
	err := s.readTx(ctx, func(tx *sqlx.Tx) error {
		q := AdsQuery(r, adID, sort, limit)
		rows, err := tx.QueryxContext(ctx, q.SQL, q.Args...)
		if err != nil {
			return fmt.Errorf("%s: %w", q.Name, err)
		}
		defer func() { _ = rows.Close() }()
		out = make([]AdRow, 0, min(limit, 1024))
		for rows.Next() {
			var id, imp, clk int64
			if err := rows.Scan(&id, &imp, &clk); err != nil {
				return fmt.Errorf("%s: %w", q.Name, err)
			}
			out = append(out, AdRow{AdID: id, Totals: NewTotals(imp, clk), Filtered: []Filtered{}})
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("%s: %w", q.Name, err)
		}
		if adID != 0 && len(out) == 0 {
			out = append(out, AdRow{AdID: adID, Totals: NewTotals(0, 0), Filtered: []Filtered{}})
		}
		if len(out) == 0 {
			return nil
		}
		byAd, err := scanFiltered(ctx, tx, FilteredQuery(r, adID))
		if err != nil {
			return err
		}
		for i := range out {
			if f := byAd[out[i].AdID]; f != nil {
				out[i].Filtered = f.sorted()
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ads %s: %w", r, err)
	}
	return out, nil
}

// reasons is one ad's filtered counts by reason.
type reasons map[string]*Filtered

// filteredByAd is the rows of FilteredQuery, by ad and reason.
type filteredByAd map[int64]reasons

func scanFiltered(ctx context.Context, q sqlx.QueryerContext, query Query) (filteredByAd, error) {
	rows, err := q.QueryxContext(ctx, query.SQL, query.Args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", query.Name, err)
	}
	defer func() { _ = rows.Close() }()
	out := filteredByAd{}
	for rows.Next() {
		var id, imp, clk int64
		var reason string
		if err := rows.Scan(&id, &reason, &imp, &clk); err != nil {
			return nil, fmt.Errorf("%s: %w", query.Name, err)
		}
		out.add(id, Filtered{Reason: reason, Impressions: imp, Clicks: clk})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", query.Name, err)
	}
	return out, nil
}

func (m filteredByAd) add(adID int64, f Filtered) {
	rs := m[adID]
	if rs == nil {
		rs = reasons{}
		m[adID] = rs
	}
	if p := rs[f.Reason]; p != nil {
		p.Impressions += f.Impressions
		p.Clicks += f.Clicks
		return
	}
	rs[f.Reason] = &f
}

// merged is every ad's counts together, by reason.
func (m filteredByAd) merged() []Filtered {
	all := filteredByAd{}
	for _, rs := range m {
		for _, f := range rs {
			all.add(0, *f)
		}
	}
	return all[0].sorted()
}

// sorted lists the reasons, most impressions first, then most clicks, then by name.
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
