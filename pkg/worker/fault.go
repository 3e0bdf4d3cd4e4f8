package worker

import (
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Hooks are fault-injection points for crash tests; nil hooks do nothing.
type Hooks struct {
	BeforeCommit func()
	AfterCommit  func() // after COMMIT, before XACK
	MidAck       func() // after the first half of the acknowledgements
}

// parseFault reads ADLY_FAULT: "<point>[:N]", or "pause_after_commit:<duration>".
func parseFault(s string) (string, int64, error) {
	if s == "" {
		return "", 0, nil
	}
	point, nth, hasN := strings.Cut(s, ":")
	switch point {
	case "before_commit", "after_commit", "mid_ack":
	case "pause_after_commit":
		d, err := time.ParseDuration(nth)
		if err != nil || d <= 0 {
			return "", 0, fmt.Errorf("ADLY_FAULT=%q: pause_after_commit needs a duration, e.g. pause_after_commit:20ms", s)
		}
		return point, int64(d), nil
	default:
		return "", 0, fmt.Errorf("ADLY_FAULT=%q: the point must be before_commit, after_commit, mid_ack or pause_after_commit", s)
	}
	n := int64(1)
	if hasN {
		v, err := strconv.ParseInt(nth, 10, 64)
		if err != nil || v < 1 {
			return "", 0, fmt.Errorf("ADLY_FAULT=%q: N must be a positive integer", s)
		}
		n = v
	}
	return point, n, nil
}

// FaultHooks returns hooks that call die at the configured point on the Nth batch (crash tests only).
func FaultHooks(spec string, die func()) Hooks {
	point, n, err := parseFault(spec)
	if err != nil || point == "" {
		return Hooks{}
	}
	var seen atomic.Int64
	fire := func() {
		if seen.Add(1) == n {
			die()
		}
	}
	switch point {
	case "pause_after_commit":
		// Widens the window between COMMIT and XACK, so that random SIGKILLs land in it.
		return Hooks{AfterCommit: func() { time.Sleep(time.Duration(n)) }}
	case "before_commit":
		return Hooks{BeforeCommit: fire}
	case "after_commit":
		return Hooks{AfterCommit: fire}
	default:
		return Hooks{MidAck: fire}
	}
}

func call(f func()) {
	if f != nil {
		f()
	}
}
