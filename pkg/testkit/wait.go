package testkit

import (
	"fmt"
	"testing"
	"time"
)

// Tick is how often Wait checks its condition.
const Tick = 10 * time.Millisecond

// Wait checks cond every Tick until it holds and fails the test if it does not within timeout. Unlike
// require.Eventually, cond runs on the caller's goroutine, so it may use require and the test's helpers.
func Wait(t testing.TB, timeout time.Duration, cond func() bool, msgAndArgs ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", timeout, message(msgAndArgs))
		}
		time.Sleep(Tick)
	}
}

// Within reports whether cond holds within timeout, checking it every Tick on the caller's goroutine; for
// tests that act either way (thaw a process once a condition holds, or at the latest after timeout).
func Within(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(Tick)
	}
	return true
}

func message(msgAndArgs []any) string {
	if len(msgAndArgs) == 0 {
		return "condition"
	}
	if format, ok := msgAndArgs[0].(string); ok {
		return fmt.Sprintf(format, msgAndArgs[1:]...)
	}
	return fmt.Sprint(msgAndArgs...)
}
