package testkit

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
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
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + adminAddr + "/readyz")
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, timeout, 50*time.Millisecond, "%s/readyz answers 200", adminAddr)
}
