package logging

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestEvery(t *testing.T) {
	within := NewEvery(time.Hour)
	require.True(t, within.Allow(), "the first line passes")
	require.False(t, within.Allow(), "within the interval")

	after := NewEvery(time.Millisecond)
	require.True(t, after.Allow())
	require.Eventually(t, after.Allow, 5*time.Second, time.Millisecond, "once the interval has passed")

	var zero Every
	require.True(t, zero.Allow())
	require.True(t, zero.Allow(), "the zero value lets everything through")
}
