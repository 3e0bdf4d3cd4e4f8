package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// procSpec is a process the benchmark starts.
type procSpec struct {
	name  string // also its log's name in the work directory
	bin   string
	args  []string
	env   []string
	grace time.Duration // how long it gets to exit after SIGTERM before it is killed
	// keepStdout keeps its stdout in memory (to read what it printed); otherwise stdout goes to the log too.
	keepStdout bool
}

// proc is a started process. done is closed once it has exited; err and exited are set by then.
type proc struct {
	procSpec
	cmd     *exec.Cmd
	log     string
	stdout  bytes.Buffer
	started time.Time
	exited  time.Time
	done    chan struct{}
	err     error
	// reported is set once an early exit has been reported, so that stop does not report it again.
	reported bool
}

// start starts a process with its stderr in the work directory; cleanup stops it if nothing else does.
func (b *bench) start(s procSpec) (*proc, error) {
	p := &proc{procSpec: s, log: filepath.Join(b.workDir, s.name+".log"), done: make(chan struct{})}
	logFile, err := os.Create(p.log)
	if err != nil {
		return nil, err
	}
	// The child has its own descriptor once started.
	defer func() { _ = logFile.Close() }()
	cmd := exec.Command(s.bin, s.args...)
	cmd.Env = s.env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if s.keepStdout {
		cmd.Stdout = &p.stdout
	}
	// Its own process group, so a Ctrl-C reaches only the benchmark, which stops the process in order; and
	// killed if the benchmark dies without doing so.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p.cmd = cmd
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", s.bin, err)
	}
	go func() {
		// Wait returns once the process has exited and its stdout is read to the end.
		p.err = cmd.Wait()
		p.exited = time.Now()
		close(p.done)
	}()
	b.running = append(b.running, p)
	return p, nil
}

// forget drops a process that has exited and been checked from the ones cleanup stops.
func (b *bench) forget(p *proc) {
	b.running = slices.DeleteFunc(b.running, func(q *proc) bool { return q == p })
}

// exitedEarly reports a process that is gone while it should still run.
func (p *proc) exitedEarly() error {
	select {
	case <-p.done:
		p.reported = true
		return fmt.Errorf("%s exited unexpectedly (%v)%s", p.name, p.err, p.tail())
	default:
		return nil
	}
}

// stop sends SIGTERM, waits up to the grace for the work in hand to finish, and kills the process if it
// does not. A process that failed on its own is reported here unless it already was.
func (p *proc) stop() error {
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(p.grace):
			_ = p.cmd.Process.Kill()
			<-p.done
			return fmt.Errorf("%s did not stop within %s of SIGTERM%s", p.name, p.grace, p.tail())
		}
	}
	if p.err != nil && !p.reported {
		p.reported = true
		return fmt.Errorf("%s: %v%s", p.name, p.err, p.tail())
	}
	return nil
}

// tail is the end of the process's log, for error messages.
func (p *proc) tail() string {
	data, err := os.ReadFile(p.log)
	if err != nil || len(bytes.TrimSpace(data)) == 0 {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	return fmt.Sprintf("\n--- last lines of %s ---\n%s\n---", p.log, strings.Join(lines[max(0, len(lines)-20):], "\n"))
}

// childEnv is this process's environment without the variables in drop, then set (which wins over it).
func childEnv(drop []string, set ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(drop, name) {
			out = append(out, kv)
		}
	}
	return append(out, set...)
}

// peakRSS is VmHWM, the peak resident set of a running process, in kB.
func peakRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			return strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}

// exitRSS is the peak resident set of an exited process, in kB (Linux reports ru_maxrss in kB).
func exitRSS(p *proc) int64 {
	if ru, ok := p.cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss
	}
	return 0
}

// stopReadingPeak reads the largest peak RSS (kB) of procs while they still run, then stops every process.
func (b *bench) stopReadingPeak(procs []*proc) (int64, error) {
	var rss int64
	for _, p := range procs {
		kb, err := peakRSS(p.cmd.Process.Pid)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", p.name, err)
		}
		rss = max(rss, kb)
	}
	return rss, b.stopAll()
}
