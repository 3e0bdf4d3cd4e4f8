// Command click-worker counts the clicks stream into MariaDB exactly once (see package worker).
//
//	click-worker                          run the consumer-group daemon
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
	err := worker.Main(ctx, worker.Clicks, os.Args[1:], os.Exit)
	stop()
	os.Exit(config.Exit(worker.Clicks.Name, err, os.Stderr))
}
