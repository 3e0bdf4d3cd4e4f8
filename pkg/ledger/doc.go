// Package ledger owns the exactly-once bookkeeping of the stream workers in MariaDB: the daily tables
// (ad_daily_impressions, ad_daily_clicks: valid traffic) and their filtered tables (…_filtered: traffic the
// API labelled invalid, per reason), the ledger of stream ID ranges already counted (stream_ledger),
// the per-(stream, group) lock row every commit takes (one per shard stream), the replays that void the
// ledger from a date on (stream_replays) — for a kind split over shards, every shard's in one transaction
// that holds all their lock rows and clears the dates once (Shards.Replay) — and the pruning of ledger rows
// no consumer can need. Package worker gives the argument
// that this makes every entry count once.
//
// It never talks to Redis: it is handed entries and ID ranges, and says what it counted.
package ledger
