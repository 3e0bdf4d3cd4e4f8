package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDurationSecs(t *testing.T) {
	tests := []struct {
		in   string
		want int // 0: rejected
	}{
		{"10", 10}, {"10s", 10}, {"2m", 120}, {"1h", 3600}, {"0s", 0}, {"", 0}, {"5x", 0}, {"1.5s", 0}, {"-1s", 0},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := durationSecs(tt.in)
			if tt.want == 0 {
				require.ErrorContains(t, err, "DURATION")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestLoopbackAddr(t *testing.T) {
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:18080", true}, {"127.1.2.3:1", true}, {"localhost:80", true}, {"[::1]:80", true},
		{"10.0.0.1:80", false}, {"example.com:80", false}, {":80", false}, {"127.0.0.1", false}, {"127.0.0.1:x", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			err := loopbackAddr("BENCH_HTTP_ADDR", tt.addr)
			if tt.ok {
				require.NoError(t, err)
			} else {
				require.ErrorContains(t, err, "BENCH_HTTP_ADDR="+tt.addr)
			}
		})
	}
}

func TestSettingsFromTheEnvironment(t *testing.T) {
	tests := []struct {
		name    string
		mode    string
		env     map[string]string
		wantErr string
	}{
		{"api defaults", "api", nil, ""},
		{"worker defaults", "worker", nil, ""},
		{"syncer defaults", "syncer", nil, ""},
		{"rounds", "worker", map[string]string{"ROUNDS": "0"}, "ROUNDS must be a positive integer"},
		{"entries", "worker", map[string]string{"ENTRIES": "100000001"}, "ENTRIES must be an integer between 1 and"},
		{"paths", "syncer", map[string]string{"PATHS": "0"}, "PATHS must be an integer between 1 and"},
		{"chunk", "syncer", map[string]string{"SYNC_CHUNK_PATHS": "100001"}, "SYNC_CHUNK_PATHS must be an integer"},
		{"gomaxprocs", "api", map[string]string{"GOMAXPROCS": "x"}, "GOMAXPROCS must be a positive integer"},
		{"remote redis", "syncer", map[string]string{"REDIS_HOST": "10.1.1.1"}, "REDIS_HOST=10.1.1.1: the benchmark runs on loopback only"},
		{"remote mariadb", "worker", map[string]string{"DB_HOST": "db.example"}, "DB_HOST=db.example: the benchmark runs on loopback only"},
		{"cluster", "api", map[string]string{"REDIS_CLUSTER_ADDRS": "127.0.0.1:7000"}, "unset REDIS_CLUSTER_ADDRS"},
		{"duration", "api", map[string]string{"DURATION": "1d"}, "DURATION must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			m, err := modes[tt.mode]()
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Contains(t, m.plan(), "mode "+tt.mode+":")
		})
	}
}

func TestDefaultChunkPathsComesFromPathSyncer(t *testing.T) {
	require.Regexp(t, `^[1-9][0-9]*$`, defaultChunkPaths())
}
