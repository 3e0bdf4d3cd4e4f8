package main

import (
	"bytes"
	"errors"
	"net/http"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"adly/pkg/testkit"
)

// A configuration that cannot be right exits with status 2 and names the variable, before anything else
// happens; above all, reports reachable from other machines without a credential are refused.
func TestBadConfigurationExitsWithStatus2(t *testing.T) {
	bin := testkit.Binary(t, "report")
	for _, tt := range []struct {
		env  []string
		want string
	}{
		{[]string{"REPORT_ADDR=0.0.0.0:8090"}, "REPORT_ADDR=0.0.0.0:8090 is reachable from other machines, and no credential is set"},
		{[]string{"REPORT_ADDR=:8090"}, "REPORT_ADDR=:8090 is reachable from other machines, and no credential is set: set REPORT_TOKEN, or REPORT_USER and REPORT_PASSWORD"},
		{[]string{"REPORT_USER=analyst"}, "REPORT_USER and REPORT_PASSWORD go together"},
		{[]string{"REPORT_TOKEN=short"}, "REPORT_TOKEN must be at least 16 characters long"},
		{[]string{"TIMEZONE=Europe/Pariss"}, `TIMEZONE="Europe/Pariss" is not an IANA time zone name`},
		{[]string{"REPORT_QUERY_TIMEOUT=soon"}, `REPORT_QUERY_TIMEOUT="soon" is not a valid duration`},
	} {
		t.Run(tt.want, func(t *testing.T) {
			cmd := testkit.Command(bin, tt.env)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			var exitErr *exec.ExitError
			require.True(t, errors.As(err, &exitErr), "exits with an error: %v", err)
			require.Equal(t, 2, exitErr.ExitCode(), stderr.String())
			require.Contains(t, stderr.String(), "report: configuration: "+tt.want)
		})
	}
}

// The binary serves reports behind its credential, is ready once MariaDB answers, and exits 0 on SIGTERM.
func TestServesAndStopsCleanly(t *testing.T) {
	bin := testkit.Binary(t, "report")
	_, dbCfg := testkit.MariaDB(t)
	addr, adminAddr := testkit.FreeAddr(t), testkit.FreeAddr(t)
	p := testkit.Spawn(t, bin, "REPORT_ADDR="+addr, "ADMIN_ADDR="+adminAddr, "DB_NAME="+dbCfg.Name,
		"REPORT_TOKEN=0123456789abcdef0123", "TIMEZONE=Europe/Paris", "LOG_LEVEL=warn")
	testkit.WaitReady(t, adminAddr, 10*time.Second)

	resp, err := http.Get("http://" + addr + "/api/v1/summary")
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/api/v1/summary", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer 0123456789abcdef0123")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	p.Stop(10 * time.Second)
}
