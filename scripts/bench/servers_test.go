package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestScrapeMetric(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `# HELP adly_api_events_total Events stored in Redis, by type.
# TYPE adly_api_events_total counter
adly_api_events_total{type="click"} 3
adly_api_events_total{type="impression"} 150000
adly_worker_batches_total{group="impression_workers",stream="bench:1:impressions_stream"} 147
go_sched_gomaxprocs_threads 2
`)
	}))
	defer srv.Close()
	tests := []struct {
		series string
		want   float64
		err    bool
	}{
		{`adly_api_events_total{type="impression"}`, 150000, false},
		{`adly_api_events_total{type="click"}`, 3, false},
		{"adly_worker_batches_total", 147, false},
		{"go_sched_gomaxprocs_threads", 2, false},
		{`adly_api_events_total{type="hit"}`, 0, true},
		{"adly_worker_batches", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.series, func(t *testing.T) {
			got, err := scrapeMetric(srv.URL, tt.series)
			if tt.err {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}
