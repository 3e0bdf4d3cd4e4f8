package config

import (
	"errors"
	"fmt"
	"io"
)

// Exit statuses every binary shares.
const (
	ExitOK        = 0
	ExitFailure   = 1
	ExitBadConfig = 2 // bad configuration or usage, or an operation refused as impossible
)

// usageError marks an error the user must fix (configuration, command line) rather than a failure.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// Usage marks err as a configuration or usage error: the binary exits with ExitBadConfig.
func Usage(err error) error {
	if err == nil {
		return nil
	}
	return usageError{err}
}

// Exit maps a binary's final error to its exit status, printing it as "<name>: <error>" on stderr.
func Exit(name string, err error, stderr io.Writer) int {
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
	}
	return ExitStatus(err)
}

// ExitStatus maps a final error to its exit status without printing it (for a command that already did).
func ExitStatus(err error) int {
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, new(usageError)):
		return ExitBadConfig
	default:
		return ExitFailure
	}
}
