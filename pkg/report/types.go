package report

import "time"

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
