// Package publish owns the API's side of Redis: a coalescing publisher that writes each request's events
// (stream entries for impressions and clicks, INCRs of path hit counters) with one Lua script call per
// flush and slot, a receipt per call so that a lost reply is resolved truthfully (stored, not stored, or
// "did not confirm"), the classification of Redis errors into the API's answers, the clock-offset probe, and
// the memory guard that refuses new events above a share of maxmemory. It registers the API's publisher
// metrics (adly_api_events_total, adly_api_redis_*) and the guard's (adly_redis_memory_*) on the registry it is
// given.
//
// It never reads a stream, never trims, never touches MariaDB, and never answers 200 for a write Redis did
// not confirm.
package publish
