package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

const wrkClean = `Running 2s test @ http://127.0.0.1:18204/
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.10ms    2.00ms  40.00ms   90.00%
    Req/Sec    30.00k     2.00k   35.00k    70.00%
  Latency Distribution
     50%  600.00us
     75%    1.00ms
     90%    2.00ms
     99%    7.61ms
  120000 requests in 2.00s, 8.00MB read
Requests/sec:  60012.34
Transfer/sec:      4.00MB
`

const wrkFailing = `Running 2s test @ http://127.0.0.1:18080/track/impression?ad_id=123
  2 threads and 64 connections
  Latency Distribution
     50%  600.00us
     99%  850.00us
  100 requests in 2.00s, 8.00MB read
  Socket errors: connect 1, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 42
Requests/sec:     50.00
Transfer/sec:      4.00MB
`

func TestParseWrk(t *testing.T) {
	tests := []struct {
		name string
		out  string
		want wrkRun
	}{
		{"clean", wrkClean, wrkRun{rps: 60012.34, p99ms: 7.61, requests: 120000}},
		{"failing", wrkFailing, wrkRun{rps: 50, p99ms: 0.85, requests: 100, non2xx: 42, sock: 6,
			flags: []string{"Socket errors: connect 1, read 2, write 0, timeout 3", "Non-2xx or 3xx responses: 42"}}},
		{"seconds", "  Latency Distribution\n     99%    1.20s\nRequests/sec:  1.00\n", wrkRun{rps: 1, p99ms: 1200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseWrk(tt.out)
			require.NoError(t, err)
			require.InDelta(t, tt.want.p99ms, got.p99ms, 1e-9)
			got.p99ms = tt.want.p99ms
			require.Equal(t, tt.want, got)
		})
	}
	_, err := parseWrk("unable to connect to 127.0.0.1:18080 Connection refused\n")
	require.Error(t, err)
}
