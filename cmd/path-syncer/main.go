// Command path-syncer moves the path hit counters from Redis into path_counters (see package pathsync).
//
//	path-syncer          run the daemon, a sync every ANALYTICS_SYNC_FREQUENCY minutes
//	path-syncer --once   run one sync, print what it did and exit
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"adly/pkg/config"
	"adly/pkg/pathsync"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := pathsync.Main(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Exit)
	stop()
	os.Exit(config.Exit("path-syncer", err, os.Stderr))
}
