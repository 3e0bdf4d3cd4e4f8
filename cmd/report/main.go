// Command report is adly's read-only reporting service: the counts in MariaDB as JSON and CSV under
// /api/v1/, and the dashboard at "/" (see package report). It never writes and never touches Redis.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"adly/pkg/config"
	"adly/pkg/report"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := report.Main(ctx, report.Dashboard)
	stop()
	os.Exit(config.Exit("report", err, os.Stderr))
}
