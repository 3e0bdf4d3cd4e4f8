// Command click-worker counts the clicks stream into MariaDB exactly once (see package worker).
//
//	click-worker                          run the consumer-group daemon
//	click-worker replay --from 2026-11-20 recount every date from that one on
package main

import (
	"os"

	"adly/pkg/worker"
)

func main() { os.Exit(worker.Main(worker.Clicks, os.Args[1:], os.Stderr)) }
