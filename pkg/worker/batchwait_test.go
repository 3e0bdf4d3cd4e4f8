package worker

import (
	"adly/pkg/testkit"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// At a moderate rate a worker commits about once per BATCH_WAIT, not once per arrival; counts stay exact.
// Events arrive in 100 small groups, 20 ms apart (about 1,000 a second for 2 s): counting every read at once
// makes about one commit per group, BATCH_WAIT of 300 ms at most one per 300 ms (plus the first and last).
func TestBatchWaitBoundsCommitsAtModerateRates(t *testing.T) {
	for _, tt := range []struct {
		name       string
		wait       time.Duration
		minBatches float64
		maxBatches float64
	}{
		{"every read at once", 0, 10, 1e9},
		{"batch wait", 300 * time.Millisecond, 1, 2000/300 + 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			opts := testOptions("a")
			opts.BatchWait = tt.wait
			_, reg := e.start(t, opts)
			want := map[key]int64{}
			events := threeDays(2000, 7)
			start := time.Now()
			for i := 0; i < len(events); i += 20 {
				for k, n := range e.publish(t, events[i:i+20], time.UTC) {
					want[k] += n
				}
				time.Sleep(time.Until(start.Add(time.Duration(i/20+1) * 20 * time.Millisecond))) // the arrival rate
			}
			e.drained(t, 10*time.Second)
			requireCounts(t, want, e.counts(t))
			batches := testkit.Metric(t, reg, "adly_worker_batches_total")
			t.Logf("%d events in %s: %.0f commits", len(events), time.Since(start).Round(time.Millisecond), batches)
			require.GreaterOrEqual(t, batches, tt.minBatches)
			require.LessOrEqual(t, batches, tt.maxBatches)
		})
	}
}
