// Package testkit is adly's one test kit. Each test gets a real Redis under a key prefix of its own (never
// FLUSHALL), a throw-away MariaDB database with sql/schema.sql loaded, a TCP proxy that can slow down or cut
// a connection to either, a private redis-server for tests that kill Redis or fill it to maxmemory, and the
// real binaries built once and run as processes that can be killed or frozen.
//
// It is for tests only and never mocks Redis or MariaDB: every command reaches a real server.
package testkit
