package report

import (
	"context"
	"net/http"

	"adly/pkg/dashboard"
)

// Dashboard is the UI that serves package dashboard's page at "/", reading through the store. The page
// declares its own copies of the report types (it imports no store); dashboardReports converts.
func Dashboard(d Deps) http.Handler {
	return dashboard.New(dashboardReports{d.Store}, func(from, to string) (dashboard.Range, error) {
		r, err := ParseRange(from, to, d.Now(), d.Store.Zone(), d.MaxDays)
		return dashboard.Range{From: r.From, To: r.To}, err
	}, dashboard.Options{Log: d.Log, Now: d.Now, Zone: d.Store.Zone().String()})
}

type dashboardReports struct{ s *Store }

func (a dashboardReports) Summary(ctx context.Context, r dashboard.Range, adID int64) (dashboard.Summary, error) {
	s, err := a.s.Summary(ctx, Range{From: r.From, To: r.To}, adID)
	if err != nil {
		return dashboard.Summary{}, err
	}
	days := make([]dashboard.Day, len(s.Days))
	for i, d := range s.Days {
		days[i] = dashboard.Day{Date: d.Date, Totals: totals(d.Totals)}
	}
	return dashboard.Summary{
		Zone: s.Zone, Range: dashboard.Range{From: s.Range.From, To: s.Range.To},
		Previous: dashboard.Range{From: s.Previous.From, To: s.Previous.To},
		Totals:   totals(s.Totals), PreviousTotals: totals(s.PreviousTotals), Days: days, Filtered: filtered(s.Filtered),
	}, nil
}

func (a dashboardReports) Ads(ctx context.Context, r dashboard.Range, adID int64, sort string, limit int) ([]dashboard.AdRow, error) {
	rows, err := a.s.Ads(ctx, Range{From: r.From, To: r.To}, adID, sort, limit)
	if err != nil {
		return nil, err
	}
	out := make([]dashboard.AdRow, len(rows))
	for i, row := range rows {
		out[i] = dashboard.AdRow{AdID: row.AdID, Totals: totals(row.Totals), Filtered: filtered(row.Filtered)}
	}
	return out, nil
}

func (a dashboardReports) Paths(ctx context.Context, prefix string, limit int) ([]dashboard.PathRow, error) {
	rows, err := a.s.Paths(ctx, prefix, limit)
	if err != nil {
		return nil, err
	}
	out := make([]dashboard.PathRow, len(rows))
	for i, row := range rows {
		out[i] = dashboard.PathRow{Path: row.Path, Hits: row.Hits, UpdatedAt: row.UpdatedAt}
	}
	return out, nil
}

func totals(t Totals) dashboard.Totals {
	return dashboard.Totals{Impressions: t.Impressions, Clicks: t.Clicks, CTR: t.CTR}
}

func filtered(fs []Filtered) []dashboard.Filtered {
	out := make([]dashboard.Filtered, len(fs))
	for i, f := range fs {
		out[i] = dashboard.Filtered{Reason: f.Reason, Impressions: f.Impressions, Clicks: f.Clicks}
	}
	return out
}
