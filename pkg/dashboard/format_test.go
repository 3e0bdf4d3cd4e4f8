package dashboard

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func ptr(f float64) *float64 { return &f }

func TestFormatNumbers(t *testing.T) {
	for _, tt := range []struct{ got, want string }{
		{formatInt(0), "0"},
		{formatInt(999), "999"},
		{formatInt(1000), "1,000"},
		{formatInt(1234567), "1,234,567"},
		{formatInt(-1234), "−1,234"},
		{formatInt(math.MaxInt64), "9,223,372,036,854,775,807"},
		{formatInt(math.MinInt64), "−9,223,372,036,854,775,808"},
		{signedInt(5), "+5"},
		{signedInt(0), "0"},
		{signedInt(-5), "−5"},
		{formatFloat(1234.5, 1), "1,234.5"},
		{formatFloat(-0.04, 1), "0.0"}, // no "−0.0"
		{signedFloat(0.04, 1), "0.0"},  // nor "+0.0"
		{signedFloat(9.84, 1), "+9.8"},
		{signedFloat(-2.66, 1), "−2.7"},
		{formatCTR(nil), "–"},
		{formatCTR(ptr(0)), "0.00%"},
		{formatCTR(ptr(0.0253)), "2.53%"},
		{formatCTR(ptr(0.00001)), "<0.01%"},
		{formatCTR(ptr(1)), "100.00%"},
		{compact(0), "0"},
		{compact(5), "5"},
		{compact(750), "750"},
		{compact(2500), "2.5k"},
		{compact(12500), "12.5k"},
		{compact(1e6), "1M"},
		{compact(7.5e9), "7.5B"},
		{compact(2.5e12), "2.5T"},
		{compact(2.5e18), "2.5e18"},
	} {
		require.Equal(t, tt.want, tt.got)
	}
}

func TestCountChange(t *testing.T) {
	for _, tt := range []struct {
		name      string
		cur, prev int64
		want      change
	}{
		{"up", 1100, 1000, change{"up", "▲", "up", "+100 (+10.0%)"}},
		{"down", 900, 1000, change{"down", "▼", "down", "−100 (−10.0%)"}},
		{"same", 1000, 1000, change{"flat", "", "no change", "0 (0.0%)"}},
		{"new: nothing before", 1234, 0, change{"up", "▲", "up", "+1,234 (new)"}},
		{"nothing either way", 0, 0, change{"flat", "", "no change", "0 (–)"}},
		{"all gone", 0, 50, change{"down", "▼", "down", "−50 (−100.0%)"}},
		{"large", 5_000_000_000_000, 4_000_000_000_000, change{"up", "▲", "up", "+1,000,000,000,000 (+25.0%)"}},
		{"largest", math.MaxInt64, 0, change{"up", "▲", "up", "+9,223,372,036,854,775,807 (new)"}},
	} {
		t.Run(tt.name, func(t *testing.T) { require.Equal(t, tt.want, countChange(tt.cur, tt.prev)) })
	}
}

func TestRateChange(t *testing.T) {
	for _, tt := range []struct {
		name      string
		cur, prev *float64
		want      change
	}{
		{"up", ptr(0.03), ptr(0.02), change{"up", "▲", "up", "+1.00 pp (+50.0%)"}},
		{"down", ptr(0.0253), ptr(0.0285), change{"down", "▼", "down", "−0.32 pp (−11.2%)"}},
		{"same", ptr(0.02), ptr(0.02), change{"flat", "", "no change", "0.00 pp (0.0%)"}},
		{"new: no impressions before", ptr(0.02), nil, change{"up", "▲", "up", "new"}},
		{"no impressions now", nil, ptr(0.02), change{"flat", "", "", "–"}},
		{"none either way", nil, nil, change{"flat", "", "", "–"}},
		{"from a rate of zero", ptr(0.01), ptr(0), change{"up", "▲", "up", "+1.00 pp (new)"}},
		{"zero both", ptr(0), ptr(0), change{"flat", "", "no change", "0.00 pp (–)"}},
	} {
		t.Run(tt.name, func(t *testing.T) { require.Equal(t, tt.want, rateChange(tt.cur, tt.prev)) })
	}
}

func TestFillDays(t *testing.T) {
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	r := Range{From: day("2026-03-01"), To: day("2026-03-04")}
	got := fillDays(r, []Day{
		{Date: "2026-03-03", Totals: Totals{Impressions: 3}},
		{Date: "2026-02-28", Totals: Totals{Impressions: 99}}, // outside: left out
		{Date: "2026-03-01", Totals: Totals{Impressions: 1}},
	})
	require.Equal(t, []Day{
		{Date: "2026-03-01", Totals: Totals{Impressions: 1}},
		{Date: "2026-03-02"},
		{Date: "2026-03-03", Totals: Totals{Impressions: 3}},
		{Date: "2026-03-04"},
	}, got)
	require.Empty(t, fillDays(Range{From: day("2026-03-02"), To: day("2026-03-01")}, nil), "a backwards range has no days")
	// Across a change of daylight saving time: the dates are calendar dates, not 24-hour steps in a zone.
	require.Len(t, fillDays(Range{From: day("2026-03-01"), To: day("2026-03-31")}, nil), 31)
	require.Len(t, fillDays(Range{From: day("2025-03-31"), To: day("2026-03-31")}, nil), 366)
}
