package testkit

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var (
	mu    sync.Mutex
	built = map[string]string{} // command name -> binary path
	dir   string
)

// Binary builds adly/cmd/<name> (once per test process) and returns the binary's path.
func Binary(t testing.TB, name string) string {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if p, ok := built[name]; ok {
		return p
	}
	if dir == "" {
		d, err := os.MkdirTemp("", "adly-bin")
		require.NoError(t, err)
		dir = d
	}
	p := filepath.Join(dir, name)
	out, err := exec.Command("go", "build", "-o", p, "adly/cmd/"+name).CombinedOutput()
	require.NoError(t, err, "%s", fmt.Sprintf("go build adly/cmd/%s: %s", name, out))
	built[name] = p
	return p
}

// Command is bin with args, run with the test process's environment plus env (later entries win), its
// output discarded unless the caller sets Stdout and Stderr.
func Command(bin string, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	return cmd
}

// Process is a running binary that the test can kill, freeze, thaw or stop. It is killed (after a thaw)
// when the test ends, if it still runs.
type Process struct {
	t    testing.TB
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited and err is set
	err  error
}

// Start starts cmd as a Process.
func Start(t testing.TB, cmd *exec.Cmd) *Process {
	t.Helper()
	require.NoError(t, cmd.Start(), "start %s", cmd.Path)
	p := &Process{t: t, cmd: cmd, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = cmd.Process.Kill()
		<-p.done
	})
	return p
}

// Spawn starts bin with the test process's environment plus env; its standard error goes to the test's.
func Spawn(t testing.TB, bin string, env ...string) *Process {
	t.Helper()
	cmd := Command(bin, env)
	cmd.Stderr = os.Stderr
	return Start(t, cmd)
}

// Signal sends sig to the process (an error if it has exited).
func (p *Process) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Kill stops the process with SIGKILL and waits until it is gone.
func (p *Process) Kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Freeze suspends the process (SIGSTOP): it holds its connections, locks and transactions but does nothing.
func (p *Process) Freeze() {
	p.t.Helper()
	require.NoError(p.t, p.cmd.Process.Signal(syscall.SIGSTOP))
}

// Thaw resumes a frozen process (SIGCONT).
func (p *Process) Thaw() {
	p.t.Helper()
	require.NoError(p.t, p.cmd.Process.Signal(syscall.SIGCONT))
}

// Stop sends SIGTERM and requires the process to exit with status 0 within timeout. A process started a
// moment ago may not have installed its handler yet, and SIGTERM would then kill it as it kills any
// process: Stop first waits (within timeout) until the process catches SIGTERM, as /proc says.
func (p *Process) Stop(timeout time.Duration) {
	p.t.Helper()
	Wait(p.t, timeout, func() bool { return p.catches(syscall.SIGTERM) },
		"%s catches SIGTERM (its handler is installed)", filepath.Base(p.cmd.Path))
	require.NoError(p.t, p.cmd.Process.Signal(syscall.SIGTERM))
	exited, err := p.Wait(timeout)
	require.True(p.t, exited, "%s still runs %v after SIGTERM", filepath.Base(p.cmd.Path), timeout)
	require.NoError(p.t, err, "%s exits 0 on SIGTERM", filepath.Base(p.cmd.Path))
}

// catches reports whether the process has a handler for sig (the SigCgt mask of /proc/<pid>/status); a
// process that has exited counts as catching it, so that Stop reports how it exited.
func (p *Process) catches(sig syscall.Signal) bool {
	select {
	case <-p.done:
		return true
	default:
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return true
	}
	for _, line := range strings.Split(string(status), "\n") {
		if mask, ok := strings.CutPrefix(line, "SigCgt:"); ok {
			bits, err := strconv.ParseUint(strings.TrimSpace(mask), 16, 64)
			return err != nil || bits&(1<<(uint(sig)-1)) != 0
		}
	}
	return true
}

// Wait waits up to timeout for the process to exit and returns whether it exited and what cmd.Wait returned.
func (p *Process) Wait(timeout time.Duration) (exited bool, err error) {
	select {
	case <-p.done:
		return true, p.err
	case <-time.After(timeout):
		return false, nil
	}
}

// Done is closed once the process has exited; Err then says how.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is what cmd.Wait returned; call it only after Done is closed.
func (p *Process) Err() error { return p.err }

// ExitCode waits up to timeout for the process to exit and returns its exit status; it fails the test if
// the process still runs or did not exit by itself (killed by a signal).
func (p *Process) ExitCode(timeout time.Duration) int {
	p.t.Helper()
	exited, _ := p.Wait(timeout)
	require.True(p.t, exited, "%s did not exit within %v", filepath.Base(p.cmd.Path), timeout)
	code := p.cmd.ProcessState.ExitCode()
	require.NotEqual(p.t, -1, code, "%s was killed: %v", filepath.Base(p.cmd.Path), p.err)
	return code
}

// FreeAddr returns a loopback address that was free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer func() { _ = ln.Close() }()
	return ln.Addr().String()
}

// WaitReady waits until the admin listener at adminAddr answers /readyz with 200, failing the test after
// timeout.
func WaitReady(t testing.TB, adminAddr string, timeout time.Duration) {
	t.Helper()
	Wait(t, timeout, func() bool { return httpStatus("http://"+adminAddr+"/readyz") == http.StatusOK },
		"%s/readyz answers 200", adminAddr)
}

// WaitServing waits until url answers 200, failing the test after timeout.
func WaitServing(t testing.TB, url string, timeout time.Duration) {
	t.Helper()
	Wait(t, timeout, func() bool { return httpStatus(url) == http.StatusOK }, "%s answers 200", url)
}

func httpStatus(url string) int {
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}
