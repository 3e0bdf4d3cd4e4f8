package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"adly/pkg/config"
)

const (
	batchEvents = 100 // events per POST /track/batch: the Lua script's body and the events/s figure alike
	batchLua    = "scripts/bench/batch.lua"
	wrkArgs     = "-t2 -c64"
	readyWithin = 30 * time.Second // as ADLY_WAIT_SECS
	serverGrace = 5 * time.Second  // the API drains in-flight requests on SIGTERM; after a run there are none
)

var (
	rpsRe    = regexp.MustCompile(`(?m)^Requests/sec:\s+([0-9.]+)`)
	p99Re    = regexp.MustCompile(`(?m)^\s+99%\s+([0-9.]+)(us|ms|s|m|h)\s*$`)
	non2xxRe = regexp.MustCompile(`Non-2xx or 3xx responses:\s+([0-9]+)`)
	sockRe   = regexp.MustCompile(`Socket errors: connect ([0-9]+), read ([0-9]+), write ([0-9]+), timeout ([0-9]+)`)
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

	secs int // Duration in seconds
}

func (e *apiEnv) Validate() error {
	var err error
	e.secs, err = durationSecs(e.Duration)
	return errors.Join(checkRedis(e.Redis), e.Procs.Validate(), checkRounds(e.Rounds), err,
		loopbackAddr("BENCH_HTTP_ADDR", e.HTTPAddr), loopbackAddr("BENCH_ADMIN_ADDR", e.AdminAddr),
		loopbackAddr("BENCH_BARE_ADDR", e.BareAddr))
}

// target is one of the three things wrk loads in a round.
type target struct {
	name, label string
	url         string
	args        []string
	server      *proc
}

// wrkRun is what one wrk run measured.
type wrkRun struct {
	rps, p99ms   float64
	non2xx, sock int
	flags        []string // wrk's lines about failed requests
}

// apiBench runs rounds of three wrk runs each: bare204, GET /track/impression?ad_id=123 and POST
// /track/batch with 100 impression events per request. Interleaving spreads drift on the machine (other
// load, thermal) over all three instead of biasing one. Redis is emptied after every API run, so each starts
// from the same state. Non-2xx answers mean the API was measured while failing: the run then fails.
type apiBench struct {
	env apiEnv
	*bench
	runs map[string][]wrkRun
}

func newAPI() (mode, error) {
	a := &apiBench{runs: map[string][]wrkRun{}}
	if err := config.Load(&a.env); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *apiBench) plan() string {
	total := a.env.Rounds * 3 * a.env.secs
	return fmt.Sprintf("mode api: %d rounds x 3 runs x %s = %ds of load (%s), plus build and start-up",
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
	for _, addr := range []string{e.BareAddr, e.HTTPAddr, e.AdminAddr} {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			_ = c.Close()
			return fmt.Errorf("something already listens at %s; pick free ports with BENCH_BARE_ADDR, BENCH_HTTP_ADDR, BENCH_ADMIN_ADDR", addr)
		}
	}
	bare, err := b.start(procSpec{name: "bare204", bin: self, args: []string{"bare204", e.BareAddr}, grace: serverGrace, env: os.Environ()})
	if err != nil {
		return err
	}
	api, err := b.start(procSpec{name: "api", bin: apiBin, grace: serverGrace, env: childEnv(nil,
		"HTTP_ADDR="+e.HTTPAddr, "ADMIN_ADDR="+e.AdminAddr, "REDIS_KEY_PREFIX="+b.prefix, "LOG_LEVEL=warn")})
	if err != nil {
		return err
	}
	if err := waitStatus(ctx, bare, "http://"+e.BareAddr+"/", http.StatusNoContent); err != nil {
		return err
	}
	if err := waitStatus(ctx, api, "http://"+e.AdminAddr+"/readyz", http.StatusOK); err != nil {
		return err
	}
	// Go's default follows the CPU count and any cgroup limit; the API reports what it chose.
	gmp := e.note("set for both servers", "")
	if e.GoMaxProcs == "" {
		gmp = e.note("same for both servers", gomaxprocsOf("http://"+e.AdminAddr+"/metrics"))
	}
	info("%s", gmp)

	targets := []target{
		{name: "bare", label: "bare204", url: "http://" + e.BareAddr + "/", server: bare},
		{name: "impression", label: "impression", url: "http://" + e.HTTPAddr + "/track/impression?ad_id=123", server: api},
		{name: "batch", label: "batch", url: "http://" + e.HTTPAddr + "/track/batch", args: []string{"-s", batchLua}, server: api},
	}
	if err := preflight(targets[1].url, targets[2].url); err != nil {
		return err
	}
	if err := b.unlinkPrefix(ctx); err != nil {
		return err
	}

	fmt.Printf("\nadly api benchmark: %d rounds, wrk %s -d%s --latency, %s\n", e.Rounds, wrkArgs, e.Duration, gmp)
	for r := 1; r <= e.Rounds; r++ {
		cells := make([]string, 0, len(targets))
		for _, t := range targets {
			if err := t.server.exitedEarly(); err != nil {
				return err
			}
			run, err := a.wrk(ctx, t, r)
			if err != nil {
				return err
			}
			// Each API run starts from the same empty Redis.
			if t.server == api {
				if err := b.unlinkPrefix(ctx); err != nil {
					return err
				}
			}
			a.runs[t.name] = append(a.runs[t.name], run)
			cells = append(cells, run.cell(t.label))
		}
		fmt.Printf("round %d/%d  %s\n", r, e.Rounds, strings.Join(cells, " | "))
	}
	return a.summary(ctx, gmp, api)
}

func (w wrkRun) cell(label string) string {
	s := fmt.Sprintf("%-10s %9.0f req/s  p99 %8.2f ms", label, w.rps, w.p99ms)
	if w.non2xx > 0 {
		s += fmt.Sprintf("  !! %d non-2xx", w.non2xx)
	}
	if w.sock > 0 {
		s += fmt.Sprintf("  !! %d socket errors", w.sock)
	}
	return s
}

// wrk runs one wrk against a target; its output is kept in the work directory.
func (a *apiBench) wrk(ctx context.Context, t target, round int) (wrkRun, error) {
	// wrk stops by itself after DURATION; the margin covers connecting and the report.
	wctx, cancel := context.WithTimeout(ctx, time.Duration(a.env.secs+30)*time.Second)
	defer cancel()
	args := append(strings.Fields(wrkArgs), "-d"+a.env.Duration, "--latency")
	cmd := exec.CommandContext(wctx, "wrk", append(append(args, t.args...), t.url)...)
	cmd.Env = append(os.Environ(), "BATCH_EVENTS="+strconv.Itoa(batchEvents))
	// Its own process group: a Ctrl-C reaches the benchmark, which ends wrk, rather than wrk, which would
	// print a partial result and exit 0.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	out, err := cmd.CombinedOutput()
	_ = os.WriteFile(filepath.Join(a.workDir, fmt.Sprintf("wrk.%s.%d.txt", t.name, round)), out, 0o644)
	if ctx.Err() != nil {
		return wrkRun{}, ctx.Err()
	}
	if err != nil {
		return wrkRun{}, fmt.Errorf("wrk failed or timed out against %s: %v\n%s", t.url, err, out)
	}
	run, err := parseWrk(string(out))
	if err != nil {
		return wrkRun{}, fmt.Errorf("read the results of wrk against %s: %w\n%s", t.url, err, out)
	}
	for i := range run.flags {
		run.flags[i] = fmt.Sprintf("round %d %s: %s", round, t.name, run.flags[i])
	}
	return run, nil
}

// parseWrk reads req/s, the 99th percentile and the failed requests from wrk --latency's output. wrk prints
// the Non-2xx and Socket errors lines only when they are not zero; it counts statuses >= 400 as non-2xx
// (none of the endpoints redirect).
func parseWrk(out string) (wrkRun, error) {
	var w wrkRun
	rps, p99 := rpsRe.FindStringSubmatch(out), p99Re.FindStringSubmatch(out)
	if rps == nil || p99 == nil {
		return w, errors.New("no Requests/sec or 99% latency line")
	}
	w.rps, _ = strconv.ParseFloat(rps[1], 64)
	v, _ := strconv.ParseFloat(p99[1], 64)
	w.p99ms = v * map[string]float64{"us": 0.001, "ms": 1, "s": 1000, "m": 60000, "h": 3600000}[p99[2]]
	if m := non2xxRe.FindStringSubmatch(out); m != nil {
		w.non2xx, _ = strconv.Atoi(m[1])
	}
	if m := sockRe.FindStringSubmatch(out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.Atoi(s)
			w.sock += n
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "Non-2xx") || strings.Contains(line, "Socket errors") {
			w.flags = append(w.flags, strings.TrimSpace(line))
		}
	}
	return w, nil
}

// summary prints the medians and the report, and fails the run if any request failed.
func (a *apiBench) summary(ctx context.Context, gmp string, api *proc) error {
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
	bare := col("bare", rps)
	var rows [][]string
	var flags []string
	non2xx := 0
	fmt.Printf("\nsummary (median of %d rounds)\n", e.Rounds)
	for _, t := range []struct{ name, label, row string }{
		{"bare", "bare204", "bare204: Go net/http, answers 204"},
		{"impression", "impression", "`GET /track/impression?ad_id=123`"},
		{"batch", "batch", fmt.Sprintf("`POST /track/batch`, %d impressions", batchEvents)},
	} {
		xs := col(t.name, rps)
		m, p := median(xs), median(col(t.name, p99))
		r, rr := ratio(m, median(bare)), medianRatio(xs, bare)
		if t.name == "bare" {
			fmt.Printf("  %-10s %9.0f req/s  p99 %8.2f ms\n", t.label, m, p)
		} else {
			fmt.Printf("  %-10s %9.0f req/s  p99 %8.2f ms  api/bare %.3f (median of per-round ratios %.3f)\n", t.label, m, p, r, rr)
		}
		rows = append(rows, []string{t.row, fmt.Sprintf("%.0f", m), fmt.Sprintf("%.2f", p), fmt.Sprintf("%.3f", r), fmt.Sprintf("%.3f", rr)})
		for _, run := range a.runs[t.name] {
			non2xx += run.non2xx
			flags = append(flags, run.flags...)
		}
	}
	batchEPS := fmt.Sprintf("%.0f", median(col("batch", rps))*batchEvents)
	fmt.Printf("  batch events/s: %s (%d events per request)\n", batchEPS, batchEvents)
	footer := fmt.Sprintf("Batch: %s events/s.\n", batchEPS)
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
		load: fmt.Sprintf("`wrk %s -d%s --latency` over loopback from the same machine; %d interleaved rounds (bare204, impression, batch); %s",
			wrkArgs, e.Duration, e.Rounds, gmp),
		header: []string{fmt.Sprintf("Target (median of %d rounds)", e.Rounds), "req/s", "p99 ms",
			"req/s vs bare204 (ratio of medians)", "(median of per-round ratios)"},
		align:  []string{"---", "--:", "--:", "--:", "--:"},
		rows:   rows,
		footer: footer,
	}.write(os.Stdout)

	if non2xx > 0 {
		return fmt.Errorf("%d non-2xx responses: the API was measured while failing, so these figures are not a result", non2xx)
	}
	return nil
}

// waitStatus waits until url answers want while p runs.
func waitStatus(ctx context.Context, p *proc, url string, want int) error {
	client := http.Client{Timeout: 3 * time.Second}
	deadline := time.Now().Add(readyWithin)
	last := "no answer"
	for time.Now().Before(deadline) {
		if resp, err := client.Get(url); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == want {
				return nil
			}
			last = resp.Status
		}
		if err := p.exitedEarly(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s: %s did not answer %d within %s (last: %s)%s", p.name, url, want, readyWithin, last, p.tail())
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

// gomaxprocsOf is the GOMAXPROCS a server chose, from its /metrics; empty if unknown.
func gomaxprocsOf(url string) string {
	client := http.Client{Timeout: 3 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return ""
	}
	defer func() { _ = resp.Body.Close() }()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "go_sched_gomaxprocs_threads" {
			return f[1]
		}
	}
	return ""
}

// wrkVersion is wrk's version line without its copyright; wrk -v prints it and exits non-zero.
func wrkVersion() string {
	out, _ := exec.Command("wrk", "-v").CombinedOutput()
	line, _, _ := strings.Cut(string(out), "\n")
	if v, _, _ := strings.Cut(line, " Copyright"); strings.TrimSpace(v) != "" {
		return strings.TrimSpace(v)
	}
	return "wrk"
}
