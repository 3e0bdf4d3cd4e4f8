// Command api is adly's stateless HTTP ingest: it validates tracking requests and publishes the events to
// Redis (streams for impressions and clicks, counters for path hits). It never touches MariaDB.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"adly/pkg/config"
	"adly/pkg/ingest"
	"adly/pkg/logging"
	"adly/pkg/redisconn"

	"go.uber.org/zap"
)

func main() { os.Exit(run()) }

func run() int {
	var cfg ingest.Config
	if err := config.Load(&cfg); err != nil {
		fmt.Fprintf(os.Stderr, "api: configuration: %v\n", err)
		return config.ExitBadConfig
	}
	log, err := logging.New(cfg.Log, "api")
	if err != nil {
		fmt.Fprintf(os.Stderr, "api: %v\n", err)
		return config.ExitBadConfig
	}
	defer func() { _ = log.Sync() }()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	client := redisconn.NewClient(cfg.Redis, redisconn.ClientOptions{NoRetries: true, PoolSize: 4 * cfg.Flushers})
	defer func() { _ = client.Close() }()
	if err := redisconn.Ping(ctx, client, 2*time.Second); err != nil {
		// Not fatal: the API answers 503 until Redis is back, and /readyz says so.
		log.Warn("redis is not answering at start-up", zap.Error(err))
	}

	app, err := ingest.New(cfg, log, client, time.Now)
	if err != nil {
		log.Error("start", zap.Error(err))
		return 1
	}
	if err := app.Run(ctx); err != nil {
		log.Error("run", zap.Error(err))
		return 1
	}
	return 0
}
