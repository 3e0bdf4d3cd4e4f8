package pathsync

import (
	"fmt"
	"time"

	"adly/pkg/config"
	"adly/pkg/fault"
)

// Config is cmd/path-syncer's configuration, read from the environment once in main.
type Config struct {
	config.Redis
	config.DB
	config.Log

	AdminAddr string `envconfig:"ADMIN_ADDR" default:"127.0.0.1:9094"`
	// FrequencyMinutes is the path-hits design's ANALYTICS_SYNC_FREQUENCY.
	FrequencyMinutes int `envconfig:"ANALYTICS_SYNC_FREQUENCY" default:"15"`
	// Interval, when set, overrides FrequencyMinutes with any duration (tests, busy sites).
	Interval   time.Duration `envconfig:"SYNC_INTERVAL"`
	ChunkPaths int           `envconfig:"SYNC_CHUNK_PATHS" default:"20000"`
	// LockTTL is how long the sync lock outlives a syncer that died holding it; renewed while syncing.
	LockTTL         time.Duration `envconfig:"SYNC_LOCK_TTL" default:"60s"`
	ShutdownTimeout time.Duration `envconfig:"SHUTDOWN_TIMEOUT" default:"60s"`
	// Fault makes the process exit at a chosen point, for crash tests only: after_move or after_commit,
	// optionally ":N" to fire on the Nth chunk.
	Fault string `envconfig:"ADLY_FAULT"`
}

// Every is the time between syncs.
func (c *Config) Every() time.Duration {
	if c.Interval > 0 {
		return c.Interval
	}
	return time.Duration(c.FrequencyMinutes) * time.Minute
}

// Validate names the first bad variable.
func (c *Config) Validate() error {
	for _, v := range []interface{ Validate() error }{c.Redis, c.DB, c.Log} {
		if err := v.Validate(); err != nil {
			return err
		}
	}
	if err := config.CheckAddr("ADMIN_ADDR", c.AdminAddr); err != nil {
		return err
	}
	if c.FrequencyMinutes < 1 {
		return fmt.Errorf("ANALYTICS_SYNC_FREQUENCY must be at least 1 (minutes), got %d", c.FrequencyMinutes)
	}
	if c.Interval < 0 {
		return fmt.Errorf("SYNC_INTERVAL must be positive, got %s", c.Interval)
	}
	if c.ChunkPaths < 1 || c.ChunkPaths > 100000 {
		return fmt.Errorf("SYNC_CHUNK_PATHS must be between 1 and 100000, got %d", c.ChunkPaths)
	}
	if err := config.Positive("SHUTDOWN_TIMEOUT", c.ShutdownTimeout); err != nil {
		return err
	}
	if c.LockTTL < 100*time.Millisecond {
		return fmt.Errorf("SYNC_LOCK_TTL must be at least 100ms, got %s", c.LockTTL)
	}
	_, _, err := parseFault(c.Fault)
	return err
}

func parseFault(s string) (fault.Spec, int64, error) {
	spec, err := fault.Parse(s, "after_move", "after_commit")
	if err != nil || spec.Point == "" {
		return spec, 0, err
	}
	n, err := spec.N()
	return spec, n, err
}

// FaultHooks returns hooks that call die at the configured point on the Nth chunk (crash tests only).
func FaultHooks(s string, die func()) Hooks {
	spec, n, err := parseFault(s)
	if err != nil || spec.Point == "" {
		return Hooks{}
	}
	if spec.Point == "after_move" {
		return Hooks{AfterMove: fault.OnNth(n, die)}
	}
	return Hooks{AfterCommit: fault.OnNth(n, die)}
}
