// Command adly is the operator's tool (see package operator):
//
//	adly inspect [--date YYYY-MM-DD] [--watch N] [--json]   where events are, read-only
//	adly replay --kind impressions|clicks --from YYYY-MM-DD  recount every date from that one on
//
// Exit status: 0 success, 1 failure, 2 bad usage or configuration, or a replay refused as impossible.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"adly/pkg/config"
	"adly/pkg/operator"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := operator.Main(ctx, os.Args[1:], os.Stdout, os.Stderr) // prints its own errors
	stop()
	os.Exit(config.ExitStatus(err))
}
