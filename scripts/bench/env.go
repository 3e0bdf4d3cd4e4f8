package main

import (
	"fmt"
	"net"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"adly/pkg/config"
	"adly/pkg/pathsync"
)

// Limits of the settings, as bench.sh has always checked them.
const (
	maxEntries    = 100000000
	maxChunkPaths = 100000
)

var durationRe = regexp.MustCompile(`^([0-9]+)([smh]?)$`)

// Procs is GOMAXPROCS: when set, the benchmark and every process it starts run with it (they inherit the
// environment), so the ceiling and the measured binary always share one value.
type Procs struct {
	GoMaxProcs string `envconfig:"GOMAXPROCS"`
}

func (p Procs) Validate() error {
	if p.GoMaxProcs != "" && !positive(p.GoMaxProcs) {
		return fmt.Errorf("GOMAXPROCS must be a positive integer, got %q", p.GoMaxProcs)
	}
	return nil
}

// note says how GOMAXPROCS was set, for the summary and the report; who names the processes that share it.
func (p Procs) note(who, effective string) string {
	if p.GoMaxProcs != "" {
		return fmt.Sprintf("GOMAXPROCS=%s (%s)", p.GoMaxProcs, who)
	}
	if effective != "" {
		return fmt.Sprintf("GOMAXPROCS unset (Go default: %s, %s)", effective, who)
	}
	return fmt.Sprintf("GOMAXPROCS unset (Go default, %s)", who)
}

// command is the command line that repeats a run: the settings given, then the script and mode.
func (p Procs) command(settings, mode string) string {
	if p.GoMaxProcs != "" {
		settings = "GOMAXPROCS=" + p.GoMaxProcs + " " + settings
	}
	return settings + " scripts/bench.sh " + mode
}

// Servers is Redis and MariaDB, from the variables the binaries read, on loopback: remote servers would put
// a network between the numbers and this machine.
type Servers struct {
	config.Redis
	config.DB
}

func (s Servers) Validate() error {
	if err := checkRedis(s.Redis); err != nil {
		return err
	}
	if !loopbackHost(s.Redis.Host) {
		return fmt.Errorf("REDIS_HOST=%s: the benchmark runs on loopback only (use 127.0.0.1)", s.Redis.Host)
	}
	if err := s.DB.Validate(); err != nil {
		return err
	}
	if !loopbackHost(s.DB.Host) {
		return fmt.Errorf("DB_HOST=%s: the benchmark runs on loopback only (use 127.0.0.1)", s.DB.Host)
	}
	return nil
}

// checkRedis accepts a single Redis, where the benchmark looks for its keys when it removes them.
func checkRedis(r config.Redis) error {
	if len(r.ClusterAddrs) > 0 {
		return fmt.Errorf("unset REDIS_CLUSTER_ADDRS: the benchmark uses REDIS_HOST/REDIS_PORT")
	}
	return r.Validate()
}

func loopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// loopbackAddr accepts HOST:PORT on loopback only: the numbers are comparable only when nothing but this
// machine is involved.
func loopbackAddr(name, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || !positive(port) {
		return fmt.Errorf("%s=%s: expected HOST:PORT", name, addr)
	}
	if !loopbackHost(host) {
		return fmt.Errorf("%s=%s: the benchmark runs on loopback only (use 127.0.0.1:PORT)", name, addr)
	}
	return nil
}

func checkWait(secs int) error {
	if secs < 1 {
		return fmt.Errorf("ADLY_WAIT_SECS must be a positive integer, got %d", secs)
	}
	return nil
}

func checkRounds(n int) error {
	if n < 1 {
		return fmt.Errorf("ROUNDS must be a positive integer, got %d", n)
	}
	return nil
}

func checkSize(name string, n int) error {
	if n < 1 || n > maxEntries {
		return fmt.Errorf("%s must be an integer between 1 and %d, got %d", name, maxEntries, n)
	}
	return nil
}

// durationSecs reads a duration as wrk takes it (N, Ns, Nm, Nh) in seconds.
func durationSecs(d string) (int, error) {
	m := durationRe.FindStringSubmatch(d)
	n := 0
	if m != nil {
		n, _ = strconv.Atoi(m[1])
	}
	if n <= 0 || n > 1000000 {
		return 0, fmt.Errorf("DURATION must be N, Ns, Nm or Nh with N > 0 (as wrk takes it), got %q", d)
	}
	switch m[2] {
	case "m":
		n *= 60
	case "h":
		n *= 3600
	}
	return n, nil
}

func positive(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n > 0 && s[0] != '+'
}

// defaultChunkPaths is path-syncer's SYNC_CHUNK_PATHS default, read from its Config's tag so the report
// cannot drift from it.
func defaultChunkPaths() string {
	f, _ := reflect.TypeFor[pathsync.Config]().FieldByName("ChunkPaths")
	return f.Tag.Get("default")
}

// minSecs formats seconds as 2m05s, for the plans.
func minSecs(s int) string { return fmt.Sprintf("%dm%02ds", s/60, s%60) }
