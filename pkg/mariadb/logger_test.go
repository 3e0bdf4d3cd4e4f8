package mariadb

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

func TestDriverMessagesBecomeWarnings(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	driverLogger{zap.New(core)}.Print("packets.go:58: ", "unexpected EOF", "\n")
	entries := logs.All()
	require.Len(t, entries, 1)
	require.Equal(t, zap.WarnLevel, entries[0].Level)
	require.Equal(t, "packets.go:58: unexpected EOF", entries[0].Message)
}
