package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"adly/pkg/config"
)

const (
	reportToken = "bench-report-token-0123456789"
	reportGrace = 20 * time.Second // the report binary's SHUTDOWN_TIMEOUT is 15s
	reportWarm  = 20               // requests (and bare runs) of each endpoint before a round is measured
)

// Variables the report binary reads that the benchmark sets itself or that would change what is measured.
var reportVars = []string{
	"DB_NAME", "REPORT_ADDR", "ADMIN_ADDR", "TIMEZONE", "REPORT_TOKEN", "REPORT_USER", "REPORT_PASSWORD",
	"REPORT_QUERY_TIMEOUT", "REPORT_DB_CONNS", "SHUTDOWN_TIMEOUT", "LOG_LEVEL", "LOG_FORMAT",
}

// reportEnv is mode report's settings. It needs MariaDB only.
type reportEnv struct {
	config.DB
	Procs
	Rounds   int `envconfig:"ROUNDS" default:"3"`
	Requests int `envconfig:"REQUESTS" default:"200"`
	// Reports picks the reports measured: ad, ads, paths, comma-separated, or all (the floor always runs).
	Reports   string `envconfig:"REPORTS" default:"all"`
	Addr      string `envconfig:"BENCH_REPORT_ADDR" default:"127.0.0.1:18090"`
	AdminAddr string `envconfig:"BENCH_ADMIN_ADDR" default:"127.0.0.1:19095"`
	WaitSecs  int    `envconfig:"ADLY_WAIT_SECS" default:"30"`
}

func (e *reportEnv) Validate() error {
	err := errors.Join(e.DB.Validate(), e.Procs.Validate(), checkRounds(e.Rounds), checkWait(e.WaitSecs),
		loopbackAddr("BENCH_REPORT_ADDR", e.Addr), loopbackAddr("BENCH_ADMIN_ADDR", e.AdminAddr))
	if e.Reports != "all" {
		var keys []string
		for _, t := range reportTargets() {
			if t.key != "" {
				keys = append(keys, t.key)
			}
		}
		for _, n := range strings.Split(e.Reports, ",") {
			if !slices.Contains(keys, strings.TrimSpace(n)) {
				err = errors.Join(err, fmt.Errorf("REPORTS=%s: all, or some of %s, comma-separated", e.Reports, strings.Join(keys, ", ")))
				break
			}
		}
	}
	if e.Requests < 10 || e.Requests > 100000 {
		err = errors.Join(err, fmt.Errorf("REQUESTS must be between 10 and 100000, got %d", e.Requests))
	}
	if !loopbackHost(e.DB.Host) {
		err = errors.Join(err, fmt.Errorf("DB_HOST=%s: the benchmark runs on loopback only (use 127.0.0.1)", e.DB.Host))
	}
	return err
}

// reportBench fills (once) a database of its own, adly_bench_report, with a year of daily counts of 10,000
// ads (7.3 M rows) and 200,000 paths, starts the real report binary on it, and measures rounds of three
// reports, each against the bare statements it runs: a request, then the same statements sent from here
// through database/sql as the store sends them (impressions and clicks at once, on two connections), with
// every row scanned and nothing else done, alternately, so that the machine's drift reaches both alike. The database is kept for the next run (its totals are checked first); `bench
// -drop report` drops it.
type reportBench struct {
	env reportEnv
	*bench
	db      *sqlx.DB // the benchmark's own connection, for the bare statements
	fill    time.Duration
	targets []reportTarget
}

func newReport() (mode, error) {
	r := &reportBench{}
	if err := config.Load(&r.env); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *reportBench) plan() string {
	// Rough figures of a loaded 2-core VM: the fill once, then per round and request about 250 ms for the
	// 30-day report of all ads (report and bare) and a few ms for the others.
	n, rounds := float64(r.env.Requests+reportWarm), float64(r.env.Rounds)
	secs := int(rounds*n*(0.25+0.02) + 0.5)
	return fmt.Sprintf("mode report: database %s (kept between runs; filled once, about 1-2 min), then %d rounds x %d requests of "+
		"reports %s, each against its bare statements: about %ds (%s) on a 2-core VM for all three, plus build",
		reportDB, r.env.Rounds, r.env.Requests, r.env.Reports, secs, minSecs(secs))
}

// dropReport is `bench -drop report`.
func dropReport(ctx context.Context) error {
	var e reportEnv
	if err := config.Load(&e); err != nil {
		return err
	}
	if err := dropReportDB(ctx, e.DB); err != nil {
		return err
	}
	info("dropped database %s", reportDB)
	return nil
}

func (r *reportBench) run(ctx context.Context, b *bench) error {
	r.bench = b
	e := r.env
	bin, err := b.build(ctx, "./cmd/report")
	if err != nil {
		return err
	}
	if r.db, err = openReportDB(ctx, e.DB); err != nil {
		return err
	}
	b.db = r.db // cleanup closes it; it never drops this database (b.admin stays nil)
	if r.fill, err = ensureReportData(ctx, r.db); err != nil {
		return err
	}
	r.targets = selectReports(reportTargets(), e.Reports)
	if err := r.explain(ctx); err != nil {
		return err
	}

	p, err := b.start(procSpec{name: "report", bin: bin, grace: reportGrace, env: childEnv(reportVars,
		"DB_NAME="+reportDB, "REPORT_ADDR="+e.Addr, "ADMIN_ADDR="+e.AdminAddr, "TIMEZONE=UTC",
		"REPORT_TOKEN="+reportToken, "LOG_LEVEL=warn")})
	if err != nil {
		return err
	}
	if err := waitStatus(ctx, p, "http://"+e.AdminAddr+"/readyz", 200, time.Duration(e.WaitSecs)*time.Second); err != nil {
		return err
	}
	gmp := e.note("report binary and bare statements", gomaxprocsOf("http://"+e.AdminAddr+"/metrics"))
	info("report binary on %s, database %s; %s", e.Addr, reportDB, gmp)

	fmt.Printf("\nadly report benchmark: %d rounds x %d requests per report, one at a time, each followed by its bare statements\n",
		e.Rounds, e.Requests)
	client := newReportClient(e.Addr)
	for round := 1; round <= e.Rounds; round++ {
		for i := range r.targets {
			t := &r.targets[i]
			if err := r.measure(ctx, client, t, round); err != nil {
				return fmt.Errorf("round %d, %s: %w", round, t.name, err)
			}
			if err := p.exitedEarly(); err != nil {
				return err
			}
			last := len(t.p50) - 1
			if t.stmts[0] == nil {
				fmt.Printf("round %d/%d  %-30s p50 %7.2f ms  p99 %7.2f ms\n", round, e.Rounds, t.name, t.p50[last], t.p99[last])
				continue
			}
			fmt.Printf("round %d/%d  %-30s p50 %7.2f ms  p99 %7.2f ms | bare p50 %7.2f ms  p99 %7.2f ms | ratio p50 %.2f  p99 %.2f\n",
				round, e.Rounds, t.name, t.p50[last], t.p99[last], t.bareP50[last], t.bareP99[last],
				ratio(t.p50[last], t.bareP50[last]), ratio(t.p99[last], t.bareP99[last]))
		}
	}
	r.summary(ctx, gmp)
	return nil
}

// explain prints the plan of every statement the reports run and fails when one reads a whole table.
func (r *reportBench) explain(ctx context.Context) error {
	fmt.Println("\nplans (EXPLAIN) of the statements the reports run:")
	for _, t := range r.targets {
		for _, q := range slices.Concat(t.stmts[:]...) {
			var plan []struct {
				ID    *int64  `db:"id"`
				Type  *string `db:"select_type"`
				Table *string `db:"table"`
				Scan  *string `db:"type"`
				Keys  *string `db:"possible_keys"`
				Key   *string `db:"key"`
				Len   *string `db:"key_len"`
				Ref   *string `db:"ref"`
				Rows  *int64  `db:"rows"`
				Extra *string `db:"Extra"`
			}
			if err := r.db.SelectContext(ctx, &plan, "EXPLAIN "+q.SQL, q.Args...); err != nil {
				return fmt.Errorf("explain %s: %w", q.Name, err)
			}
			fmt.Printf("  %s, %s:\n", t.name, q.Name)
			for _, p := range plan {
				fmt.Printf("    %-22s %-6s key %-36s rows %8d  %s\n", str(p.Table), str(p.Scan), str(p.Key), deref(p.Rows), str(p.Extra))
				if str(p.Scan) == "ALL" && (len(str(p.Table)) == 0 || str(p.Table)[0] != '<') {
					return fmt.Errorf("%s reads the whole table %s", q.Name, str(p.Table))
				}
			}
		}
	}
	return nil
}

func str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func deref(n *int64) int64 {
	if n == nil {
		return 0
	}
	return *n
}

// summary prints the medians and the report.
func (r *reportBench) summary(ctx context.Context, gmp string) {
	e := r.env
	fmt.Printf("\nsummary (median over %d rounds of each round's p50 and p99; %d requests per report and round)\n", e.Rounds, e.Requests)
	rows := [][]string{}
	allMet := true
	for _, t := range r.targets {
		p50, p99, b50, b99 := median(t.p50), median(t.p99), median(t.bareP50), median(t.bareP99)
		r50, r99 := ratio(p50, b50), ratio(p99, b99)
		if t.stmts[0] == nil {
			fmt.Printf("  %-30s p50 %7.2f ms  p99 %7.2f ms | (no statement: the HTTP floor of every report above)\n", t.name, p50, p99)
			rows = append(rows, []string{t.name, fmt.Sprintf("%.2f", p50), fmt.Sprintf("%.2f", p99), "–", "–", "–", "what every answer costs before its report"})
			continue
		}
		target := "≤ 2× bare: " + met(round1(r50) <= 2 && round1(r99) <= 2)
		allMet = allMet && round1(r50) <= 2 && round1(r99) <= 2
		if t.name == reportAllAds {
			target += "; p99 < 200 ms: " + met(p99 < 200)
			allMet = allMet && p99 < 200
		}
		fmt.Printf("  %-30s p50 %7.2f ms  p99 %7.2f ms | bare p50 %7.2f ms  p99 %7.2f ms | ratio p50 %.2f  p99 %.2f | %s\n",
			t.name, p50, p99, b50, b99, r50, r99, target)
		rows = append(rows, []string{t.name, fmt.Sprintf("%.2f", p50), fmt.Sprintf("%.2f", p99), fmt.Sprintf("%.2f", b50),
			fmt.Sprintf("%.2f", b99), fmt.Sprintf("%.2f / %.2f", r50, r99), target})
	}
	fill := "kept from an earlier run"
	if r.fill > 0 {
		fill = fmt.Sprintf("filled in %.1fs", r.fill.Seconds())
	}
	fmt.Printf("  targets: %s; checks: every answer as written (days, totals, row counts, order)\n", map[bool]string{true: "all met", false: "NOT all met"}[allMet])
	report{
		title:    "adly report benchmark",
		command:  e.command(fmt.Sprintf("ROUNDS=%d REQUESTS=%d REPORTS=%s", e.Rounds, e.Requests, e.Reports), "report"),
		software: []string{r.dbVersion(ctx)},
		load: fmt.Sprintf("database `%s`: %d ads x %d days of impressions and clicks (%d rows), %d paths (%s); the real `report` "+
			"binary (REPORT_TOKEN set, so every request is authenticated); per round and report, %d warm-up requests, then %d requests "+
			"one at a time over one keep-alive connection, each followed by the bare statements (the same SQL text from "+
			"pkg/report, sent through database/sql with the same driver settings as the store sends them, impressions and "+
			"clicks at once on two connections but without its read-only transaction, every row scanned, nothing else done); %s; %s",
			reportDB, reportAds, reportDays, 2*reportAds*reportDays, reportPaths, fill, reportWarm, e.Requests, gmp, loadAvg()),
		header: []string{fmt.Sprintf("Report (median of %d rounds)", e.Rounds), "p50 ms", "p99 ms", "bare p50 ms", "bare p99 ms",
			"ratio p50 / p99", "target"},
		align:  []string{"---", "--:", "--:", "--:", "--:", "--:", "---"},
		rows:   rows,
		footer: "Checks passed on every answer: the days, totals, row counts and order the data was written with.\n",
	}.write(os.Stdout)
}
