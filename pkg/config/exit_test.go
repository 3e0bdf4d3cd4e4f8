package config

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestExit(t *testing.T) {
	for _, tt := range []struct {
		name   string
		err    error
		status int
		stderr string
	}{
		{"success", nil, ExitOK, ""},
		{"failure", errors.New("mariadb down"), ExitFailure, "svc: mariadb down\n"},
		{"usage", Usage(errors.New("BATCH_SIZE must be positive")), ExitBadConfig, "svc: BATCH_SIZE must be positive\n"},
		{"wrapped usage", fmt.Errorf("configuration: %w", Usage(errors.New("bad"))), ExitBadConfig, "svc: configuration: bad\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			require.Equal(t, tt.status, Exit("svc", tt.err, &buf))
			require.Equal(t, tt.stderr, buf.String())
		})
	}
}
