// Package publish owns the API's side of Redis: a coalescing publisher that writes each request's events
// (stream entries for impressions and clicks, INCRs of path hit counters) with one Lua script call per
// flush and slot, a receipt per call so that a lost reply is resolved truthfully (stored, not stored, or
// "did not confirm"), the event_id check that stores an event once, the budget of new path counters a
// minute, the classification of Redis errors into the API's answers, the clock-offset probe, and the memory
// guard that refuses new events above a share of maxmemory. It registers the API's publisher metrics
// (adly_api_events_total, adly_api_duplicate_events_total, adly_api_redis_*) and the guard's
// (adly_redis_memory_*) on the registry it is given.
//
// It never reads a stream, never trims, never touches MariaDB, and never answers 200 for a write Redis did
// not confirm.
//
// # Invalid traffic
//
// An impression or click whose Event.Invalid is set (a reason such as "crawler") is written with a third
// field, ivt <reason>, after ad_id and ts; the workers count it apart. Valid events are written with ad_id and
// ts only, as always. Hits are never invalid traffic (the API drops invalid hits): Publish refuses one with
// event.ErrInvalid.
//
// # Event ids
//
// An event with an event_id (Event.ID) is stored at most once within EventIDTTL (EVENT_ID_TTL, an hour by
// default). publish.lua checks it in the same script call that writes the event: it reads the key
// keyspace.Names.EventID(id), which holds the stream ID of the first write ("h" for a hit); when it is there
// the event is not written again and its answer is that stream ID (a hit's is "" as always), otherwise the
// event is written and the key set to its stream ID with the lifetime EventIDTTL, counted from the first
// write. Two events with one event_id in one call (a batch that repeats it, or a retry that shares a flush
// with the original) are one: the second finds the first's claim. An event_id names one event whatever its
// type: an event that repeats a hit's event_id is not written and its stream ID is "". Repeated events are
// counted in adly_api_duplicate_events_total, and still in adly_api_events_total, which counts accepted events.
//
// Memory: Redis holds one key per event_id for EventIDTTL. Measured on Redis 7.0.15 (TestEventIDMemory: the
// used_memory of 100,000 impressions with a UUID event_id each, less that of 100,000 without, through the real
// script): about 196 bytes per id. MEMORY USAGE of one key says 136 (key, stream ID, entry); the rest is its
// expiry entry and its share of the two hash tables. Size Redis with
//
//	memory ≈ events with an event_id per second × EVENT_ID_TTL in seconds × 200 bytes
//
// so 1,000 such events a second kept for an hour take about 720 MB, and REDIS_MEMORY_GUARD refuses events once
// they fill Redis.
//
// # New paths
//
// NewPathsPerMinute (NEW_PATHS_PER_MINUTE) bounds the path counters hits may create in one minute. A hit on a
// counter that does not exist creates one; several hits on one new path in a request use one unit; hits on
// counters that exist use none, nor do impressions and clicks. publish.lua keeps the minute's count in
// keyspace.Names.NewPaths(minute) (INCRBY, expiring after two minutes); a request whose hits would create more
// counters than the minute has left is refused as a whole, nothing of it written, with a *NewPathsError
// (ErrTooManyNewPaths, and when the next minute starts, for Retry-After). The minute is the Redis clock's as
// the publisher estimates it, so API processes share one count.
//
// The requests of a flush still share one script call: with a budget, each request with hits is a group of
// its own in the call (requests without hits are group 0, never refused), and the script decides group by
// group, before its first write, which to refuse; a refused group's event_ids are not remembered, so a retry
// in a later group of the same call is written. The reply (and the receipt) lists the refused groups, so a
// lost reply is resolved to the same answers. One call per request with hits, each with its own receipt,
// would do the same at the cost of a script run and a receipt key per request.
//
// The common case, a call of impressions and clicks without event_id or ivt and hits without a budget, keeps
// the script's plain layout and costs what it did: one XADD per entry and nothing else per entry.
//
// # Redis Cluster
//
// Every key of a script call must be in the call's hash slot. Event-id and budget keys carry the call's slot
// as a hash tag (keyspace.SlotTag), as receipts do, so an event_id is remembered per slot: per stream for
// impressions and clicks, per path's slot for hits; a retry repeats its event's type and path, so it lands on
// the same key. TODO(cluster): the new-path budget is kept per slot, so on a cluster it bounds new counters
// per slot, not in total, and a request whose events span slots may be refused in one slot and written in
// another; it is then answered ErrUnconfirmed (part of it was stored), not ErrTooManyNewPaths. A total bound
// needs a budget on one node, taken before the write.
package publish
