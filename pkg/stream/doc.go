// Package stream owns the consumer side of one Redis stream: its consumer group (create, read, claim,
// acknowledge), the replay epoch that makes an acknowledgement after a replay a no-op, dead letters
// (<stream>:dead), trimming that keeps every entry some group still needs, the removal of idle consumers, and
// the checks of Redis settings a stream store needs. The steps that must work on a full Redis (creating the
// group, acknowledging, dead-lettering, trimming) are commands or scripts Redis does not refuse for memory
// (the worker's full-Redis tests run them on one); an acknowledgement whose MULTI a full Redis refuses falls
// back to a script.
//
// A Group is one stream: with STREAM_SHARDS one of a kind's shards. Every command and script of it names the
// stream and keys built by appending to its name (its dead letters, its replay epoch), so on a Redis Cluster,
// where a shard's name carries its hash tag, they all stay in the shard's slot.
//
// Entries are the API's: fields ad_id and ts, and ivt (a reason token) on filtered traffic; this package
// hands them over as Redis gives them. It never decides what an entry counts for — valid or filtered
// traffic, or poison — and never touches MariaDB: the worker does the first, the ledger the second.
package stream
