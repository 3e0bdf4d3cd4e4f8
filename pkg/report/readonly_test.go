package report_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"adly/pkg/mariadb"
	"adly/pkg/report"
	"adly/pkg/testkit"
)

// The reports need nothing but SELECT: every report, through the store and through the API, runs as a
// MariaDB user that may do nothing else (the one README.md tells operators to create).
func TestReportsRunAsASelectOnlyUser(t *testing.T) {
	t.Parallel()
	db, cfg := testkit.MariaDB(t)
	write(t, db, fixture)
	write(t, db, counts{paths: map[string]int64{"/a": 1}})

	user := "adly_ro_" + cfg.Name[len("adly_test_"):]
	const password = "read-only-pw"
	for _, stmt := range []string{
		"CREATE USER '" + user + "'@'%' IDENTIFIED BY '" + password + "'",
		"GRANT SELECT ON `" + cfg.Name + "`.* TO '" + user + "'@'%'",
	} {
		_, err := db.Exec(stmt)
		require.NoError(t, err, stmt)
	}
	t.Cleanup(func() { _, _ = db.Exec("DROP USER IF EXISTS '" + user + "'@'%'") })

	ro := cfg
	ro.User, ro.Password = user, password
	rodb, err := mariadb.Open(context.Background(), ro)
	require.NoError(t, err)
	t.Cleanup(func() { _ = rodb.Close() })
	_, err = rodb.Exec("INSERT INTO ad_daily_impressions (ad_id, date, impressions) VALUES (9, '2026-03-01', 1)")
	require.ErrorContains(t, err, "INSERT command denied", "the user is SELECT-only")

	s := serveDB(t, rodb, ro, nil)
	for _, p := range []string{
		"/api/v1/summary?from=2026-03-01&to=2026-03-03", "/api/v1/summary?ad_id=1&format=csv",
		"/api/v1/ads?from=2026-03-01&to=2026-03-03", "/api/v1/ads?ad_id=1&sort=-ctr&format=csv",
		"/api/v1/ads/1/daily?from=2026-01-01&to=2026-12-31", "/api/v1/paths?prefix=/", "/api/v1/path?path=/a",
	} {
		a := get(t, s.base+p)
		require.Equal(t, http.StatusOK, a.code, "%s: %s", p, a.body)
	}
	require.Equal(t, http.StatusOK, get(t, s.admin+"/readyz").code)

	store := report.NewStore(rodb, nil)
	zone, err := store.CountedZone(context.Background())
	require.NoError(t, err)
	require.Empty(t, zone)
	require.True(t, strings.HasPrefix(user, "adly_ro_"))
}
