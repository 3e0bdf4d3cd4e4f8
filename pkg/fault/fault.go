// Package fault owns the crash-test hooks of adly's daemons: ADLY_FAULT="<point>[:<arg>]" makes a process
// misbehave at a named point — exit on the Nth time it gets there, or pause there — so that tests can kill
// processes at the worst moments, reproducibly. Production never sets it.
//
// It never acts on its own: a daemon asks it for hooks and calls them at its points.
package fault

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"go.uber.org/zap"
)

// Spec is a parsed ADLY_FAULT.
type Spec struct {
	Point string
	Arg   string // what follows the colon, if anything
}

// Parse reads spec ("" is no fault); point must be one of points.
func Parse(spec string, points ...string) (Spec, error) {
	if spec == "" {
		return Spec{}, nil
	}
	point, arg, _ := strings.Cut(spec, ":")
	if !slices.Contains(points, point) {
		return Spec{}, fmt.Errorf("ADLY_FAULT=%q: the point must be one of %s", spec, strings.Join(points, ", "))
	}
	return Spec{Point: point, Arg: arg}, nil
}

// N is the argument as a positive count (1 when there is none).
func (s Spec) N() (int64, error) {
	if s.Arg == "" {
		return 1, nil
	}
	n, err := strconv.ParseInt(s.Arg, 10, 64)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("ADLY_FAULT=%s:%s: N must be a positive integer", s.Point, s.Arg)
	}
	return n, nil
}

// OnNth returns a hook that calls die the nth time it is called.
func OnNth(n int64, die func()) func() {
	var seen atomic.Int64
	return func() {
		if seen.Add(1) == n {
			die()
		}
	}
}

// ExitStatus is the status a process exits with at an injected fault point.
const ExitStatus = 3

// Exit returns the die function of a process's hooks: it logs the fault point and calls exit(ExitStatus),
// abruptly, as a crash would (no deferred function runs). main passes os.Exit.
func Exit(log *zap.Logger, spec string, exit func(int)) func() {
	return func() {
		log.Warn("ADLY_FAULT: exiting at the injected fault point", zap.String("fault", spec))
		exit(ExitStatus)
	}
}
