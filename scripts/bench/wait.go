package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"adly/pkg/config"
)

// waitEnv is mode wait's settings.
type waitEnv struct {
	Procs
	Rounds   int    `envconfig:"ROUNDS" default:"5"`
	Duration string `envconfig:"DURATION" default:"10s"`
	WaitSecs int    `envconfig:"ADLY_WAIT_SECS" default:"30"`

	secs int
}

func (e *waitEnv) Validate() error {
	var err error
	e.secs, err = durationSecs(e.Duration)
	return errors.Join(e.Procs.Validate(), checkRounds(e.Rounds), err, checkWait(e.WaitSecs))
}

// waitBench measures what REDIS_WAIT_REPLICAS=1 costs the API: it starts a Redis of its own with one replica
// (two redis-server processes on free loopback ports, nothing on disk), and two API processes on it, one
// with REDIS_WAIT_REPLICAS=0 and one with 1, and loads GET /track/impression on each in interleaved rounds.
// The replica is on the same machine, so the figure is the cost of the extra command and of waiting for the
// replica's acknowledgement over loopback; a replica in another zone adds its round trip to every flush.
type waitBench struct {
	env waitEnv
	*bench
	runs    map[string][]wrkRun
	loadAvg string
}

func newWait() (mode, error) {
	w := &waitBench{runs: map[string][]wrkRun{}}
	if err := config.Load(&w.env); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *waitBench) plan() string {
	total := w.env.Rounds * 2 * w.env.secs
	return fmt.Sprintf("mode wait: %d rounds x 2 runs (REDIS_WAIT_REPLICAS 0 and 1) x %s = %ds of load (%s), plus build and start-up",
		w.env.Rounds, w.env.Duration, total, minSecs(total))
}

// freePort is a loopback port nothing listens on now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func (w *waitBench) run(ctx context.Context, b *bench) error {
	w.bench = b
	e := w.env
	within := time.Duration(e.WaitSecs) * time.Second
	redisServer, err := exec.LookPath("redis-server")
	if err != nil {
		return fmt.Errorf("mode wait starts its own Redis and replica: %w", err)
	}
	apiBin, err := b.build(ctx, "./cmd/api")
	if err != nil {
		return err
	}
	var ports [6]int // master, replica, api 0 HTTP and admin, api 1 HTTP and admin
	for i := range ports {
		if ports[i], err = freePort(); err != nil {
			return err
		}
	}
	addr := func(p int) string { return "127.0.0.1:" + strconv.Itoa(p) }
	serverArgs := func(port int, more ...string) []string {
		return append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--dir", b.workDir, "--dbfilename", "wait-" + strconv.Itoa(port) + ".rdb"}, more...)
	}
	if _, err := b.start(procSpec{name: "redis-master", bin: redisServer, args: serverArgs(ports[0]), grace: serverGrace, env: os.Environ()}); err != nil {
		return err
	}
	if _, err := b.start(procSpec{name: "redis-replica", bin: redisServer, args: serverArgs(ports[1], "--replicaof", "127.0.0.1", strconv.Itoa(ports[0])),
		grace: serverGrace, env: os.Environ()}); err != nil {
		return err
	}
	b.prefix = fmt.Sprintf("bench:%d:", os.Getpid())
	b.client = redis.NewClient(&redis.Options{Addr: addr(ports[0])})
	// The servers are the run's own and stop with it: cleanup has no keys to unlink from them.
	defer func() { _ = b.client.Close(); b.client = nil }()
	if err := waitReplica(ctx, b.client, within); err != nil {
		return err
	}
	var apis [2]*proc
	for i := range apis {
		apis[i], err = b.start(procSpec{name: "api-wait" + strconv.Itoa(i), bin: apiBin, grace: serverGrace, env: childEnv(
			[]string{"REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD", "REDIS_DB", "REDIS_CLUSTER_ADDRS", "REDIS_WAIT_REPLICAS"},
			"REDIS_HOST=127.0.0.1", "REDIS_PORT="+strconv.Itoa(ports[0]), "REDIS_WAIT_REPLICAS="+strconv.Itoa(i),
			"HTTP_ADDR="+addr(ports[2+2*i]), "ADMIN_ADDR="+addr(ports[3+2*i]), "REDIS_KEY_PREFIX="+b.prefix, "LOG_LEVEL=warn")})
		if err != nil {
			return err
		}
		if err := waitStatus(ctx, apis[i], "http://"+addr(ports[3+2*i])+"/readyz", http.StatusOK, within); err != nil {
			return err
		}
	}
	targets := []target{
		{name: "wait0", label: "WAIT 0", url: "http://" + addr(ports[2]) + "/track/impression?ad_id=123", server: apis[0], writes: true},
		{name: "wait1", label: "WAIT 1", url: "http://" + addr(ports[4]) + "/track/impression?ad_id=123", server: apis[1], writes: true},
	}
	for _, t := range targets {
		if err := preflightGet(t.url); err != nil {
			return err
		}
	}
	gmp := e.note("both API processes", gomaxprocsOf("http://"+addr(ports[3])+"/metrics"))
	w.loadAvg = loadAvg()
	fmt.Printf("\nadly REDIS_WAIT_REPLICAS benchmark: %s; %d rounds, wrk %s -d%s --latency, %s\n", w.loadAvg, e.Rounds, wrkArgs, e.Duration, gmp)
	for r := 1; r <= e.Rounds; r++ {
		cells := make([]string, 0, len(targets))
		for _, t := range targets {
			if err := t.server.exitedEarly(); err != nil {
				return err
			}
			run, err := w.wrk(ctx, e.Duration, e.secs, t, r)
			if err != nil {
				return err
			}
			if err := b.client.FlushAll(ctx).Err(); err != nil {
				return fmt.Errorf("empty the benchmark's Redis: %w", err)
			}
			w.runs[t.name] = append(w.runs[t.name], run)
			cells = append(cells, run.cell(t.label))
		}
		last := func(name string) float64 { return w.runs[name][len(w.runs[name])-1].rps }
		fmt.Printf("round %d/%d  %s | wait1/wait0 %.3f\n", r, e.Rounds, strings.Join(cells, " | "), ratio(last("wait1"), last("wait0")))
	}
	// The figures stand for WAIT only if the second API waited, and every wait was confirmed.
	metrics := "http://" + addr(ports[5]) + "/metrics"
	confirmed, err := scrapeMetric(metrics, `adly_api_redis_wait_total{outcome="confirmed"}`)
	if err != nil || confirmed == 0 {
		return fmt.Errorf("the API with REDIS_WAIT_REPLICAS=1 reports no confirmed WAIT (%v): these figures are not a result", err)
	}
	if notConfirmed, err := scrapeMetric(metrics, `adly_api_redis_wait_total{outcome="not_confirmed"}`); err == nil && notConfirmed > 0 {
		return fmt.Errorf("the API with REDIS_WAIT_REPLICAS=1 had %.0f writes its replica did not confirm: these figures are not a result", notConfirmed)
	}
	info("REDIS_WAIT_REPLICAS=1: %.0f flushes confirmed by WAIT", confirmed)
	return w.summary(ctx, gmp)
}

// waitReplica waits until the master reports its replica online.
func waitReplica(ctx context.Context, c redis.UniversalClient, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		info, err := c.Info(ctx, "replication").Result()
		if err == nil && strings.Contains(info, "connected_slaves:1") && strings.Contains(info, "state=online") {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the benchmark's replica is not online within %s: %v %s", within, err, info)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// preflightGet fails in seconds, with the API's own answer, rather than after the whole run.
func preflightGet(url string) error {
	client := http.Client{Timeout: 5 * time.Second}
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", browserUA)
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s answered %d, not 200", url, resp.StatusCode)
	}
	return nil
}

func (w *waitBench) summary(ctx context.Context, gmp string) error {
	e := w.env
	col := func(name string, f func(wrkRun) float64) []float64 {
		var xs []float64
		for _, r := range w.runs[name] {
			xs = append(xs, f(r))
		}
		return xs
	}
	rps := func(r wrkRun) float64 { return r.rps }
	p99 := func(r wrkRun) float64 { return r.p99ms }
	w0, w1 := col("wait0", rps), col("wait1", rps)
	fmt.Printf("\nsummary (median of %d rounds)\n", e.Rounds)
	var rows [][]string
	var flags []string
	non2xx := 0
	for _, t := range []struct{ name, row string }{
		{"wait0", "`REDIS_WAIT_REPLICAS=0` (the default)"},
		{"wait1", "`REDIS_WAIT_REPLICAS=1`"},
	} {
		xs := col(t.name, rps)
		m, p := median(xs), median(col(t.name, p99))
		fmt.Printf("  %-6s %9.0f req/s  p99 %8.2f ms  vs WAIT 0 %.3f (per-round %.3f)\n", t.name, m, p, ratio(m, median(w0)), medianRatio(xs, w0))
		rows = append(rows, []string{t.row, fmt.Sprintf("%.0f", m), fmt.Sprintf("%.2f", p),
			fmt.Sprintf("%.3f", ratio(m, median(w0))), fmt.Sprintf("%.3f", medianRatio(xs, w0))})
		for _, run := range w.runs[t.name] {
			non2xx += run.non2xx
			flags = append(flags, run.flags...)
		}
	}
	footer := fmt.Sprintf("REDIS_WAIT_REPLICAS=1 keeps %.3f of the API's req/s (median of per-round ratios %.3f).\n",
		ratio(median(w1), median(w0)), medianRatio(w1, w0))
	if len(flags) > 0 {
		footer += "\n**Flagged:** some runs had failed requests:\n\n- " + strings.Join(flags, "\n- ") + "\n"
	} else {
		footer += "Every run: 0 non-2xx responses, 0 socket errors.\n"
	}
	report{
		title:    "adly API with REDIS_WAIT_REPLICAS",
		command:  e.command(fmt.Sprintf("DURATION=%s ROUNDS=%d", e.Duration, e.Rounds), "wait"),
		software: []string{w.redisVersion(ctx), wrkVersion()},
		load: fmt.Sprintf("`wrk %s -d%s --latency` on `GET /track/impression?ad_id=123` over loopback; a Redis of the run's own with one "+
			"replica on the same machine (nothing on disk); two API processes on it, one per setting, in %d interleaved rounds; %s; %s",
			wrkArgs, e.Duration, e.Rounds, gmp, w.loadAvg),
		header: []string{fmt.Sprintf("API (median of %d rounds)", e.Rounds), "req/s", "p99 ms", "vs WAIT 0 (ratio of medians)", "(median of per-round ratios)"},
		align:  []string{"---", "--:", "--:", "--:", "--:"},
		rows:   rows,
		footer: footer,
	}.write(os.Stdout)
	if non2xx > 0 {
		return fmt.Errorf("%d non-2xx responses: a server was measured while failing, so these figures are not a result", non2xx)
	}
	return nil
}
