// Command impression-worker counts the impressions stream into MariaDB exactly once (see package worker).
//
//	impression-worker                          run the consumer-group daemon
//	impression-worker replay --from 2026-11-20 recount every date from that one on
package main

import (
	"os"

	"adly/pkg/worker"
)

func main() { os.Exit(worker.Main(worker.Impressions, os.Args[1:], os.Stderr)) }
