// Package testkit is adly's one test kit. It owns the fixtures every test package shares:
//
//   - env.go, redis.go, mariadb.go: an Env per test, a real Redis under a key prefix of its own (never
//     FLUSHALL) and a throw-away MariaDB database with sql/schema.sql loaded, both removed when the test ends;
//   - proxy.go: a TCP proxy to either server that can slow down, cut or refuse connections, and clients
//     that go through it;
//   - redisserver.go: a private redis-server for tests that kill Redis or fill it to maxmemory;
//   - cluster.go, clusternodes.go: the Redis Cluster scripts/test.sh starts for the run (three masters, one
//     replica each), a client of it built as the binaries build theirs, under a key prefix of the test's own,
//     and its nodes: which master owns a slot, their pids, killing and restarting one; tests that need it
//     are skipped, with the reason, when ADLY_TEST_CLUSTER is unset;
//   - process.go: the real binaries, built once, run as processes that can be killed (SIGKILL), frozen
//     (SIGSTOP/SIGCONT) or stopped (SIGTERM and wait);
//   - metrics.go: one metric read from a registry or from an admin listener's /metrics;
//   - wait.go: waiting for a condition on the test's goroutine instead of sleeping.
//
// It is for tests only and never mocks Redis or MariaDB: every command reaches a real server.
package testkit
