package ingest

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"adly/pkg/config"
	"adly/pkg/limits"
	"adly/pkg/screen"
)

// Config is cmd/api's configuration, read from the environment once in main.
type Config struct {
	config.Redis
	config.Log

	HTTPAddr  string `envconfig:"HTTP_ADDR" default:":8080"`
	AdminAddr string `envconfig:"ADMIN_ADDR" default:"127.0.0.1:9091"`

	// WriteTimeout bounds a tracking request's wait for Redis: past it the answer is 503 and nothing is stored.
	WriteTimeout time.Duration `envconfig:"REDIS_WRITE_TIMEOUT" default:"500ms"`
	// WaitReplicas, when above 0, answers a request 200 only once WAIT says that many replicas of the
	// master acknowledged its events; otherwise 503, not confirmed (publish.PublisherOptions.WaitReplicas).
	// 0 (the default): Redis's acknowledgement, before it replicates, is the answer.
	WaitReplicas int `envconfig:"REDIS_WAIT_REPLICAS" default:"0"`
	// WaitTimeout is WAIT's timeout, a whole number of milliseconds from 1ms to (with WaitReplicas) half of
	// REDIS_WRITE_TIMEOUT: the write must start that much earlier to be answered in time.
	WaitTimeout time.Duration `envconfig:"REDIS_WAIT_TIMEOUT" default:"100ms"`
	Flushers    int           `envconfig:"REDIS_FLUSHERS" default:"1"`
	// MemoryGuardInterval is how often Redis memory is read for the guard (REDIS_MEMORY_GUARD).
	MemoryGuardInterval time.Duration `envconfig:"REDIS_MEMORY_GUARD_INTERVAL" default:"500ms"`

	AllowedOrigins []string `envconfig:"CORS_ALLOWED_ORIGINS" default:"*"`
	// AllowNoOrigin admits requests with neither Origin nor Referer when CORS_ALLOWED_ORIGINS is a list.
	AllowNoOrigin bool `envconfig:"CORS_ALLOW_NO_ORIGIN" default:"false"`

	// Filters are the invalid-traffic labels applied (screen.ParseReasons: all, none, or a list).
	Filters string `envconfig:"FILTERS" default:"all"`
	// RateLimit is each client's sustained tracking requests a second (0 turns the limit off); RateBurst the
	// requests it may send at once; RateClients how many clients are remembered at most.
	RateLimit      float64 `envconfig:"RATE_LIMIT" default:"100"`
	RateBurst      int     `envconfig:"RATE_LIMIT_BURST" default:"200"`
	RateClients    int     `envconfig:"RATE_LIMIT_CLIENTS" default:"100000"`
	TrustedProxies string  `envconfig:"TRUSTED_PROXIES" default:"127.0.0.0/8,::1,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7"`
	AllowedAdIDs   string  `envconfig:"ALLOWED_AD_IDS" default:""`
	AllowedPaths   string  `envconfig:"ALLOWED_PATHS" default:""`
	// EventIDTTL is how long an event_id is remembered: a retry within it is not stored twice.
	EventIDTTL time.Duration `envconfig:"EVENT_ID_TTL" default:"1h"`
	// NewPathsPerMinute bounds the hit counters (distinct paths) created a minute; 0 means no bound.
	NewPathsPerMinute int `envconfig:"NEW_PATHS_PER_MINUTE" default:"10000"`

	// Parsed by Validate.
	filters        []screen.Reason
	trustedProxies []netip.Prefix
	adIDs          limits.AdIDRanges
	paths          limits.PathPatterns
	MaxBodyBytes   int64 `envconfig:"MAX_BODY_BYTES" default:"1048576"`
	MaxBatchEvents int   `envconfig:"MAX_BATCH_EVENTS" default:"1000"`

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
	case c.RateLimit < 0 || c.RateLimit > 1e6:
		return fmt.Errorf("RATE_LIMIT must be between 0 (off) and 1000000 requests a second, got %v", c.RateLimit)
	case c.RateBurst < 1:
		return fmt.Errorf("RATE_LIMIT_BURST must be at least 1, got %d", c.RateBurst)
	case c.RateClients < 1:
		return fmt.Errorf("RATE_LIMIT_CLIENTS must be at least 1, got %d", c.RateClients)
	case c.EventIDTTL < time.Second || c.EventIDTTL > 7*24*time.Hour:
		return fmt.Errorf("EVENT_ID_TTL must be between 1s and 168h, got %s", c.EventIDTTL)
	case c.NewPathsPerMinute < 0:
		return fmt.Errorf("NEW_PATHS_PER_MINUTE must be 0 (no bound) or more, got %d", c.NewPathsPerMinute)
	case c.WaitReplicas < 0 || c.WaitReplicas > 16:
		return fmt.Errorf("REDIS_WAIT_REPLICAS must be between 0 (no WAIT) and 16 replicas, got %d", c.WaitReplicas)
	case c.WaitTimeout < time.Millisecond || c.WaitTimeout%time.Millisecond != 0 || c.WaitReplicas > 0 && c.WaitTimeout > c.WriteTimeout/2:
		return fmt.Errorf("REDIS_WAIT_TIMEOUT must be a whole number of milliseconds from 1ms to half of REDIS_WRITE_TIMEOUT (%s), got %s",
			c.WriteTimeout/2, c.WaitTimeout)
	}
	for _, o := range c.AllowedOrigins {
		if o != "*" && o != "null" && refererOrigin(o) == "" {
			return fmt.Errorf("CORS_ALLOWED_ORIGINS: %q is not an origin such as https://shop.example", o)
		}
	}
	var err error
	if c.filters, err = screen.ParseReasons(c.Filters); err != nil {
		return fmt.Errorf("FILTERS: %w", err)
	}
	if c.trustedProxies, err = limits.ParsePrefixes(c.TrustedProxies); err != nil {
		return fmt.Errorf("TRUSTED_PROXIES: %w", err)
	}
	if c.adIDs, err = limits.ParseAdIDRanges(c.AllowedAdIDs); err != nil {
		return fmt.Errorf("ALLOWED_AD_IDS: %w", err)
	}
	if c.paths, err = limits.ParsePathPatterns(c.AllowedPaths); err != nil {
		return fmt.Errorf("ALLOWED_PATHS: %w", err)
	}
	return nil
}
