package worker

import (
	"testing"

	"github.com/stretchr/testify/require"

	"adly/pkg/config"
)

// BATCH_WAIT must stay inside the time an entry may be held (SHUTDOWN_TIMEOUT); a bad value is refused with
// the variable's name.
func TestConfigBatchWait(t *testing.T) {
	for _, tt := range []struct {
		wait, shutdown string
		ok             bool
	}{
		{"250ms", "30s", true},
		{"0", "30s", true},
		{"-1ms", "30s", false},
		{"11s", "30s", false},
		{"1s", "1s", false},
		{"soon", "30s", false},
	} {
		t.Run(tt.wait+"/"+tt.shutdown, func(t *testing.T) {
			t.Setenv("BATCH_WAIT", tt.wait)
			t.Setenv("SHUTDOWN_TIMEOUT", tt.shutdown)
			t.Setenv("CLAIM_MIN_IDLE", "60s")
			var cfg Config
			err := config.Load(&cfg)
			if tt.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, "BATCH_WAIT")
		})
	}
}
