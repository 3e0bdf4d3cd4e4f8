package report_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"adly/pkg/report"
)

// The dashboard served by the report service shows what MariaDB holds: the store's figures reach the page
// through the adapter, and a bad range is a 400 page.
func TestDashboardShowsTheStoresFigures(t *testing.T) {
	t.Parallel()
	store, db := newStore(t, "Europe/Paris")
	write(t, db, fixture)
	srv := httptest.NewServer(report.Dashboard(report.Deps{Store: store, Now: time.Now, MaxDays: report.MaxDays, Log: zaptest.NewLogger(t)}))
	defer srv.Close()

	get := func(query string) (int, string) {
		resp, err := http.Get(srv.URL + "/?" + query)
		require.NoError(t, err)
		defer func() { _ = resp.Body.Close() }()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}
	code, page := get("from=2026-03-01&to=2026-03-03")
	require.Equal(t, http.StatusOK, code, page)
	for _, want := range []string{
		"Europe/Paris",
		">160<",     // impressions of the range
		">15<",      // clicks
		"9.38%",     // CTR 15/160
		">Crawler<", // filtered traffic by reason
		"format=csv",
	} {
		require.Contains(t, page, want)
	}
	code, page = get("from=2026-03-01&to=2026-03-03&ad_id=2")
	require.Equal(t, http.StatusOK, code, page)
	require.Contains(t, page, "20.00%", "the ad filter reaches the store: ad 2 has 2 clicks of 10 impressions")
	code, _ = get("from=2026-03-05&to=2026-03-01")
	require.Equal(t, http.StatusBadRequest, code)
}
