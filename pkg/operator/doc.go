// Package operator owns adly's operator commands (cmd/adly): inspect, one screen (or one JSON document) of
// where events are — the streams (every shard of each kind, and each kind's total) and their consumer
// groups, dead letters, path hits waiting in Redis, and what MariaDB has counted for a day, filtered traffic
// apart — and replay, which recounts every date from a given one on, on every shard of the kind at once,
// through package worker's ReplayShards.
//
// It reaches Redis and MariaDB only through the packages the services use (keyspace for every name,
// redisconn and mariadb for the clients, stream, hits, ledger and pathtable for every command and query),
// so what it shows is what the services see. It never writes, except replay, which changes exactly what
// worker.ReplayShards changes.
package operator
