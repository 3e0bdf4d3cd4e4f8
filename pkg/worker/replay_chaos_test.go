package worker

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"adly/pkg/event"
	"adly/pkg/stream"
)

// Replays run again and again, from random dates, while the real worker binaries are SIGKILLed and restarted
// and events keep flowing: at the end every (ad_id, date) count is exact. Every batch waits 15 ms between
// COMMIT and XACK, so kills and replays often land in that window (a replay there voids the batch's ledger
// rows and moves the group back while the batch is still pending). Filtered traffic flows too, and every
// (ad_id, date, reason) count of it is exact as well: the replays clear and recount it with the rest.
func TestReplayChaosExactCounts(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test")
	}
	e := newEnv(t)
	pub := e.publisher(t)
	const total, perCall, ads = 100_000, 1000, 300
	dates := []string{"2026-11-19", "2026-11-20", "2026-11-21"}
	want, wantFiltered := map[key]int64{}, map[fkey]int64{}

	workers := e.newCrew(t, 3, "ADLY_FAULT=pause_after_commit:15ms", "TRIM_INTERVAL=200ms")

	publishDone := make(chan struct{})
	go func() {
		defer close(publishDone)
		rng := rand.New(rand.NewPCG(5, 6))
		for sent := 0; sent < total; sent += perCall {
			day, _ := time.Parse(time.DateOnly, dates[(sent/perCall)%3])
			ts := day.Unix() + rng.Int64N(86400)
			events := make([]event.Event, perCall-filteredPerCall)
			for i := range events {
				events[i] = event.Event{Type: event.Impression, AdID: rng.Int64N(ads) + 1}
				want[key{events[i].AdID, DateOf(ts, time.UTC)}]++
			}
			if _, err := pub.Publish(context.Background(), events, ts); err != nil {
				t.Errorf("publish: %v", err)
				return
			}
			if err := e.publishFiltered(rng, filteredPerCall, filteredAds, ts, wantFiltered); err != nil {
				t.Errorf("publish filtered: %v", err)
				return
			}
			time.Sleep(40 * time.Millisecond) // spread the load over the seconds of chaos, not a gate
		}
	}()

	ctx := context.Background()
	replays := 0
	rng := rand.New(rand.NewPCG(7, 8))
	nextKill := time.Now()
	chaosUntil := time.Now().Add(8 * time.Second)
	// At least 8 s of chaos, and at least 10 replays and 5 SIGKILLs however slow the machine is.
	for time.Now().Before(chaosUntil) || replays < 10 || workers.kills < 5 {
		time.Sleep(time.Duration(200+rng.IntN(300)) * time.Millisecond) // a random moment to replay at, not a gate
		from := dates[rng.IntN(len(dates))]
		_, err := Replay(ctx, e.group, e.counter, from, time.UTC)
		require.NoError(t, err, "replay from %s", from)
		replays++
		if time.Now().Before(nextKill) {
			continue
		}
		nextKill = time.Now().Add(time.Duration(150+rng.IntN(450)) * time.Millisecond)
		workers.killOne(t, rng)
	}
	<-publishDone
	e.drained(t, 45*time.Second)
	workers.stop()
	var sum int64
	for _, n := range e.counts(t) {
		sum += n
	}
	for _, n := range e.filteredCounts(t) {
		sum += n
	}
	dead := e.client.XLen(ctx, stream.DeadLetterStream(e.group.Stream())).Val()
	t.Logf("counted %d of %d events; %d dead letters; %d replays, %d SIGKILLs", sum, total, dead, replays, workers.kills)
	requireCounts(t, want, e.counts(t))
	requireCounts(t, wantFiltered, e.filteredCounts(t))
	t.Logf("%d events (%d filtered), %d replays, %d SIGKILLs, %d (ad_id, date) and %d (ad_id, date, reason) keys: exact",
		total, total/perCall*filteredPerCall, replays, workers.kills, len(want), len(wantFiltered))
}
