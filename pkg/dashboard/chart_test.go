package dashboard

import (
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// days makes n consecutive days from first, each with the figures f gives its index.
func days(first string, n int, f func(i int) (imp, clk int64)) []Day {
	start, err := time.Parse(time.DateOnly, first)
	if err != nil {
		panic(err)
	}
	out := make([]Day, n)
	for i := range out {
		imp, clk := f(i)
		t := Totals{Impressions: imp, Clicks: clk}
		if imp > 0 {
			t.CTR = ptr(float64(clk) / float64(imp))
		}
		out[i] = Day{Date: start.AddDate(0, 0, i).Format(time.DateOnly), Totals: t}
	}
	return out
}

// The exact bytes for a small input: any change to the drawing shows up here as a diff to review (and to
// accept with go test ./pkg/dashboard/ -run TestChartGolden -update).
func TestChartGolden(t *testing.T) {
	in := []Day{
		{Date: "2026-03-01", Totals: Totals{Impressions: 1200, Clicks: 30, CTR: ptr(0.025)}},
		{Date: "2026-03-02", Totals: Totals{Impressions: 3400, Clicks: 51, CTR: ptr(0.015)}},
		{Date: "2026-03-03", Totals: Totals{Impressions: 0, Clicks: 0}},
	}
	for _, l := range []chartLayout{wideChart, narrowChart} {
		t.Run(l.ID, func(t *testing.T) {
			got := string(renderChart(in, l)) + "\n"
			golden := filepath.Join("testdata", l.ID+"-3-days.svg")
			if *update {
				require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test -run TestChartGolden -update to write it")
			require.Equal(t, string(want), got)
		})
	}
}

func TestChart(t *testing.T) {
	for _, tt := range []struct {
		name   string
		days   []Day
		layout chartLayout
		want   []string // substrings
		counts map[string]int
		absent []string
	}{
		{
			name: "empty", days: nil, layout: wideChart,
			want:   []string{"No data for this range", "no days to show"},
			counts: map[string]int{"<polyline": 0, "<circle": 0, "<title>": 0},
		},
		{
			name: "zero series", days: days("2026-03-01", 7, func(int) (int64, int64) { return 0, 0 }), layout: wideChart,
			// Both axes still run from 0 in four whole steps; both lines lie on the baseline.
			want: []string{`>0</text>`, `>4</text>`, `Mon 2026-03-02: 0 impressions, 0 clicks, CTR –`,
				`points="123.4,306 242.3,306`},
			counts: map[string]int{"<polyline": 2, "<circle": 7, "<title>": 7},
		},
		{
			name: "one day", days: days("2026-03-01", 1, func(int) (int64, int64) { return 500, 7 }), layout: wideChart,
			// No line through one point: a marker for each series, centred, and its hover band.
			want:   []string{`<circle cx="480"`, `Sun 2026-03-01: 500 impressions, 7 clicks, CTR 1.40%`, `>Mar 1</text>`},
			counts: map[string]int{"<polyline": 0, "<circle": 1, "<title>": 1},
		},
		{
			name: "7 days on a phone", layout: narrowChart,
			days: days("2026-03-24", 7, func(i int) (int64, int64) { return int64(1000 + i), int64(i) }),
			// Every second day gets a label at this width.
			want:   []string{`>Mar 24</text>`, `>Mar 26</text>`, `>Mar 28</text>`, `>Mar 30</text>`},
			absent: []string{`>Mar 25</text>`},
		},
		{
			name: "366 days", layout: wideChart,
			days: days("2025-03-31", 366, func(i int) (int64, int64) { return int64(40000 + i*10), int64(800 + i%7) }),
			// Monthly labels, the year on the first and on January; no markers, one hover band a day.
			want: []string{`>Apr 2025</text>`, `>May</text>`, `>Dec</text>`, `>Jan 2026</text>`, `>Mar</text>`,
				`Tue 2026-03-31: 43,650 impressions, 801 clicks, CTR 1.84%`},
			counts: map[string]int{"<polyline": 2, "<circle": 0, "<title>": 366},
			absent: []string{`>Mar 31</text>`},
		},
		{
			name: "366 days on a phone", layout: narrowChart,
			days: days("2025-03-31", 366, func(i int) (int64, int64) { return int64(40000 + i*10), int64(800 + i%7) }),
			// Three-monthly labels.
			want:   []string{`>Apr 2025</text>`, `>Jul</text>`, `>Oct</text>`, `>Jan 2026</text>`},
			absent: []string{`>May</text>`},
			counts: map[string]int{"<title>": 366},
		},
		{
			name: "large numbers", layout: wideChart,
			days: days("2026-03-01", 3, func(i int) (int64, int64) {
				return math.MaxInt64 - int64(i), math.MaxInt64 / 3
			}),
			want: []string{`>1e19</text>`, `>2.5e18</text>`, `>5e18</text>`, `>4e18</text>`,
				`9,223,372,036,854,775,807 impressions, 3,074,457,345,618,258,602 clicks`},
		},
		{
			name: "clicks on their own scale", layout: wideChart,
			days: days("2026-03-01", 2, func(i int) (int64, int64) { return 1_000_000, 9 }),
			// Impressions reach 1M of 1M (step 250k); clicks 9 of 12 (step 3 is not nice: 5, so 20) — each line
			// has its own height.
			want: []string{`>250k</text>`, `>1M</text>`, `>5</text>`, `>20</text>`, `>Impressions</text>`, `>Clicks</text>`},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := string(renderChart(tt.days, tt.layout))
			require.Equal(t, got, string(renderChart(tt.days, tt.layout)), "deterministic")
			requireWellFormed(t, got)
			require.NotContains(t, got, "NaN")
			require.NotContains(t, got, "Inf")
			require.Contains(t, got, `role="img" aria-labelledby="`+tt.layout.ID+`-title `+tt.layout.ID+`-desc"`)
			for _, s := range tt.want {
				require.Contains(t, got, s)
			}
			for _, s := range tt.absent {
				require.NotContains(t, got, s)
			}
			for s, n := range tt.counts {
				require.Equal(t, n, strings.Count(got, s), "count of %s", s)
			}
			requireInside(t, got, tt.layout)
		})
	}
}

// requireWellFormed parses the SVG as XML: every element closed, every attribute quoted.
func requireWellFormed(t *testing.T, svg string) {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(svg))
	for {
		_, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return
		}
		require.NoError(t, err)
	}
}

var coord = regexp.MustCompile(` (x|x1|x2|cx|y|y1|y2|cy)="(-?[0-9.]+)"`)

// requireInside checks that every coordinate lies within the view box.
func requireInside(t *testing.T, svg string, l chartLayout) {
	t.Helper()
	for _, m := range coord.FindAllStringSubmatch(svg, -1) {
		v, err := strconv.ParseFloat(m[2], 64)
		require.NoError(t, err)
		limit := l.Width
		if strings.Contains(m[1], "y") {
			limit = l.Height
		}
		require.True(t, v >= 0 && v <= limit, "%s=%s outside the view box", m[1], m[2])
	}
}

func TestNiceStep(t *testing.T) {
	for _, tt := range []struct{ max, want float64 }{
		{0, 1}, {1, 1}, {4, 1}, {5, 2}, {9, 5}, {20, 5}, {21, 10}, {100, 25}, {101, 50},
		{1234, 500}, {80000, 20000}, {80001, 25000}, {1e6, 250000}, {9.2e18, 2.5e18},
	} {
		require.Equal(t, tt.want, niceStep(tt.max), "max %v", tt.max)
		require.GreaterOrEqual(t, tt.want*gridSteps, tt.max, "the axis holds the largest value")
	}
}

func TestDayTicks(t *testing.T) {
	labels := func(n int, l chartLayout) []string {
		d := days("2026-01-01", n, func(int) (int64, int64) { return 0, 0 })
		var out []string
		for _, tk := range dayTicks(d, (l.Width-l.Left-l.Right)/float64(n), l.FontSize) {
			out = append(out, tk.label)
		}
		return out
	}
	require.Equal(t, []string{"Jan 1", "Jan 2", "Jan 3", "Jan 4", "Jan 5", "Jan 6", "Jan 7"}, labels(7, wideChart))
	require.Equal(t, []string{"Jan 1", "Jan 3", "Jan 5", "Jan 7"}, labels(7, narrowChart))
	// 30 days: weekly, on Mondays (2026-01-05 is one).
	require.Equal(t, []string{"Jan 5", "Jan 12", "Jan 19", "Jan 26"}, labels(30, wideChart))
	require.Equal(t, []string{"Jan 5", "Jan 12", "Jan 19", "Jan 26"}, labels(30, narrowChart))
	require.Equal(t, []string{"Jan 5", "Jan 12", "Jan 19", "Jan 26", "Feb 2", "Feb 9", "Feb 16", "Feb 23", "Mar 2",
		"Mar 9", "Mar 16", "Mar 23", "Mar 30"}, labels(90, wideChart))
	require.Equal(t, []string{"Jan 2026", "Feb", "Mar"}, labels(90, narrowChart))
	require.Len(t, labels(366, wideChart), 13) // every first of a month, January 2026 to January 2027
	require.Equal(t, []string{"Jan 2026", "Apr", "Jul", "Oct", "Jan 2027"}, labels(366, narrowChart))
	// Not dates: labelled as given, spaced by their length.
	d := []Day{{Date: "a"}, {Date: "b"}, {Date: "c"}}
	require.Equal(t, []tick{{0, "a"}, {1, "b"}, {2, "c"}}, dayTicks(d, 100, 12))
}
