// Package e2e owns the end-to-end tests: the real binaries (API and workers) against the real Redis and
// MariaDB, driven by a real headless Chromium through the DevTools protocol. It has no production code.
package e2e
