package worker

import (
	"fmt"
	"time"

	"adly/pkg/fault"
)

// Hooks are fault-injection points for crash tests; nil hooks do nothing.
type Hooks struct {
	BeforeCommit func()
	AfterCommit  func() // after COMMIT, before XACK
	MidAck       func() // after the first half of the acknowledgements
}

var faultPoints = []string{"before_commit", "after_commit", "mid_ack", "pause_after_commit"}

// parseFault checks ADLY_FAULT: "<point>[:N]", or "pause_after_commit:<duration>".
func parseFault(s string) (fault.Spec, error) {
	spec, err := fault.Parse(s, faultPoints...)
	if err != nil || spec.Point == "" {
		return spec, err
	}
	if spec.Point == "pause_after_commit" {
		if d, err := time.ParseDuration(spec.Arg); err != nil || d <= 0 {
			return spec, fmt.Errorf("ADLY_FAULT=%q: pause_after_commit needs a duration, e.g. pause_after_commit:20ms", s)
		}
		return spec, nil
	}
	_, err = spec.N()
	return spec, err
}

// FaultHooks returns hooks that call die at the configured point on the Nth batch (crash tests only).
func FaultHooks(s string, die func()) Hooks {
	spec, err := parseFault(s)
	if err != nil || spec.Point == "" {
		return Hooks{}
	}
	if spec.Point == "pause_after_commit" {
		// Widens the window between COMMIT and XACK, so that random SIGKILLs land in it.
		d, _ := time.ParseDuration(spec.Arg)
		return Hooks{AfterCommit: func() { time.Sleep(d) }}
	}
	n, _ := spec.N()
	fire := fault.OnNth(n, die)
	switch spec.Point {
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
