package ingest

import (
	"errors"
	"fmt"
	"time"

	"adly/pkg/config"
)

// Config is cmd/api's configuration, read from the environment once in main.
type Config struct {
	config.Redis
	config.Log

	HTTPAddr  string `envconfig:"HTTP_ADDR" default:":8080"`
	AdminAddr string `envconfig:"ADMIN_ADDR" default:"127.0.0.1:9091"`

	// WriteTimeout bounds a tracking request's wait for Redis: past it the answer is 503 and nothing is stored.
	WriteTimeout time.Duration `envconfig:"REDIS_WRITE_TIMEOUT" default:"500ms"`
	Flushers     int           `envconfig:"REDIS_FLUSHERS" default:"1"`
	// MemoryGuardInterval is how often Redis memory is read for the guard (REDIS_MEMORY_GUARD).
	MemoryGuardInterval time.Duration `envconfig:"REDIS_MEMORY_GUARD_INTERVAL" default:"500ms"`

	AllowedOrigins []string `envconfig:"CORS_ALLOWED_ORIGINS" default:"*"`
	MaxBodyBytes   int64    `envconfig:"MAX_BODY_BYTES" default:"1048576"`
	MaxBatchEvents int      `envconfig:"MAX_BATCH_EVENTS" default:"1000"`

	ReadHeaderTimeout time.Duration `envconfig:"HTTP_READ_HEADER_TIMEOUT" default:"5s"`
	ReadTimeout       time.Duration `envconfig:"HTTP_READ_TIMEOUT" default:"10s"`
	WriteHTTPTimeout  time.Duration `envconfig:"HTTP_WRITE_TIMEOUT" default:"10s"`
	IdleTimeout       time.Duration `envconfig:"HTTP_IDLE_TIMEOUT" default:"60s"`
	MaxHeaderBytes    int           `envconfig:"HTTP_MAX_HEADER_BYTES" default:"16384"`
	ShutdownTimeout   time.Duration `envconfig:"SHUTDOWN_TIMEOUT" default:"15s"`
}

// Validate names the first bad variable.
func (c *Config) Validate() error {
	if err := c.Redis.Validate(); err != nil {
		return err
	}
	if err := c.Log.Validate(); err != nil {
		return err
	}
	if err := config.CheckAddr("HTTP_ADDR", c.HTTPAddr); err != nil {
		return err
	}
	if err := config.CheckAddr("ADMIN_ADDR", c.AdminAddr); err != nil {
		return err
	}
	for name, d := range map[string]time.Duration{
		"REDIS_WRITE_TIMEOUT": c.WriteTimeout, "HTTP_READ_HEADER_TIMEOUT": c.ReadHeaderTimeout,
		"HTTP_READ_TIMEOUT": c.ReadTimeout, "HTTP_WRITE_TIMEOUT": c.WriteHTTPTimeout,
		"HTTP_IDLE_TIMEOUT": c.IdleTimeout, "SHUTDOWN_TIMEOUT": c.ShutdownTimeout,
	} {
		if err := config.Positive(name, d); err != nil {
			return err
		}
	}
	switch {
	case c.MemoryGuardInterval < 10*time.Millisecond || c.MemoryGuardInterval > 10*time.Second:
		return fmt.Errorf("REDIS_MEMORY_GUARD_INTERVAL must be between 10ms and 10s, got %s", c.MemoryGuardInterval)
	case c.Flushers < 1 || c.Flushers > 64:
		return fmt.Errorf("REDIS_FLUSHERS must be between 1 and 64, got %d", c.Flushers)
	case c.MaxBodyBytes < 1024:
		return fmt.Errorf("MAX_BODY_BYTES must be at least 1024, got %d", c.MaxBodyBytes)
	case c.MaxBatchEvents < 1 || c.MaxBatchEvents > 10000:
		return fmt.Errorf("MAX_BATCH_EVENTS must be between 1 and 10000, got %d", c.MaxBatchEvents)
	case c.MaxHeaderBytes < 1024:
		return fmt.Errorf("HTTP_MAX_HEADER_BYTES must be at least 1024, got %d", c.MaxHeaderBytes)
	case len(c.AllowedOrigins) == 0:
		return errors.New("CORS_ALLOWED_ORIGINS must not be empty (use * to allow every origin)")
	}
	return nil
}
