package publish

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"adly/pkg/event"
	"adly/pkg/testkit"
)

// Requests that share one flush (one script call) are answered each on its own: a repeated event_id is
// stored once, and a request over the new-path budget is refused without its neighbours. The flush is
// made here by hand, so that the requests surely share it.
func TestFlushAnswersEachRequest(t *testing.T) {
	imp := func(ad int64, id string) event.Event { return event.Event{Type: event.Impression, AdID: ad, ID: id} }
	hit := func(path string) event.Event { return event.Event{Type: event.Hit, Path: path} }
	const x, y = "0b7c6e0e-3f5d-4d6b-9a51-6f1f1b3f6a10", "AbCdEfGhIjKlMnOp"
	type want struct {
		refused bool
		sameAs  int // the index of an earlier request whose first stream ID this one's first answers; -1 none
	}
	tests := []struct {
		name     string
		limit    int
		requests [][]event.Event
		want     []want
		entries  int64
		paths    []string // the hit counters that exist at the end
	}{
		{name: "one event_id in two requests", requests: [][]event.Event{{imp(1, x)}, {imp(1, x)}, {imp(2, y)}},
			want: []want{{sameAs: -1}, {sameAs: 0}, {sameAs: -1}}, entries: 2},
		{name: "the request over the budget, alone", limit: 1,
			requests: [][]event.Event{{hit("/x1"), hit("/x2")}, {imp(5, "")}, {hit("/x3")}, {hit("/x4")}, {imp(6, ""), hit("/x3")}},
			want:     []want{{refused: true, sameAs: -1}, {sameAs: -1}, {sameAs: -1}, {refused: true, sameAs: -1}, {sameAs: -1}},
			entries:  2, paths: []string{"/x3"}},
		{name: "a refused request's event_id is not remembered", limit: 1,
			requests: [][]event.Event{{imp(1, x), hit("/y1"), hit("/y2")}, {imp(1, x), hit("/y3")}, {imp(1, x), hit("/y3")}},
			want:     []want{{refused: true, sameAs: -1}, {sameAs: -1}, {sameAs: 1}},
			entries:  1, paths: []string{"/y3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, names := testkit.Redis(t)
			p := NewPublisher(client, names, zaptest.NewLogger(t), NewPublisherMetrics(prometheus.NewRegistry()),
				PublisherOptions{NewPathsPerMinute: tt.limit})
			batch := make([]*pending, len(tt.requests))
			for i, evs := range tt.requests {
				pd, err := p.newPending(evs, 1)
				require.NoError(t, err)
				batch[i] = pd
			}
			p.flush(batch)
			for i, pd := range batch {
				<-pd.done
				if tt.want[i].refused {
					require.ErrorIs(t, pd.err, ErrTooManyNewPaths, "request %d", i)
					require.Nil(t, pd.ids)
					continue
				}
				require.NoError(t, pd.err, "request %d", i)
				if tt.requests[i][0].Type != event.Hit {
					require.NotEmpty(t, pd.ids[0])
				}
				if j := tt.want[i].sameAs; j >= 0 {
					require.Equal(t, batch[j].ids[0], pd.ids[0], "request %d answers request %d's stream ID", i, j)
				}
			}
			require.Equal(t, tt.entries, client.XLen(t.Context(), names.ImpressionsStream()).Val())
			var paths []string
			for _, k := range testkit.RedisKeys(t, client, names.HitKey("")) {
				path, _ := names.PathOfHitKey(k)
				paths = append(paths, path)
			}
			require.ElementsMatch(t, tt.paths, paths)
		})
	}
}
