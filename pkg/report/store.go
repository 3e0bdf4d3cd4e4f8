package report

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Totals are valid impressions and clicks. CTR is clicks per impression (0.0125 is 1.25 %), nil when there
// were no impressions.
type Totals struct {
	Impressions int64    `json:"impressions"`
	Clicks      int64    `json:"clicks"`
	CTR         *float64 `json:"ctr"`
}

// NewTotals computes the CTR of impressions and clicks.
func NewTotals(impressions, clicks int64) Totals {
	t := Totals{Impressions: impressions, Clicks: clicks}
	if impressions > 0 {
		ctr := float64(clicks) / float64(impressions)
		t.CTR = &ctr
	}
	return t
}

// Day is one calendar day's totals; Date is YYYY-MM-DD.
type Day struct {
	Date string `json:"date"`
	Totals
}

// Filtered is the invalid traffic of one reason (prefetch, crawler, …), counted apart from the valid totals.
type Filtered struct {
	Reason      string `json:"reason"`
	Impressions int64  `json:"impressions"`
	Clicks      int64  `json:"clicks"`
}

// Summary is the report of one range, over every ad or one: its totals, the previous period's (the range of
// the same length just before), every day of the range (days without counts hold zeros) and the filtered
// traffic of the range by reason (most impressions first).
type Summary struct {
	Zone           string     `json:"zone"`
	AdID           int64      `json:"ad_id,omitempty"` // 0: every ad
	Range          Range      `json:"range"`
	Previous       Range      `json:"previous"`
	Totals         Totals     `json:"totals"`
	PreviousTotals Totals     `json:"previous_totals"`
	Days           []Day      `json:"days"`
	Filtered       []Filtered `json:"filtered"`
}

// AdRow is one ad's totals over a range, with its filtered traffic by reason.
type AdRow struct {
	AdID int64 `json:"ad_id"`
	Totals
	Filtered []Filtered `json:"filtered"`
}

// PathRow is one path's hits since it was first synced, and when its row was created and last changed (in
// the store's zone).
type PathRow struct {
	Path      string     `json:"path"`
	Hits      int64      `json:"hits"`
	CreatedAt *time.Time `json:"created_at"`
	UpdatedAt *time.Time `json:"updated_at"`
}

// Store runs the reports on MariaDB. It only reads.
type Store struct {
	db  *sqlx.DB
	loc *time.Location
}

// NewStore returns a Store over db whose dates are days of loc (the workers' TIMEZONE).
func NewStore(db *sqlx.DB, loc *time.Location) *Store {
	return &Store{db: db, loc: loc}
}

// Zone is the time zone whose calendar days the dates are.
func (s *Store) Zone() *time.Location { return s.loc }

// Ping checks that MariaDB answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// readTx runs fn in a read-only transaction, so that the statements of one report see one snapshot: the
// workers commit valid and filtered counts together, and a report must not show one without the other.
func (s *Store) readTx(ctx context.Context, fn func(*sqlx.Tx) error) error {
	tx, err := s.db.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// dayCounts is the rows of a daily query: one per date and table.
type dayCounts map[string]*[2]int64

func scanDays(ctx context.Context, q sqlx.QueryerContext, query Query) (dayCounts, error) {
	rows, err := q.QueryxContext(ctx, query.SQL, query.Args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", query.Name, err)
	}
	defer func() { _ = rows.Close() }()
	days := dayCounts{}
	for rows.Next() {
		var date time.Time
		var imp, clk int64
		if err := rows.Scan(&date, &imp, &clk); err != nil {
			return nil, fmt.Errorf("%s: %w", query.Name, err)
		}
		k := date.Format(DateLayout)
		if days[k] == nil {
			days[k] = new([2]int64)
		}
		days[k][0] += imp
		days[k][1] += clk
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", query.Name, err)
	}
	return days, nil
}

// fill lists every day of r with its counts, zeros where there were none, and returns their sums.
func (d dayCounts) fill(r Range) ([]Day, Totals) {
	out := make([]Day, 0, r.Days())
	var imp, clk int64
	for _, date := range r.Dates() {
		var c [2]int64
		if p := d[date]; p != nil {
			c = *p
		}
		imp, clk = imp+c[0], clk+c[1]
		out = append(out, Day{Date: date, Totals: NewTotals(c[0], c[1])})
	}
	return out, NewTotals(imp, clk)
}

// Summary reports r and the period before it, over every ad (adID 0) or one.
func (s *Store) Summary(ctx context.Context, r Range, adID int64) (Summary, error) {
	prev := r.Previous()
	out := Summary{Zone: s.loc.String(), AdID: adID, Range: r, Previous: prev}
	err := s.readTx(ctx, func(tx *sqlx.Tx) error {
		days, err := scanDays(ctx, tx, DailyQuery(Range{From: prev.From, To: r.To}, adID))
		if err != nil {
			return err
		}
		out.Days, out.Totals = days.fill(r)
		_, out.PreviousTotals = days.fill(prev)
		byAd, err := scanFiltered(ctx, tx, FilteredQuery(r, adID))
		if err != nil {
			return err
		}
		out.Filtered = byAd.merged()
		return nil
	})
	if err != nil {
		return Summary{}, fmt.Errorf("summary %s: %w", r, err)
	}
	return out, nil
}

// AdDaily reports every day of r for one ad (zeros on days without counts).
func (s *Store) AdDaily(ctx context.Context, adID int64, r Range) ([]Day, error) {
	days, err := scanDays(ctx, s.db, DailyQuery(r, adID))
	if err != nil {
		return nil, fmt.Errorf("ad %d daily %s: %w", adID, r, err)
	}
	out, _ := days.fill(r)
	return out, nil
}

// CountedZone is the zone the workers dated their latest commit in (stream_ledger.zone; "" when no commit
// recorded one). The report's zone should be the same.
func (s *Store) CountedZone(ctx context.Context) (string, error) {
	var zone string
	err := s.db.GetContext(ctx, &zone, `SELECT zone FROM stream_ledger WHERE zone <> '' ORDER BY id DESC LIMIT 1`)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return zone, err
}
