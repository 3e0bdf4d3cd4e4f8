package testkit

import (
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// catches reads the process's handlers from /proc: a shell with a trap catches SIGTERM, sleep does not.
func TestCatches(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		catch bool
	}{
		{"trap", []string{"sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.05; done"}, true},
		{"no handler", []string{"sleep", "30"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Start(t, exec.Command(tt.args[0], tt.args[1:]...))
			if tt.catch {
				Wait(t, 5*time.Second, func() bool { return p.catches(syscall.SIGTERM) }, "the trap is installed")
				p.Stop(5 * time.Second)
				return
			}
			time.Sleep(100 * time.Millisecond) // sleep has started and will never install a handler
			require.False(t, p.catches(syscall.SIGTERM))
			p.Kill()
		})
	}
}
