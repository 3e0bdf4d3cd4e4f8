// Command api is adly's stateless HTTP ingest: it validates tracking requests and publishes the events to
// Redis (streams for impressions and clicks, counters for path hits). It never touches MariaDB.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"adly/pkg/config"
	"adly/pkg/ingest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := ingest.Main(ctx)
	stop()
	os.Exit(config.Exit("api", err, os.Stderr))
}
