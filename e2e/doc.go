// Package e2e owns the end-to-end tests: the real binaries (API, workers, syncer, reports) against the real
// Redis and MariaDB — driven by a real headless Chromium through the DevTools protocol, or filling a private
// Redis to maxmemory — and the walls between the packages that ARCHITECTURE.md draws. It has no production
// code.
package e2e
