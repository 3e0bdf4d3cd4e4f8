// Package keyspace owns the names of adly's Redis keys: the streams and their consumer groups, the path hit
// counters, the syncer's lock, staging and pending records, the publisher's receipts, remembered event_ids
// and new-path budgets, the cluster slot tags that keep one script call's keys in one slot, and the shards
// each kind's stream may be split into (STREAM_SHARDS), whose hash tags are chosen by slot so that a cluster
// spreads them evenly over its masters (ShardTags). It is the contract between the stages: the API writes
// under these names, the workers and the syncer read under them, and the operator tools inspect them.
//
// Names take an optional prefix (none by default, so they are exactly the seed's) so that tests and several
// deployments can share one Redis without colliding. It never talks to Redis.
package keyspace
