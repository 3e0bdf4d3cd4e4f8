package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"adly/pkg/config"
)

const (
	batchEvents = 100 // events per POST /track/batch: the Lua script's body and the events/s figure alike
	batchLua    = "scripts/bench/batch.lua"
	wrkArgs     = "-t2 -c64"
	// browserUA is the User-Agent every load sends: the API labels requests from tools (wrk, Go's client)
	// as invalid traffic, and the benchmarks measure the traffic it counts as valid.
	browserUA   = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	serverGrace = 5 * time.Second // the API drains in-flight requests on SIGTERM; after a run there are none
)

// apiEnv is mode api's settings.
type apiEnv struct {
	config.Redis
	Procs
	Rounds    int    `envconfig:"ROUNDS" default:"5"`
	Duration  string `envconfig:"DURATION" default:"10s"`
	HTTPAddr  string `envconfig:"BENCH_HTTP_ADDR" default:"127.0.0.1:18080"`
	AdminAddr string `envconfig:"BENCH_ADMIN_ADDR" default:"127.0.0.1:19091"`
	BareAddr  string `envconfig:"BENCH_BARE_ADDR" default:"127.0.0.1:18204"`
	RefAddr   string `envconfig:"BENCH_REF_ADDR" default:"127.0.0.1:18205"`
	// WaitSecs is how long the servers get to answer, as for the services in scripts/lib/services.sh.
	WaitSecs int `envconfig:"ADLY_WAIT_SECS" default:"30"`

	secs int // Duration in seconds
}

func (e *apiEnv) Validate() error {
	var err error
	e.secs, err = durationSecs(e.Duration)
	return errors.Join(checkRedis(e.Redis), e.Procs.Validate(), checkRounds(e.Rounds), err,
		loopbackAddr("BENCH_HTTP_ADDR", e.HTTPAddr), loopbackAddr("BENCH_ADMIN_ADDR", e.AdminAddr),
		loopbackAddr("BENCH_BARE_ADDR", e.BareAddr), loopbackAddr("BENCH_REF_ADDR", e.RefAddr), checkWait(e.WaitSecs))
}

// target is one of the four things wrk loads in a round.
type target struct {
	name, label string
	url         string
	args        []string
	server      *proc
	writes      bool // it writes to Redis, which is emptied after it
}

// apiBench runs rounds of four wrk runs each: bare204, the confirmed-write reference (serveRef), GET
// /track/impression?ad_id=123 and POST /track/batch with 100 impression events per request. Interleaving
// spreads drift on the machine (other load, thermal) over all four instead of biasing one. Redis is emptied
// after every run that writes, so each starts from the same state. Non-2xx answers mean a server was measured
// while failing: the run then fails. The API's peak RSS (VmHWM) is read after the last round.
type apiBench struct {
	env apiEnv
	*bench
	runs    map[string][]wrkRun
	loadAvg string // the machine's load average when the rounds began
}

func newAPI() (mode, error) {
	a := &apiBench{runs: map[string][]wrkRun{}}
	if err := config.Load(&a.env); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *apiBench) plan() string {
	total := a.env.Rounds * 4 * a.env.secs
	return fmt.Sprintf("mode api: %d rounds x 4 runs x %s = %ds of load (%s), plus build and start-up",
		a.env.Rounds, a.env.Duration, total, minSecs(total))
}

func (a *apiBench) run(ctx context.Context, b *bench) error {
	a.bench = b
	e := a.env
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if _, err := os.Stat(batchLua); err != nil {
		return fmt.Errorf("wrk script: %w", err)
	}
	apiBin, err := b.build(ctx, "./cmd/api")
	if err != nil {
		return err
	}
	if err := b.connectRedis(ctx, e.Redis, fmt.Sprintf("bench:%d:", os.Getpid())); err != nil {
		return err
	}
	// Someone else's server on one of the ports would be measured instead of ours.
	if err := portsFree(e.BareAddr, e.RefAddr, e.HTTPAddr, e.AdminAddr); err != nil {
		return err
	}
	bare, err := b.start(procSpec{name: "bare204", bin: self, args: []string{"bare204", e.BareAddr}, grace: serverGrace, env: os.Environ()})
	if err != nil {
		return err
	}
	ref, err := b.start(procSpec{name: "ref", bin: self, args: []string{"ref", e.RefAddr, b.prefix}, grace: serverGrace, env: os.Environ()})
	if err != nil {
		return err
	}
	api, err := b.start(procSpec{name: "api", bin: apiBin, grace: serverGrace, env: childEnv(nil,
		"HTTP_ADDR="+e.HTTPAddr, "ADMIN_ADDR="+e.AdminAddr, "REDIS_KEY_PREFIX="+b.prefix, "LOG_LEVEL=warn")})
	if err != nil {
		return err
	}
	within := time.Duration(e.WaitSecs) * time.Second
	if err := waitStatus(ctx, bare, "http://"+e.BareAddr+"/", http.StatusNoContent, within); err != nil {
		return err
	}
	if err := waitStatus(ctx, ref, "http://"+e.RefAddr+"/", http.StatusNoContent, within); err != nil {
		return err
	}
	if err := waitStatus(ctx, api, "http://"+e.AdminAddr+"/readyz", http.StatusOK, within); err != nil {
		return err
	}
	// Go's default follows the CPU count and any cgroup limit; the API reports what it chose.
	gmp := e.note("set for all three servers", "")
	if e.GoMaxProcs == "" {
		gmp = e.note("same for all three servers", gomaxprocsOf("http://"+e.AdminAddr+"/metrics"))
	}
	info("%s", gmp)

	targets := []target{
		{name: "bare", label: "bare204", url: "http://" + e.BareAddr + "/", server: bare},
		{name: "ref", label: "ref", url: "http://" + e.RefAddr + "/", server: ref, writes: true},
		{name: "impression", label: "impression", url: "http://" + e.HTTPAddr + "/track/impression?ad_id=123", server: api, writes: true},
		{name: "batch", label: "batch", url: "http://" + e.HTTPAddr + "/track/batch", args: []string{"-s", batchLua}, server: api, writes: true},
	}
	if err := preflight(targets[2].url, targets[3].url); err != nil {
		return err
	}
	if err := b.unlinkPrefix(ctx); err != nil {
		return err
	}

	a.loadAvg = loadAvg()
	fmt.Printf("\nadly api benchmark: %s; %d rounds, wrk %s -d%s --latency, %s\n", a.loadAvg, e.Rounds, wrkArgs, e.Duration, gmp)
	for r := 1; r <= e.Rounds; r++ {
		cells := make([]string, 0, len(targets))
		for _, t := range targets {
			if err := t.server.exitedEarly(); err != nil {
				return err
			}
			run, err := a.wrk(ctx, e.Duration, e.secs, t, r)
			if err != nil {
				return err
			}
			// Each run that writes starts from the same empty Redis.
			if t.writes {
				if err := b.unlinkPrefix(ctx); err != nil {
					return err
				}
			}
			a.runs[t.name] = append(a.runs[t.name], run)
			cells = append(cells, run.cell(t.label))
		}
		last := func(name string) float64 { return a.runs[name][len(a.runs[name])-1].rps }
		fmt.Printf("round %d/%d  %s | impression/ref %.3f\n", r, e.Rounds, strings.Join(cells, " | "), ratio(last("impression"), last("ref")))
	}
	rss, err := peakRSS(api.cmd.Process.Pid)
	if err != nil {
		return fmt.Errorf("api: %w", err)
	}
	return a.summary(ctx, gmp, api, float64(rss)/1024)
}

// summary prints the medians and the report, judges the targets, and fails the run if any request failed.
// The API's GET impression is compared with bare204 and with the confirmed-write reference, which does the
// same Redis write per request and nothing else.
func (a *apiBench) summary(ctx context.Context, gmp string, api *proc, rssMB float64) error {
	e := a.env
	col := func(name string, f func(wrkRun) float64) []float64 {
		var xs []float64
		for _, r := range a.runs[name] {
			xs = append(xs, f(r))
		}
		return xs
	}
	rps := func(r wrkRun) float64 { return r.rps }
	p99 := func(r wrkRun) float64 { return r.p99ms }
	bare, ref := col("bare", rps), col("ref", rps)
	var rows [][]string
	var flags []string
	non2xx := 0
	fmt.Printf("\nsummary (median of %d rounds)\n", e.Rounds)
	for _, t := range []struct{ name, label, row string }{
		{"bare", "bare204", "bare204: Go net/http, answers 204"},
		{"ref", "ref", "confirmed-write reference: one pipelined XADD per request, 204 once Redis confirmed"},
		{"impression", "impression", "`GET /track/impression?ad_id=123`"},
		{"batch", "batch", fmt.Sprintf("`POST /track/batch`, %d impressions", batchEvents)},
	} {
		xs := col(t.name, rps)
		m, p := median(xs), median(col(t.name, p99))
		rb, rrb := ratio(m, median(bare)), medianRatio(xs, bare)
		rr, rrr := fmt.Sprintf("%.3f", ratio(m, median(ref))), fmt.Sprintf("%.3f", medianRatio(xs, ref))
		if t.name == "batch" || t.name == "bare" {
			rr, rrr = "–", "–"
		}
		fmt.Printf("  %-10s %9.0f req/s  p99 %8.2f ms  vs bare204 %.3f (per-round %.3f)  vs ref %s (per-round %s)\n",
			t.label, m, p, rb, rrb, rr, rrr)
		rows = append(rows, []string{t.row, fmt.Sprintf("%.0f", m), fmt.Sprintf("%.2f", p),
			fmt.Sprintf("%.3f", rb), fmt.Sprintf("%.3f", rrb), rr, rrr})
		for _, run := range a.runs[t.name] {
			non2xx += run.non2xx
			flags = append(flags, run.flags...)
		}
	}
	imp := col("impression", rps)
	// Judged on the figures as printed.
	refRatio, impP99 := ratio(median(imp), median(ref)), median(col("impression", p99))
	tRef, tP99, tRSS := met(round3(refRatio) >= 0.90), met(impP99 < 10), met(round1(rssMB) < 64)
	batchEPS := fmt.Sprintf("%.0f", median(col("batch", rps))*batchEvents)
	fmt.Printf("  batch events/s: %s (%d events per request)\n", batchEPS, batchEvents)
	fmt.Printf("  targets: impression >= 0.90 of ref: %.3f (per-round %.3f) %s; impression p99 < 10 ms: %.2f ms %s; "+
		"API peak RSS < 64 MB: %.1f MB %s\n", refRatio, medianRatio(imp, ref), tRef, impP99, tP99, rssMB, tRSS)
	footer := fmt.Sprintf("Batch: %s events/s.\n\nTargets: impression ≥ 0.90 of the reference: %.3f (median of per-round ratios %.3f), %s; "+
		"impression p99 < 10 ms: %.2f ms, %s; API peak RSS (VmHWM after all rounds) < 64 MB: %.1f MB, %s.\n",
		batchEPS, refRatio, medianRatio(imp, ref), tRef, impP99, tP99, rssMB, tRSS)
	if len(flags) > 0 {
		fmt.Println("  !! FLAGGED runs (their numbers include failed requests):")
		for _, f := range flags {
			fmt.Println("     " + f)
		}
		if tail := api.tail(); tail != "" && non2xx > 0 {
			fmt.Fprintln(os.Stderr, strings.TrimPrefix(tail, "\n"))
		}
		footer += "\n**Flagged:** some runs had failed requests, so their numbers are not clean:\n\n- " + strings.Join(flags, "\n- ") + "\n"
	} else {
		fmt.Println("  all runs: 0 non-2xx responses, 0 socket errors")
		footer += "Every run: 0 non-2xx responses, 0 socket errors.\n"
	}

	report{
		title:    "adly API benchmark",
		command:  e.command(fmt.Sprintf("DURATION=%s ROUNDS=%d", e.Duration, e.Rounds), "api"),
		software: []string{a.redisVersion(ctx), wrkVersion()},
		load: fmt.Sprintf("`wrk %s -d%s --latency` over loopback from the same machine; %d interleaved rounds (bare204, ref, impression, batch); %s; %s",
			wrkArgs, e.Duration, e.Rounds, gmp, a.loadAvg),
		header: []string{fmt.Sprintf("Target (median of %d rounds)", e.Rounds), "req/s", "p99 ms",
			"vs bare204 (ratio of medians)", "(median of per-round ratios)", "vs ref (ratio of medians)", "(median of per-round ratios)"},
		align:  []string{"---", "--:", "--:", "--:", "--:", "--:", "--:"},
		rows:   rows,
		footer: footer,
	}.write(os.Stdout)

	if non2xx > 0 {
		return fmt.Errorf("%d non-2xx responses: a server was measured while failing, so these figures are not a result", non2xx)
	}
	return nil
}

// preflight fails in seconds, with the API's own answer, rather than after the whole run.
func preflight(impURL, batchURL string) error {
	client := http.Client{Timeout: 5 * time.Second}
	body := "[" + strings.TrimSuffix(strings.Repeat(`{"type":"impression","ad_id":123},`, batchEvents), ",") + "]"
	resp, err := client.Post(batchURL, "application/json", strings.NewReader(body))
	if err != nil {
		return fmt.Errorf("POST %s: %w", batchURL, err)
	}
	answer, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(answer), fmt.Sprintf(`"count":%d`, batchEvents)) {
		return fmt.Errorf("POST %s with %d events answered %d: %s", batchURL, batchEvents, resp.StatusCode, answer)
	}
	resp, err = client.Get(impURL)
	if err != nil {
		return fmt.Errorf("GET %s: %w", impURL, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s answered %d, not 200", impURL, resp.StatusCode)
	}
	return nil
}
