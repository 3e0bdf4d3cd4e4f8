package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type spec struct {
	Redis
	DB
	Log
}

func (s *spec) Validate() error {
	if err := s.Redis.Validate(); err != nil {
		return err
	}
	if err := s.DB.Validate(); err != nil {
		return err
	}
	return s.Log.Validate()
}

func TestDefaultsAreTheSeeds(t *testing.T) {
	var s spec
	require.NoError(t, Load(&s))
	require.Equal(t, "127.0.0.1:6379", s.Addr())
	require.Equal(t, "", s.KeyPrefix)
	require.Equal(t, DB{Host: "127.0.0.1", Port: 3306, User: "root", Password: "", Name: "ads", IdleTxTimeout: 10 * time.Second}, s.DB)
	require.Equal(t, "info", s.Level)
	require.Equal(t, 500*time.Millisecond, s.DialTimeout)
	require.Equal(t, 0.9, s.MemoryGuard)
	require.Equal(t, 1, s.StreamShards)
}

func TestStreamShards(t *testing.T) {
	for _, n := range []string{"1", "6", "256"} {
		t.Setenv("STREAM_SHARDS", n)
		var s spec
		require.NoError(t, Load(&s))
	}
	t.Setenv("STREAM_SHARDS", "8")
	t.Setenv("REDIS_KEY_PREFIX", "{tenant}:")
	var s spec
	require.ErrorContains(t, Load(&s), "REDIS_KEY_PREFIX must not contain { or } when STREAM_SHARDS > 1")
	t.Setenv("STREAM_SHARDS", "1")
	require.NoError(t, Load(&s), "one stream: a braced prefix still puts every key in one slot, as before")
}

func TestBadValuesNameTheVariable(t *testing.T) {
	tests := []struct{ key, value, want string }{
		{"REDIS_PORT", "x", `REDIS_PORT="x" is not a valid integer`},
		{"REDIS_PORT", "0", "REDIS_PORT must be a port between 1 and 65535, got 0"},
		{"REDIS_HOST", "", "REDIS_HOST must not be empty"},
		{"REDIS_DIAL_TIMEOUT", "5", `REDIS_DIAL_TIMEOUT="5" is not a valid duration`},
		{"REDIS_DB", "-1", "REDIS_DB must be >= 0"},
		{"REDIS_KEY_PREFIX", "a\nb:", `REDIS_KEY_PREFIX must not contain control characters, got "a\nb:"`},
		{"REDIS_MEMORY_GUARD", "90%", `REDIS_MEMORY_GUARD="90%" is not a valid number`},
		{"REDIS_MEMORY_GUARD", "1.5", "REDIS_MEMORY_GUARD must be a share of maxmemory between 0 and 1 (0 or 1: off), got 1.5"},
		{"REDIS_MEMORY_GUARD", "-0.1", "REDIS_MEMORY_GUARD must be a share"},
		{"REDIS_MEMORY_GUARD", "NaN", "REDIS_MEMORY_GUARD must be a share"},
		{"STREAM_SHARDS", "0", "STREAM_SHARDS must be a number of streams per kind of event between 1 and 256, got 0"},
		{"STREAM_SHARDS", "257", "STREAM_SHARDS must be a number of streams per kind of event between 1 and 256, got 257"},
		{"STREAM_SHARDS", "two", `STREAM_SHARDS="two" is not a valid integer`},
		{"DB_PORT", "99999", "DB_PORT must be a port between 1 and 65535"},
		{"DB_NAME", " ", "DB_NAME must not be empty"},
		{"DB_USER", "", "DB_USER must not be empty"},
		{"LOG_LEVEL", "trace", `LOG_LEVEL must be one of debug, info, warn, error; got "trace"`},
		{"LOG_FORMAT", "xml", `LOG_FORMAT must be json or console; got "xml"`},
	}
	for _, tt := range tests {
		t.Run(tt.key+"="+tt.value, func(t *testing.T) {
			t.Setenv(tt.key, tt.value)
			var s spec
			err := Load(&s)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestCheckAddr(t *testing.T) {
	require.NoError(t, CheckAddr("HTTP_ADDR", ":8080"))
	require.NoError(t, CheckAddr("HTTP_ADDR", "127.0.0.1:0"))
	require.EqualError(t, CheckAddr("HTTP_ADDR", "8080"), `HTTP_ADDR="8080" is not a host:port address`)
}
