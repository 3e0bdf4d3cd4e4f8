package report

// The JSON answers of the API. encoding/json writes them, except the top paths (pathsjson.go): a
// hand-written encoder of every answer was tried and was slower (BENCHMARKS.md, "Reports").

type summaryAnswer struct {
	Status string `json:"status"`
	Summary
}

type adsAnswer struct {
	Status string  `json:"status"`
	Zone   string  `json:"zone"`
	Range  Range   `json:"range"`
	AdID   int64   `json:"ad_id,omitempty"`
	Sort   string  `json:"sort"`
	Limit  int     `json:"limit"`
	Ads    []AdRow `json:"ads"`
}

type adDailyAnswer struct {
	Status string `json:"status"`
	Zone   string `json:"zone"`
	Range  Range  `json:"range"`
	AdID   int64  `json:"ad_id"`
	Totals Totals `json:"totals"`
	Days   []Day  `json:"days"`
}

type pathsAnswer struct {
	Status string    `json:"status"`
	Zone   string    `json:"zone"`
	Prefix string    `json:"prefix"`
	Limit  int       `json:"limit"`
	Paths  []PathRow `json:"paths"`
}

type pathAnswer struct {
	Status string  `json:"status"`
	Zone   string  `json:"zone"`
	Path   PathRow `json:"path"`
}
