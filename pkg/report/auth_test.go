package report_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"adly/pkg/report"
	"adly/pkg/testkit"
)

func TestAccess(t *testing.T) {
	t.Parallel()
	const token, user, password = "0123456789abcdef-token", "analyst", "correct horse"
	both := serve(t, func(c *report.Config) {
		c.Addr = "0.0.0.0:0" // reachable from other machines: allowed, since credentials are set
		c.Token, c.User, c.Password = token, user, password
	})
	tokenOnly := serve(t, func(c *report.Config) { c.Token = token })
	basic := func(u, p string) func(*http.Request) { return func(r *http.Request) { r.SetBasicAuth(u, p) } }
	bearer := func(tok string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
	}
	for _, tt := range []struct {
		name   string
		s      *server
		path   string
		auth   func(*http.Request)
		code   int
		reason string
		scheme []string // WWW-Authenticate of a 401
	}{
		{"none", both.s(), "/api/v1/summary", nil, 401, "these reports are private", []string{`Basic realm="adly reports"`, `Bearer realm="adly reports"`}},
		{"none on the page", both.s(), "/", nil, 401, "these reports are private", nil},
		{"none on an unknown route", both.s(), "/api/v1/nothing", nil, 401, "these reports are private", nil},
		{"wrong password", both.s(), "/api/v1/summary", basic(user, "correct horsf"), 401, "wrong user or password", nil},
		{"wrong user", both.s(), "/api/v1/summary", basic("analyst2", password), 401, "wrong user or password", nil},
		{"wrong token", both.s(), "/api/v1/summary", bearer(token + "x"), 401, "wrong token", nil},
		{"empty token", both.s(), "/api/v1/summary", bearer(""), 401, "wrong token", nil},
		{"other scheme", both.s(), "/api/v1/summary", func(r *http.Request) { r.Header.Set("Authorization", "Digest x") }, 401, "unsupported authorization scheme Digest (use Bearer or Basic)", nil},
		{"basic", both.s(), "/api/v1/summary", basic(user, password), 200, "", nil},
		{"basic on the page", both.s(), "/", basic(user, password), 200, "", nil},
		{"bearer", both.s(), "/api/v1/paths?format=csv", bearer(token), 200, "", nil},
		{"bearer, any case", both.s(), "/api/v1/ads", func(r *http.Request) { r.Header.Set("Authorization", "bearer "+token) }, 200, "", nil},
		{"token only: no Basic prompt", tokenOnly.s(), "/api/v1/summary", nil, 401, "these reports are private", []string{`Bearer realm="adly reports"`}},
		{"token only: basic refused", tokenOnly.s(), "/api/v1/summary", basic(user, password), 401, "unsupported authorization scheme Basic (use Bearer)", nil},
		{"token only: bearer", tokenOnly.s(), "/api/v1/summary", bearer(token), 200, "", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var edit []func(*http.Request)
			if tt.auth != nil {
				edit = append(edit, tt.auth)
			}
			a := get(t, tt.s.base+tt.path, edit...)
			require.Equal(t, tt.code, a.code, a.body)
			if tt.code != 401 {
				return
			}
			m := a.json(t)
			require.Equal(t, "error", m["status"])
			require.Contains(t, m["error"], tt.reason)
			if tt.scheme != nil {
				require.Equal(t, tt.scheme, a.header.Values("WWW-Authenticate"))
			}
		})
	}

	// The admin listener needs no credential: probes and Prometheus reach it.
	for _, p := range []string{"/livez", "/readyz", "/metrics"} {
		require.Equal(t, http.StatusOK, get(t, both.admin+p).code, p)
	}
	require.EqualValues(t, 8, testkit.AdminMetric(t, strings.TrimPrefix(both.admin, "http://"), "adly_report_unauthorized_total"))
	require.EqualValues(t, 1, testkit.AdminMetric(t, strings.TrimPrefix(both.admin, "http://"), "adly_report_requests_total", "route", "summary", "code", "200"))
}

// s lets the table above name a server before its rows run.
func (s *server) s() *server { return s }
