package ingest

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"adly/pkg/config"
	"adly/pkg/logging"
	"adly/pkg/redisconn"
)

// Main is the api binary: it loads the configuration from the environment, connects to Redis and serves
// until ctx ends (main cancels it on SIGINT or SIGTERM). Configuration errors are config.Usage errors.
func Main(ctx context.Context) error {
	var cfg Config
	if err := config.Load(&cfg); err != nil {
		return config.Usage(fmt.Errorf("configuration: %w", err))
	}
	log, err := logging.New(cfg.Log, "api")
	if err != nil {
		return config.Usage(err)
	}
	defer func() { _ = log.Sync() }()

	client := redisconn.NewClient(cfg.Redis, redisconn.ClientOptions{NoRetries: true, PoolSize: 4 * cfg.Flushers})
	defer func() { _ = client.Close() }()
	if err := redisconn.Ping(ctx, client, 2*time.Second); err != nil {
		// Not fatal: the API answers 503 until Redis is back, and /readyz says so.
		log.Warn("redis is not answering at start-up", zap.Error(err))
	}
	app, err := New(cfg, log, client, time.Now)
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	return app.Run(ctx)
}
