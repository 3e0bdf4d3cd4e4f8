package redisconn

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMemoryAbove(t *testing.T) {
	tests := []struct {
		name  string
		m     Memory
		share float64
		want  bool
	}{
		{"above", Memory{Used: 95, Max: 100}, 0.9, true},
		{"at the share is not above", Memory{Used: 90, Max: 100}, 0.9, false},
		{"below", Memory{Used: 50, Max: 100}, 0.9, false},
		{"over maxmemory", Memory{Used: 120, Max: 100}, 0.9, true},
		{"no maxmemory", Memory{Used: 1 << 40, Max: 0}, 0.9, false},
		{"share 0 is off", Memory{Used: 99, Max: 100}, 0, false},
		{"share 1 is off", Memory{Used: 120, Max: 100}, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, tt.m.Above(tt.share))
		})
	}
}

func TestParseMemory(t *testing.T) {
	m, err := parseMemory("# Memory\r\nused_memory:1234\r\nused_memory_human:1.21K\r\nmaxmemory:20971520\r\nmaxmemory_policy:noeviction\r\n")
	require.NoError(t, err)
	require.Equal(t, Memory{Used: 1234, Max: 20971520}, m)
	_, err = parseMemory("# Memory\r\nused_memory:1234\r\n")
	require.ErrorContains(t, err, "missing")
	_, err = parseMemory("used_memory:x\r\nmaxmemory:0\r\n")
	require.ErrorContains(t, err, `used_memory is "x"`)
}
