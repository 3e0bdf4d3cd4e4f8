package ingest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"adly/pkg/config"
)

// REDIS_WAIT_REPLICAS and REDIS_WAIT_TIMEOUT: WAIT must end before the request's deadline, so with replicas
// to wait for its timeout is at most half of REDIS_WRITE_TIMEOUT; a timeout of 0 (WAIT forever) is never
// sent.
func TestConfigWait(t *testing.T) {
	tests := []struct {
		replicas       int
		timeout, write time.Duration
		wantErr        string
	}{
		{replicas: 0, timeout: 100 * time.Millisecond, write: 500 * time.Millisecond},
		{replicas: 0, timeout: 100 * time.Millisecond, write: 50 * time.Millisecond}, // no WAIT: no bound
		{replicas: 1, timeout: 250 * time.Millisecond, write: 500 * time.Millisecond},
		{replicas: 1, timeout: 251 * time.Millisecond, write: 500 * time.Millisecond, wantErr: "REDIS_WAIT_TIMEOUT must be a whole number of milliseconds from 1ms to half of REDIS_WRITE_TIMEOUT (250ms), got 251ms"},
		{replicas: 2, timeout: 0, write: 500 * time.Millisecond, wantErr: "REDIS_WAIT_TIMEOUT"},
		{replicas: 1, timeout: 1500 * time.Microsecond, write: 500 * time.Millisecond, wantErr: "REDIS_WAIT_TIMEOUT"},
		{replicas: -1, timeout: 100 * time.Millisecond, write: 500 * time.Millisecond, wantErr: "REDIS_WAIT_REPLICAS must be between 0 (no WAIT) and 16"},
		{replicas: 17, timeout: 100 * time.Millisecond, write: 500 * time.Millisecond, wantErr: "REDIS_WAIT_REPLICAS"},
	}
	for _, tt := range tests {
		var cfg Config
		require.NoError(t, config.Load(&cfg))
		cfg.WaitReplicas, cfg.WaitTimeout, cfg.WriteTimeout = tt.replicas, tt.timeout, tt.write
		err := cfg.Validate()
		if tt.wantErr == "" {
			require.NoError(t, err, "%+v", tt)
		} else {
			require.ErrorContains(t, err, tt.wantErr, "%+v", tt)
		}
	}
}
