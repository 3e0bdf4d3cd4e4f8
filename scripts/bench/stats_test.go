package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMedianAndRatios(t *testing.T) {
	tests := []struct {
		name      string
		xs, base  []float64
		median    float64
		perRounds float64
	}{
		{"none", nil, nil, 0, 0},
		{"one", []float64{5}, []float64{10}, 5, 0.5},
		{"odd", []float64{3, 1, 2}, []float64{4, 4, 4}, 2, 0.5},
		{"even", []float64{4, 1, 3, 2}, []float64{8, 2, 6, 4}, 2.5, 0.5},
		{"a round without a ceiling is left out", []float64{1, 2, 3}, []float64{2, 0, 6}, 2, 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.InDelta(t, tt.median, median(tt.xs), 1e-9)
			require.InDelta(t, tt.perRounds, medianRatio(tt.xs, tt.base), 1e-9)
		})
	}
	require.Zero(t, ratio(1, 0))
	require.InDelta(t, 0.25, ratio(1, 4), 1e-9)
}

func TestReportShape(t *testing.T) {
	var out bytes.Buffer
	report{
		title: "adly x benchmark", command: "ROUNDS=1 scripts/bench.sh x", software: []string{"Redis 7", "wrk 4"},
		load: "some load", header: []string{"Run", "x/s", "target"}, align: []string{"---", "--:", "---"},
		rows: [][]string{{"ceiling", "10", ""}, {"thing", "5", "met"}}, footer: "Footer.\n",
	}.write(&out)
	lines := strings.Split(out.String(), "\n")
	require.Equal(t, []string{"", "----- Markdown -----", "### adly x benchmark", "", "- Command: `ROUNDS=1 scripts/bench.sh x`"}, lines[:5])
	require.True(t, strings.HasPrefix(lines[5], "- Date: "))
	require.True(t, strings.HasPrefix(lines[6], "- Commit: "))
	require.Regexp(t, `^- Machine: [0-9]+ CPUs \(nproc\), .+, .+ RAM, kernel .+$`, lines[7])
	require.Regexp(t, `^- Software: go[0-9.]+.*, Redis 7, wrk 4$`, lines[8])
	require.Equal(t, []string{
		"- Load: some load", "", "| Run | x/s | target |", "|---|--:|---|", "| ceiling | 10 | |", "| thing | 5 | met |", "",
		"Footer.", "----- end -----", "",
	}, lines[9:])
}
