package main

import (
	"context"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// pacer is the schedule of a fixed-rate load: event i is due at start + i/rate, whoever sends it. Sending
// by schedule rather than by a delay after each answer keeps the rate when answers slow down (as long as
// senders are free), and a late sender catches up at once instead of shifting every later event.
type pacer struct {
	start time.Time
	rate  int   // events per second
	total int64 // events in the run
}

func newPacer(start time.Time, rate int, d time.Duration) pacer {
	return pacer{start: start, rate: rate, total: int64(rate) * int64(d) / int64(time.Second)}
}

// due is when event i (from 0) is to be sent.
func (p pacer) due(i int64) time.Time {
	return p.start.Add(time.Duration(i * int64(time.Second) / int64(p.rate)))
}

// driveResult is what a fixed-rate run saw: the answer time of every 200, and what went wrong otherwise.
type driveResult struct {
	answered []time.Time   // of each 200, in no order
	failed   int           // answers other than 200, and requests without an answer
	maxLate  time.Duration // the latest any event was sent after it was due
}

// drive sends p.total GETs of url(i) on p's schedule from conc senders. A sender takes the next event,
// waits until it is due and sends it; when every sender is busy, events go out late, and maxLate says by
// how much at worst.
func drive(ctx context.Context, p pacer, conc int, url func(i int64) string) driveResult {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		MaxIdleConns: conc, MaxIdleConnsPerHost: conc, IdleConnTimeout: time.Minute,
	}}
	defer client.CloseIdleConnections()
	var next atomic.Int64
	var mu sync.Mutex
	var res driveResult
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Time
			var failed int
			var late time.Duration
			for {
				i := next.Add(1) - 1
				if i >= p.total || ctx.Err() != nil {
					break
				}
				due := p.due(i)
				if wait := time.Until(due); wait > 0 {
					time.Sleep(wait)
				} else {
					late = max(late, -wait)
				}
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, url(i), nil)
				if err != nil {
					failed++
					continue
				}
				req.Header.Set("User-Agent", browserUA)
				resp, err := client.Do(req)
				if err != nil {
					failed++
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					failed++
					continue
				}
				mine = append(mine, time.Now())
			}
			mu.Lock()
			res.answered = append(res.answered, mine...)
			res.failed += failed
			res.maxLate = max(res.maxLate, late)
			mu.Unlock()
		}()
	}
	wg.Wait()
	slices.SortFunc(res.answered, func(a, b time.Time) int { return a.Compare(b) })
	return res
}
