package report

import (
	"testing"

	"github.com/stretchr/testify/require"

	"adly/pkg/config"
)

func TestConfig(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  map[string]string
		err  string
	}{
		{"defaults: loopback, no credential", nil, ""},
		{"localhost", map[string]string{"REPORT_ADDR": "localhost:8090"}, ""},
		{"IPv6 loopback", map[string]string{"REPORT_ADDR": "[::1]:8090"}, ""},
		{"every interface without a credential", map[string]string{"REPORT_ADDR": ":8090"},
			"REPORT_ADDR=:8090 is reachable from other machines, and no credential is set"},
		{"a public address without a credential", map[string]string{"REPORT_ADDR": "0.0.0.0:8090"}, "no credential is set"},
		{"a host name without a credential", map[string]string{"REPORT_ADDR": "reports.internal:8090"}, "no credential is set"},
		{"every interface with a token", map[string]string{"REPORT_ADDR": ":8090", "REPORT_TOKEN": "0123456789abcdef"}, ""},
		{"every interface with a password", map[string]string{"REPORT_ADDR": ":8090", "REPORT_USER": "a", "REPORT_PASSWORD": "12345678"}, ""},
		{"short token", map[string]string{"REPORT_TOKEN": "short"}, "REPORT_TOKEN must be at least 16 characters long"},
		{"token with a space", map[string]string{"REPORT_TOKEN": "0123456789 abcdef"}, "REPORT_TOKEN must not contain spaces"},
		{"user alone", map[string]string{"REPORT_USER": "a"}, "REPORT_USER and REPORT_PASSWORD go together"},
		{"password alone", map[string]string{"REPORT_PASSWORD": "12345678"}, "REPORT_USER and REPORT_PASSWORD go together"},
		{"short password", map[string]string{"REPORT_USER": "a", "REPORT_PASSWORD": "1234"}, "REPORT_PASSWORD must be at least 8"},
		{"colon in user", map[string]string{"REPORT_USER": "a:b", "REPORT_PASSWORD": "12345678"}, "REPORT_USER must not contain ':'"},
		{"zone", map[string]string{"TIMEZONE": "Mars/Olympus"}, `TIMEZONE="Mars/Olympus" is not an IANA time zone name`},
		{"address", map[string]string{"REPORT_ADDR": "8090"}, `REPORT_ADDR="8090" is not a host:port address`},
		{"query timeout", map[string]string{"REPORT_QUERY_TIMEOUT": "0s"}, "REPORT_QUERY_TIMEOUT must be a positive duration"},
		{"connections", map[string]string{"REPORT_DB_CONNS": "0"}, "REPORT_DB_CONNS must be between 1 and 100"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var c Config
			err := config.Load(&c)
			if tt.err == "" {
				require.NoError(t, err)
				require.NotNil(t, c.Location())
				return
			}
			require.ErrorContains(t, err, tt.err)
		})
	}
}
