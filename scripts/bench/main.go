// Command bench is the whole of `scripts/bench.sh`, a load benchmark that is never deployed. Each mode
// measures adly's binaries on loopback, against a ceiling or reference measured in the same run where one
// exists:
//
//   - api: the ingest API under wrk (GET impression, POST batch of 100) against bare204, a server that only
//     answers 204 (the HTTP ceiling of the machine), and against the confirmed-write reference (`bench ref`),
//     a server that answers 204 once Redis confirmed one XADD per request, sent by a greedy pipelining
//     flusher; with the API's p99 and its peak RSS;
//   - worker: impression-worker with one and two consumers draining a pre-filled stream, against a bare
//     XREADGROUP + XACK loop (the Redis ceiling);
//   - syncer: path-syncer --once moving path hit counters into MariaDB, against a bare SCAN + GET pass;
//   - load: one API and one impression-worker, as shipped, under GET impression at a fixed rate from a
//     driver in this program (RATE, DURATION): MariaDB commits per second (the worker's batches and the
//     server's Com_commit), the time from the API's answer to the event counted in MariaDB (p50/p99/max,
//     from SUM(impressions) read every 10 ms), the worker's peak RSS;
//   - pipeline: the API alone against the API with one impression-worker counting, under the same wrk load
//     in interleaved rounds, and the time the worker takes after the load to count everything;
//   - report: the report binary over a year of 10,000 ads and 200,000 paths (a database of its own,
//     adly_bench_report, kept between runs; `bench -drop report` drops it): p50 and p99 of one ad's year,
//     the 30-day report of all ads and the top 100 paths, each against its bare statements sent from here;
//   - scale: the drain rate of 1, 2 and 4 impression-workers on 1 and on 4 stream shards (STREAM_SHARDS),
//     with MariaDB one round trip away (a proxy in this program holds each statement DB_DELAY), so that the
//     database, not the two cores, is what the workers wait for;
//   - wait: the API with REDIS_WAIT_REPLICAS 0 and 1 under wrk, on a Redis with one replica that the run
//     starts itself.
//
// It reads its settings from the environment (ROUNDS, DURATION, ENTRIES, PATHS, RATE, CONCURRENCY,
// GOMAXPROCS, the BENCH_* addresses and the REDIS_*/DB_* variables the binaries read), builds the binaries
// it measures, fills Redis, starts, times and stops the processes, checks the counts (a run whose counts are
// wrong fails), and prints each round, a summary of medians and one Markdown block for BENCHMARKS.md. It writes only under a Redis key
// prefix and into a database of its own, both removed on exit, Ctrl-C included.
//
// It never installs or starts Redis, MariaDB or wrk: scripts/bench.sh does that first, after `bench -check
// MODE` has validated the settings. `bench bare204 ADDR` is the ceiling server of mode api and `bench ref ADDR
// KEY_PREFIX` its confirmed-write reference (it reads the REDIS_* variables).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// mode is one benchmark: its settings are loaded and validated when it is made.
type mode interface {
	// plan is the line that says what the run will do and how long it takes.
	plan() string
	// run measures and reports; an error means the figures are not a result.
	run(ctx context.Context, b *bench) error
}

var modes = map[string]func() (mode, error){
	"api":      newAPI,
	"worker":   newWorker,
	"syncer":   newSyncer,
	"load":     newLoad,
	"pipeline": newPipeline,
	"report":   newReport,
	"scale":    newScale,
	"wait":     newWait,
}

func main() { os.Exit(run()) }

func run() int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	check := fs.Bool("check", false, "validate the settings, print the plan and exit")
	drop := fs.Bool("drop", false, "with mode report: drop its database (adly_bench_report) and exit")
	workDir := fs.String("workdir", "", "directory for the binaries and logs (default: a temporary one, removed on exit)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: bench [-check] [-workdir DIR] api|worker|syncer|load|pipeline|report|scale|wait\n       bench -drop report\n       bench bare204 [ADDR]\n       bench ref ADDR KEY_PREFIX")
		fs.PrintDefaults()
	}
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	// Signals stay caught until the end: a second Ctrl-C, or bash's SIGTERM, must not cut the cleanup short.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if fs.Arg(0) == "bare204" && fs.NArg() <= 2 {
		return serveBare204(ctx, fs.Arg(1))
	}
	if fs.Arg(0) == "ref" && fs.NArg() == 3 {
		return serveRef(ctx, fs.Arg(1), fs.Arg(2))
	}
	if *drop {
		if fs.NArg() != 1 || fs.Arg(0) != "report" {
			fs.Usage()
			return 2
		}
		if err := dropReport(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "error: %v\n", err)
			return 1
		}
		return 0
	}
	newMode, ok := modes[fs.Arg(0)]
	if fs.NArg() != 1 || !ok {
		fs.Usage()
		return 2
	}
	m, err := newMode()
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		return 2
	}
	if *check {
		info("%s", m.plan())
		return 0
	}

	b, err := newBench(*workDir)
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		return 1
	}
	err = m.run(ctx, b)
	// Whatever happened, leave Redis and MariaDB as they were.
	cerr := b.cleanup()
	if cerr != nil {
		fmt.Fprintf(os.Stderr, "error: cleanup: %v\n", cerr)
	}
	switch {
	case ctx.Err() != nil && cerr == nil:
		fmt.Fprintln(os.Stderr, "interrupted; the benchmark stopped its processes and removed its keys and database")
		return 130
	case ctx.Err() != nil:
		fmt.Fprintln(os.Stderr, "interrupted")
		return 130
	case err != nil:
		fmt.Fprintf(os.Stderr, "error: the %s benchmark failed: %v\n", fs.Arg(0), err)
		return 1
	case cerr != nil:
		return 1
	}
	return 0
}

// info logs a step on stderr, as scripts/lib/services.sh does.
func info(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "==> "+format+"\n", args...)
}
