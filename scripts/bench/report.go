package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// report is the Markdown block a run prints for BENCHMARKS.md. Every mode fills the same shape, so entries
// of every mode and date stay comparable.
type report struct {
	title    string
	command  string   // the command line that repeats the run
	software []string // after the Go version: Redis, MariaDB, wrk
	load     string
	header   []string // the table's columns
	align    []string // per column: "---" (left) or "--:" (right)
	rows     [][]string
	footer   string // the lines after the table
}

// write prints the block between the markers bench.sh has always printed.
func (r report) write(w io.Writer) {
	row := func(cells []string) {
		line := "|"
		for _, c := range cells {
			line += strings.TrimSuffix(" "+c, " ") + " |" // an empty cell is "| |", as the reports have always had it
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintf(w, "\n----- Markdown -----\n### %s\n\n", r.title)
	fmt.Fprintf(w, "- Command: `%s`\n", r.command)
	fmt.Fprintf(w, "- Date: %s\n", time.Now().UTC().Format(time.UnixDate))
	fmt.Fprintf(w, "- Commit: %s\n", commit())
	fmt.Fprintf(w, "- Machine: %d CPUs (nproc), %s, %s RAM, kernel %s\n", runtime.NumCPU(), cpuModel(), memTotal(), kernel())
	fmt.Fprintf(w, "- Software: %s\n", strings.Join(append([]string{runtime.Version()}, r.software...), ", "))
	fmt.Fprintf(w, "- Load: %s\n\n", r.load)
	row(r.header)
	fmt.Fprintf(w, "|%s|\n", strings.Join(r.align, "|"))
	for _, cells := range r.rows {
		row(cells)
	}
	fmt.Fprintf(w, "\n%s", r.footer)
	fmt.Fprintln(w, "----- end -----")
}

// commit is the short hash of HEAD, marked when tracked files have changed since.
func commit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
		c += " (with uncommitted changes)"
	}
	return c
}

func cpuModel() string {
	data, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func memTotal() string {
	data, _ := os.ReadFile("/proc/meminfo")
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			if kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64); err == nil {
				return fmt.Sprintf("%.1f GiB", kb/1048576)
			}
		}
	}
	return "unknown"
}

func kernel() string {
	data, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(data))
}

// redisVersion is the version of the Redis the run talked to.
func (b *bench) redisVersion(ctx context.Context) string {
	s, err := b.client.Info(ctx, "server").Result()
	if err == nil {
		for _, line := range strings.Split(s, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
				return "Redis " + v
			}
		}
	}
	return "Redis unknown"
}

// dbVersion is the version of the MariaDB the run talked to.
func (b *bench) dbVersion(ctx context.Context) string {
	var v string
	if err := b.db.GetContext(ctx, &v, "SELECT VERSION()"); err != nil {
		return "MariaDB unknown"
	}
	return "MariaDB " + v
}

// loadAvg is the machine's load average (1, 5 and 15 minutes) from /proc/loadavg: the machine is shared, and
// the figures of a run mean little without it.
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(data)); err == nil && len(f) >= 3 {
		return fmt.Sprintf("load average %s, %s, %s", f[0], f[1], f[2])
	}
	return "load average unknown"
}
