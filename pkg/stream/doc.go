// Package stream owns the consumer side of one Redis stream: its consumer group (create, read, claim,
// acknowledge), the replay epoch that makes an acknowledgement after a replay a no-op, dead letters
// (<stream>:dead), trimming that keeps every entry some group still needs, the removal of idle consumers, and
// the checks of Redis settings a stream store needs. Each step that must work on a full Redis is a script
// that Redis allows under maxmemory.
//
// It never decides what an entry counts for and never touches MariaDB: the worker does the first, the
// ledger the second.
package stream
