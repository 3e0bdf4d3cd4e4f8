package logging

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestEvery(t *testing.T) {
	e := NewEvery(50 * time.Millisecond)
	require.True(t, e.Allow())
	require.False(t, e.Allow(), "within the interval")
	time.Sleep(60 * time.Millisecond)
	require.True(t, e.Allow())
}
