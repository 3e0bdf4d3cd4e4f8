package main

import (
	"math"
	"slices"
	"time"
)

// sumSample is SUM(impressions) as one poll read it, at the time the read returned: the commits it saw were
// made by then, so a delay measured from it is at most one poll interval and one read too long.
type sumSample struct {
	at  time.Time
	sum int64
}

// visibleDelays is, for the k-th answered event in answer order, the time from its answer to the first
// sample whose sum reached k: the order in which events become visible is not the order in which they were
// answered, but the k-th answer cannot be said to be counted before k events are. answered is sorted here;
// samples must be in time order with sums that never decrease (the sum of one run's counts only grows).
// unseen is how many answers no sample reached.
func visibleDelays(answered []time.Time, samples []sumSample) (delays []time.Duration, unseen int) {
	answered = slices.Clone(answered)
	slices.SortFunc(answered, func(a, b time.Time) int { return a.Compare(b) })
	delays = make([]time.Duration, 0, len(answered))
	s := 0
	for k := 1; k <= len(answered); k++ {
		for s < len(samples) && samples[s].sum < int64(k) {
			s++
		}
		if s == len(samples) {
			return delays, len(answered) - k + 1
		}
		delays = append(delays, samples[s].at.Sub(answered[k-1]))
	}
	return delays, 0
}

// percentile is the nearest-rank p-th percentile (0 < p <= 100) of the durations, 0 for none.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(ds))
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}
