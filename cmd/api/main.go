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

	"go.uber.org/zap"

	"adly/pkg/api"
	"adly/pkg/config"
	"adly/pkg/logging"
	"adly/pkg/rdb"
)

func main() { os.Exit(run()) }

func run() int {
	var cfg api.Config
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

	client := rdb.NewClient(cfg.Redis, rdb.ClientOptions{NoRetries: true, PoolSize: 4 * cfg.Flushers})
	defer func() { _ = client.Close() }()
	if err := rdb.Ping(ctx, client, 2*time.Second); err != nil {
		// Not fatal: the API answers 503 until Redis is back, and /readyz says so.
		log.Warn("redis is not answering at start-up", zap.Error(err))
	}

	app, err := api.New(cfg, log, client, time.Now)
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
