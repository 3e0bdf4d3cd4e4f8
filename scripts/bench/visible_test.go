package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestVisibleDelays(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	ms := func(xs ...int) []time.Duration {
		ds := []time.Duration{}
		for _, x := range xs {
			ds = append(ds, time.Duration(x)*time.Millisecond)
		}
		return ds
	}
	tests := []struct {
		name     string
		answered []time.Time
		samples  []sumSample
		want     []time.Duration
		unseen   int
	}{
		{"none", nil, []sumSample{{at(0), 0}}, ms(), 0},
		{"one commit counts all", []time.Time{at(10), at(20), at(30)},
			[]sumSample{{at(0), 0}, {at(100), 0}, {at(250), 3}}, ms(240, 230, 220), 0},
		{"the k-th answer waits for the sum to reach k", []time.Time{at(10), at(20), at(30)},
			[]sumSample{{at(50), 1}, {at(60), 1}, {at(300), 2}, {at(400), 3}}, ms(40, 280, 370), 0},
		{"answers are put in order first", []time.Time{at(30), at(10), at(20)},
			[]sumSample{{at(50), 1}, {at(300), 2}, {at(400), 3}}, ms(40, 280, 370), 0},
		{"a sum that jumps past k serves every answer up to it", []time.Time{at(0), at(1), at(2), at(3)},
			[]sumSample{{at(10), 3}, {at(20), 4}}, ms(10, 9, 8, 17), 0},
		{"answers no sample reached are unseen", []time.Time{at(10), at(20), at(30)},
			[]sumSample{{at(50), 1}}, ms(40), 2},
		{"no samples", []time.Time{at(10)}, nil, ms(), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, unseen := visibleDelays(tt.answered, tt.samples)
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.unseen, unseen)
		})
	}
}

func TestPercentile(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(100-i) * time.Millisecond // 100 ms .. 1 ms, unsorted
	}
	tests := []struct {
		name string
		ds   []time.Duration
		p    float64
		want time.Duration
	}{
		{"none", nil, 50, 0},
		{"one", []time.Duration{7}, 99, 7},
		{"p50 of 100", hundred, 50, 50 * time.Millisecond},
		{"p99 of 100", hundred, 99, 99 * time.Millisecond},
		{"max", hundred, 100, 100 * time.Millisecond},
		{"nearest rank rounds up", []time.Duration{1, 2, 3}, 50, 2},
		{"p99 of 3 is the largest", []time.Duration{3, 1, 2}, 99, 3},
		{"a tiny p is the smallest", []time.Duration{3, 1, 2}, 0.001, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, percentile(tt.ds, tt.p))
		})
	}
}
