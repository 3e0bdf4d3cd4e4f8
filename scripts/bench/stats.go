package main

import (
	"math"
	"slices"
)

// median of the values, 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}

// ratio is a/b, 0 when b is not positive.
func ratio(a, b float64) float64 {
	if b > 0 {
		return a / b
	}
	return 0
}

// medianRatio is the median over rounds of xs[r]/base[r], the ratio of each round to the ceiling measured
// in the same round: drift on the machine between rounds cancels out of it.
func medianRatio(xs, base []float64) float64 {
	var rs []float64
	for r := range min(len(xs), len(base)) {
		if base[r] > 0 {
			rs = append(rs, xs[r]/base[r])
		}
	}
	return median(rs)
}

// met is how a report says whether a target was reached.
func met(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

// round3 and round1 round as the reports print: %.3f and %.1f.
func round3(x float64) float64 { return math.Round(x*1000) / 1000 }
func round1(x float64) float64 { return math.Round(x*10) / 10 }
