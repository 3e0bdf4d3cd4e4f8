// Command impression-worker counts the impressions stream into MariaDB exactly once (see package worker).
//
//	impression-worker                          run the consumer-group daemon
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"adly/pkg/config"
	"adly/pkg/worker"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := worker.Main(ctx, worker.Impressions, os.Args[1:], os.Exit)
	stop()
	os.Exit(config.Exit(worker.Impressions.Name, err, os.Stderr))
}
