package report

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// dayNumber is a civil date as days since 1970-01-01.
func dayNumber(d time.Time) int64 { return d.Unix() / 86400 }

// daySums is one kind's sums by day number.
type daySums map[int64]int64

// days lists every day of r with both kinds' counts (zeros where there were none) and returns their sums.
// It allocates three times whatever the range's length: the dates share one string, the CTRs one array.
func days(r Range, sums [2]daySums) ([]Day, Totals) {
	n := r.Days()
	out := make([]Day, n)
	ctrs := make([]float64, n)
	dates := make([]byte, 0, n*len(DateLayout))
	for d := r.From; !d.After(r.To); d = d.AddDate(0, 0, 1) {
		dates = appendDate(dates, d)
	}
	all := string(dates)
	var imp, clk int64
	first := dayNumber(r.From)
	for i := range out {
		di, dc := sums[0][first+int64(i)], sums[1][first+int64(i)]
		imp, clk = imp+di, clk+dc
		out[i] = Day{Date: all[i*len(DateLayout) : (i+1)*len(DateLayout)], Totals: Totals{Impressions: di, Clicks: dc}}
		if di > 0 {
			ctrs[i] = float64(dc) / float64(di)
			out[i].CTR = &ctrs[i]
		}
	}
	return out, NewTotals(imp, clk)
}

// appendDate appends d as YYYY-MM-DD (years 1000 to 9999, as ranges hold).
func appendDate(b []byte, d time.Time) []byte {
	y, m, day := d.Date()
	return append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+int(m)/10), byte('0'+int(m)%10), '-', byte('0'+day/10), byte('0'+day%10))
}

func scanDay(rows *sql.Rows, sums daySums) error {
	var date time.Time
	var n int64
	if err := rows.Scan(&date, &n); err != nil {
		return err
	}
	sums[dayNumber(date)] += n
	return nil
}

// Summary reports r and the period before it, over every ad (adID 0) or one.
func (s *Store) Summary(ctx context.Context, r Range, adID int64) (Summary, error) {
	prev := r.Previous()
	sums := [2]daySums{{}, {}}
	filtered := [2]map[string]int64{{}, {}}
	err := s.run(ctx, SummaryStatements(r, adID), func(kind, stmt int, rows *sql.Rows) error {
		if stmt == 0 {
			return scanDay(rows, sums[kind])
		}
		var reason string
		var n int64
		if err := rows.Scan(&reason, &n); err != nil {
			return err
		}
		filtered[kind][reason] += n
		return nil
	})
	if err != nil {
		return Summary{}, fmt.Errorf("summary %s: %w", r, err)
	}
	out := Summary{Zone: s.loc.String(), AdID: adID, Range: r, Previous: prev}
	out.Days, out.Totals = days(r, sums)
	_, out.PreviousTotals = days(prev, sums)
	rs := reasons{}
	for kind, m := range filtered {
		for reason, n := range m {
			rs.add(kind, reason, n)
		}
	}
	out.Filtered = rs.sorted()
	return out, nil
}

// AdDaily reports every day of r for one ad (zeros on days without counts).
func (s *Store) AdDaily(ctx context.Context, adID int64, r Range) ([]Day, error) {
	sums := [2]daySums{{}, {}}
	err := s.run(ctx, AdDailyStatements(adID, r), func(kind, _ int, rows *sql.Rows) error {
		return scanDay(rows, sums[kind])
	})
	if err != nil {
		return nil, fmt.Errorf("ad %d daily %s: %w", adID, r, err)
	}
	out, _ := days(r, sums)
	return out, nil
}
