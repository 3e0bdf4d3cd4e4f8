package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	reports "adly/pkg/report"
)

// The answer checks are what make a wrong report fail the run: each case changes one thing of a right answer.
func TestReportChecksFailOnWrongAnswers(t *testing.T) {
	daily := func(edit func(*[]reports.Day, *reports.Totals)) []byte {
		var days []reports.Day
		var imp, clk int64
		for d := int64(0); d < reportDays; d++ {
			i, c := reportImpressions(reportAd, d), reportClicks(reportAd, d)
			imp, clk = imp+i, clk+c
			days = append(days, reports.Day{Date: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(d)).Format("2006-01-02"),
				Totals: reports.NewTotals(i, c)})
		}
		totals := reports.NewTotals(imp, clk)
		if edit != nil {
			edit(&days, &totals)
		}
		b, err := json.Marshal(map[string]any{"zone": "UTC", "totals": totals, "days": days})
		require.NoError(t, err)
		return b
	}
	require.NoError(t, checkDaily(daily(nil)))
	require.ErrorContains(t, checkDaily(daily(func(d *[]reports.Day, _ *reports.Totals) { (*d)[10].Clicks++ })), "2025-01-11 holds")
	require.ErrorContains(t, checkDaily(daily(func(d *[]reports.Day, _ *reports.Totals) { *d = (*d)[1:] })), "364 days")
	require.ErrorContains(t, checkDaily(daily(func(_ *[]reports.Day, t *reports.Totals) { t.Impressions-- })), "one ad's totals")

	paths := func(hits ...int64) []byte {
		rows := make([]reports.PathRow, 100)
		for i := range rows {
			rows[i] = reports.PathRow{Path: pathOf(i + 1), Hits: 100000 - int64(i)}
		}
		for i, h := range hits {
			rows[i].Hits = h
		}
		b, err := json.Marshal(map[string]any{"paths": rows})
		require.NoError(t, err)
		return b
	}
	require.NoError(t, checkPaths(paths()))
	require.ErrorContains(t, checkPaths(paths(99999)), "the first has 99999 hits")
	require.ErrorContains(t, checkPaths(paths(100000, 99990, 99995)), "row 2 is out of order")
}

func TestReportEnv(t *testing.T) {
	for _, tt := range []struct {
		env map[string]string
		err string
	}{
		{nil, ""},
		{map[string]string{"REQUESTS": "5"}, "REQUESTS must be between 10 and 100000"},
		{map[string]string{"BENCH_REPORT_ADDR": "10.0.0.1:8090"}, "BENCH_REPORT_ADDR=10.0.0.1:8090: the benchmark runs on loopback only"},
		{map[string]string{"DB_HOST": "db.example"}, "DB_HOST=db.example: the benchmark runs on loopback only"},
		{map[string]string{"ROUNDS": "0"}, "ROUNDS must be a positive integer"},
	} {
		t.Run(tt.err, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			_, err := newReport()
			if tt.err == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.err)
		})
	}
}
