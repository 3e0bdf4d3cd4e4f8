package main

import (
	"adly/pkg/testkit"
	"bytes"
	"context"
	"errors"
	"net/http"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestBadConfigurationExitsWithStatus2NamingTheVariable(t *testing.T) {
	bin := testkit.Binary(t, "api")
	tests := []struct{ env, want string }{
		{"REDIS_PORT=abc", `REDIS_PORT="abc" is not a valid integer`},
		{"REDIS_PORT=70000", "REDIS_PORT must be a port between 1 and 65535"},
		{"REDIS_WRITE_TIMEOUT=soon", `REDIS_WRITE_TIMEOUT="soon" is not a valid duration`},
		{"REDIS_WRITE_TIMEOUT=-1s", "REDIS_WRITE_TIMEOUT must be a positive duration"},
		{"LOG_LEVEL=loud", "LOG_LEVEL must be one of debug, info, warn, error"},
		{"HTTP_ADDR=8080", `HTTP_ADDR="8080" is not a host:port address`},
		{"MAX_BATCH_EVENTS=0", "MAX_BATCH_EVENTS must be between 1 and 10000"},
		{"FILTERS=crawlers", `FILTERS: bad screen reason`},
		{"RATE_LIMIT=-1", "RATE_LIMIT must be between 0 (off) and 1000000"},
		{"RATE_LIMIT_BURST=0", "RATE_LIMIT_BURST must be at least 1"},
		{"TRUSTED_PROXIES=10.0.0.0/33", `TRUSTED_PROXIES: `},
		{"ALLOWED_AD_IDS=5-1", `ALLOWED_AD_IDS: `},
		{"ALLOWED_PATHS=blog/*", `ALLOWED_PATHS: `},
		{"CORS_ALLOWED_ORIGINS=shop.example", `CORS_ALLOWED_ORIGINS: "shop.example" is not an origin`},
		{"EVENT_ID_TTL=0s", "EVENT_ID_TTL must be between 1s and 168h"},
		{"NEW_PATHS_PER_MINUTE=-1", "NEW_PATHS_PER_MINUTE must be 0 (no bound) or more"},
		{"REDIS_WAIT_REPLICAS=-1", "REDIS_WAIT_REPLICAS must be between 0 (no WAIT) and 16"},
		{"REDIS_WAIT_TIMEOUT=0s", "REDIS_WAIT_TIMEOUT must be a whole number of milliseconds"},
		{"REDIS_WAIT_TIMEOUT=1500us", "REDIS_WAIT_TIMEOUT must be a whole number of milliseconds"},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			cmd := testkit.Command(bin, []string{tt.env})
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			var exitErr *exec.ExitError
			require.True(t, errors.As(err, &exitErr), "exits with an error: %v", err)
			require.Equal(t, 2, exitErr.ExitCode())
			require.Contains(t, stderr.String(), tt.want)
		})
	}
}

// SIGTERM: the process stops accepting, finishes what it holds and exits 0.
func TestSIGTERMExitsCleanly(t *testing.T) {
	bin := testkit.Binary(t, "api")
	prefix := testkit.Prefix(t)
	httpAddr, adminAddr := testkit.FreeAddr(t), testkit.FreeAddr(t)
	p := testkit.Spawn(t, bin, "HTTP_ADDR="+httpAddr, "ADMIN_ADDR="+adminAddr, "REDIS_KEY_PREFIX="+prefix, "LOG_LEVEL=warn")

	testkit.WaitReady(t, adminAddr, 10*time.Second)
	for i := range 5 {
		resp, err := http.Get("http://" + httpAddr + "/track_click.php?ad_id=" + strconv.Itoa(i+1))
		require.NoError(t, err)
		_ = resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}

	p.Stop(10 * time.Second)
	client, _ := testkit.Redis(t)
	require.EqualValues(t, 5, client.XLen(context.Background(), prefix+"clicks_stream").Val())
}
