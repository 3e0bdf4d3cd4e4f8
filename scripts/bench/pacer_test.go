package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPacerSchedule(t *testing.T) {
	t0 := time.Unix(1000, 0)
	tests := []struct {
		name  string
		rate  int
		d     time.Duration
		total int64
		due   map[int64]time.Duration // event -> offset from the start
	}{
		{"5000/s for 30s", 5000, 30 * time.Second, 150000,
			map[int64]time.Duration{0: 0, 1: 200 * time.Microsecond, 5000: time.Second, 149999: 30*time.Second - 200*time.Microsecond}},
		{"3/s spreads a second evenly", 3, time.Second, 3,
			map[int64]time.Duration{0: 0, 1: 333333333, 2: 666666666}},
		{"a part second rounds down", 10, 1500 * time.Millisecond, 15,
			map[int64]time.Duration{14: 1400 * time.Millisecond}},
		{"no drift over a long run", 7000, time.Hour, 25200000,
			map[int64]time.Duration{25199999: time.Hour - 142858}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPacer(t0, tt.rate, tt.d)
			require.Equal(t, tt.total, p.total)
			for i, off := range tt.due {
				require.Equal(t, t0.Add(off), p.due(i), "event %d", i)
			}
		})
	}
}

func TestDriveHoldsTheRateAndCountsAnswers(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("ad_id")
		mu.Lock()
		seen[id]++
		mu.Unlock()
		if id == "7" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		time.Sleep(5 * time.Millisecond) // slower than the interval: only concurrency holds the rate
	}))
	defer srv.Close()

	start := time.Now()
	p := newPacer(start, 400, 500*time.Millisecond)
	res := drive(context.Background(), p, 16, func(i int64) string { return srv.URL + "/?ad_id=" + strconv.FormatInt(i%10, 10) })
	elapsed := time.Since(start)

	require.Len(t, res.answered, 180, "every event but ad_id 7's answered 200")
	require.Equal(t, 20, res.failed)
	require.Len(t, seen, 10)
	for id, n := range seen {
		require.Equal(t, 20, n, "ad_id %s", id)
	}
	// The last event is due at 497.5 ms: sent on schedule, not all at once and not much later.
	require.GreaterOrEqual(t, elapsed, 497*time.Millisecond)
	require.Less(t, elapsed, 2*time.Second)
	require.IsNonDecreasing(t, res.answered)
	require.False(t, res.answered[0].Before(start))
}
