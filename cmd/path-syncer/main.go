// Command path-syncer moves the path hit counters from Redis into MariaDB's path_counters, never losing or
// doubling a hit (see package pathsync).
//
//	path-syncer          sync every ANALYTICS_SYNC_FREQUENCY minutes
//	path-syncer --once   one sync: prints "Synced N paths", exit 1 if any path failed
package main

import (
	"os"

	"adly/pkg/pathsync"
)

func main() { os.Exit(pathsync.Main(os.Args[1:], os.Stdout, os.Stderr)) }
