package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

var (
	rpsRe    = regexp.MustCompile(`(?m)^Requests/sec:\s+([0-9.]+)`)
	p99Re    = regexp.MustCompile(`(?m)^\s+99%\s+([0-9.]+)(us|ms|s|m|h)\s*$`)
	non2xxRe = regexp.MustCompile(`Non-2xx or 3xx responses:\s+([0-9]+)`)
	reqsRe   = regexp.MustCompile(`(?m)^\s+([0-9]+) requests in `)
	sockRe   = regexp.MustCompile(`Socket errors: connect ([0-9]+), read ([0-9]+), write ([0-9]+), timeout ([0-9]+)`)
)

// wrkRun is what one wrk run measured.
type wrkRun struct {
	rps, p99ms   float64
	requests     int // completed requests, non-2xx included
	non2xx, sock int
	flags        []string // wrk's lines about failed requests
}

// cell is the run in a round's line, flagged when requests failed.
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

// wrk runs one wrk for duration (as wrk takes it; secs in seconds) against a target; its output is kept in
// the work directory.
func (b *bench) wrk(ctx context.Context, duration string, secs int, t target, round int) (wrkRun, error) {
	// wrk stops by itself after DURATION; the margin covers connecting and the report.
	wctx, cancel := context.WithTimeout(ctx, time.Duration(secs+30)*time.Second)
	defer cancel()
	args := append(strings.Fields(wrkArgs), "-d"+duration, "--latency", "-H", "User-Agent: "+browserUA)
	cmd := exec.CommandContext(wctx, "wrk", append(append(args, t.args...), t.url)...)
	cmd.Env = append(os.Environ(), "BATCH_EVENTS="+strconv.Itoa(batchEvents))
	// Its own process group: a Ctrl-C reaches the benchmark, which ends wrk, rather than wrk, which would
	// print a partial result and exit 0.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	out, err := cmd.CombinedOutput()
	_ = os.WriteFile(filepath.Join(b.workDir, fmt.Sprintf("wrk.%s.%d.txt", t.name, round)), out, 0o644)
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

// parseWrk reads req/s, the 99th percentile, the completed requests and the failed requests from wrk --latency's output. wrk prints
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
	if m := reqsRe.FindStringSubmatch(out); m != nil {
		w.requests, _ = strconv.Atoi(m[1])
	}
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

// wrkVersion is wrk's version line without its copyright; wrk -v prints it and exits non-zero.
func wrkVersion() string {
	out, _ := exec.Command("wrk", "-v").CombinedOutput()
	line, _, _ := strings.Cut(string(out), "\n")
	if v, _, _ := strings.Cut(line, " Copyright"); strings.TrimSpace(v) != "" {
		return strings.TrimSpace(v)
	}
	return "wrk"
}
