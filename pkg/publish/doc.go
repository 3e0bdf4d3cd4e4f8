// Package publish owns the API's side of Redis: a coalescing publisher that writes each request's events
// (stream entries for impressions and clicks, INCRs of path hit counters) with one Lua script call per flush
// and stream shard (or slot), the choice of each event's shard, a receipt per call so that a lost reply is
// resolved truthfully (stored, not stored, or "did not confirm"), the event_id check that stores an event
// once, the budget of new path counters a minute, the WAIT for replicas (REDIS_WAIT_REPLICAS), the
// classification of Redis errors into the API's answers, the clock-offset probe, and the memory guard that
// refuses new events above a share of maxmemory. It registers the API's publisher metrics
// (adly_api_events_total, adly_api_duplicate_events_total, adly_api_redis_*) and the guard's
// (adly_redis_memory_*) on the registry it is given.
//
// It never reads a stream, never trims, never touches MariaDB, and never answers 200 for a write Redis did
// not confirm (nor, with REDIS_WAIT_REPLICAS, one its replicas did not confirm).
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
// The requests of a flush (of one shard) still share one script call: with a budget, each request with hits is a group of
// its own in the call (requests without hits are group 0, never refused), and the script decides group by
// group, before its first write, which to refuse; a refused group's event_ids are not remembered, so a retry
// in a later group of the same call is written. The reply (and the receipt) lists the refused groups, so a
// lost reply is resolved to the same answers. One call per request with hits, each with its own receipt,
// would do the same at the cost of a script run and a receipt key per request.
//
// The common case, a call of impressions and clicks without event_id or ivt and hits without a budget, keeps
// the script's plain layout and costs what it did: one XADD per entry and nothing else per entry.
//
// # Shards
//
// With sharded names (keyspace.Names.Shards() > 1, or any names on a cluster: keyspace.Names.OnCluster, as
// redisconn.Names gives them) every impression and click goes to one shard of its kind's stream, and every
// hit to its path's counter tagged with that shard's tag (keyspace.Names.TaggedHitKey): a flush makes one
// script call per shard it reaches, and each call touches only that shard's slot (its streams, tagged hit
// counters, event-id keys, new-path budget and receipt, all under the shard's tag). The shard of an event:
//
//   - with an event_id, the shard its event_id hashes to (FNV-1a modulo the shard count), so that a retry,
//     from any API process, alone or in another batch, meets the event-id key of the first write. Changing
//     STREAM_SHARDS moves event_ids to other shards: a retry across the change may be stored twice;
//   - without, the request's shard, chosen round-robin per request (a per-process counter with a random
//     start), so that requests spread evenly and a request without event_ids touches one shard.
//
// A request whose events go to several shards (a batch with event_ids) is written by several calls, each
// atomic on its own, and answered by what they all did (settle): its IDs when every call stored its part;
// the error of a call when none stored anything (ErrUnavailable, ErrRejected, ErrTooManyNewPaths: nothing
// was stored, a retry is safe); ErrUnconfirmed when some stored their part and others did not, or may have
// (a retry of its events with event_ids stores only what is missing; without, it may store some twice). A
// call's reply lost is resolved by its own receipt, so one lost reply does not taint the requests of the
// other calls. The calls of one flush go in one pipeline, which a cluster client sends to its nodes in
// parallel.
//
// The new-path budget is kept per shard, in the shard's slot: each shard may create NewPathsPerMinute / n
// counters a minute (rounded up), so that together they create about NewPathsPerMinute. A request whose
// hits span shards (hits with event_ids) may be refused in one shard and written in another; it is then
// answered ErrUnconfirmed (part of it was stored), not ErrTooManyNewPaths.
//
// With one shard on a single node the names are the seed's, and a flush is one script call as it always
// was; the common path costs what it did (no allocation per request more).
//
// # Redis Cluster
//
// Every key of a script call must be in the call's hash slot. With sharded names (always on a cluster, from
// redisconn.Names) that is the shard's slot. A cluster client given the seed's untagged names (which no
// binary does) makes one call per slot its keys fall in, its event-id and budget keys carrying the slot's
// tag (keyspace.SlotTag); the answers are settled alike.
//
// # Replication (REDIS_WAIT_REPLICAS)
//
// Redis acknowledges a write before its replicas have it. With WaitReplicas 0 (the default) a request is
// answered 200 once its master stored it, so a master that fails before replicating loses writes that were
// answered 200: a failover promotes a replica that never had them. Redis 7.0 (the version adly is built and
// tested on) has no WAITAOF, so the API cannot wait for a write to reach the append-only file either; WAIT
// on replicas is the only confirmation there is.
//
// With WaitReplicas n > 0 every script call is followed, on the same connection, by WAIT n WaitTimeout
// (WAIT counts the replicas that acknowledged every earlier write of its connection). A single node's
// pipeline is one connection; on a cluster the calls go to their slot's master as go-redis's slot map knows
// it (ClusterClient.MasterForKey), one pipeline per master, the masters in parallel, since a cluster
// pipeline would send a keyless WAIT to a node of its choosing. A request is answered with its IDs only when
// the WAIT of every call that stored part of it says at least n replicas have it; otherwise (fewer within
// WaitTimeout, WAIT failed, or the reply was lost and the receipt found) it gets ErrUnconfirmed saying that
// the events were stored on the master but not confirmed by its replicas, so they may or may not survive a
// failover; it is counted in adly_api_redis_wait_total{outcome} and adly_api_redis_errors_total{reason=
// "not_replicated"}, and its events are not counted as accepted. A node that no longer serves a call's slot
// (a failover moved it) answers MOVED and runs nothing: that call failed, nothing of it was stored, and the
// slot map is reloaded. The script's cutoff comes WaitTimeout earlier, so the WAIT ends before the request's
// deadline. Even a confirmed write is lost if the master and its n confirming replicas all fail.
package publish
