// Package worker owns the stream workers: a consumer-group daemon that reads every shard stream of one kind
// (impressions or clicks: the seed's single stream with STREAM_SHARDS=1 on one node, else
// keyspace.Names.Streams), counts their entries per (ad_id, date) into the kind's one daily table (filtered
// traffic per (ad_id, date, reason) into the table beside it), and acknowledges them — exactly once,
// whatever crashes in between. It also reclaims entries stuck with dead consumers, dead-letters poison
// entries, trims each stream behind consumption, and replays dates on request.
//
// It never writes to a stream other than a shard's dead-letter stream, never trims an entry some group still
// needs, and never acknowledges an entry before the commit that counted it (or the dead letter that replaced
// it).
//
// # Shards
//
// A process runs one Worker per shard stream (Shards): the whole loop below — read, batch, commit,
// acknowledge, reclaim, trim, dead-letter, maintenance — once per shard, in the kind's group name, under the
// process's one consumer name, each with its own metric series (label stream). Processes do not coordinate:
// each reads every shard, and each shard's consumer group shares that shard's entries among them. Every
// argument below is about one stream and holds for each shard as it stands, because a shard is a stream of
// its own in every place the argument looks: its own consumer group and pending list, its own replay epoch
// and dead letters (keys beside the stream, in its slot on a cluster), its own ledger rows and replays
// (stream_ledger and stream_replays are keyed by stream) and its own lock row in stream_locks (keyed by
// stream). Shards meet only in the daily tables, where commits add counts (commutative, and each entry is in
// one shard, so no entry is counted by two shards' commits) — except for replay, which deletes them: point 7.
//
// # The entries
//
// An entry's fields are ad_id (1…2147483647), ts (unix seconds) and, optionally, ivt. Without ivt the entry
// is valid traffic, counted in the daily table (ad_daily_impressions, ad_daily_clicks), as the seed's
// entries always were. With ivt it is traffic the API labelled invalid and still published, ivt saying why
// (prefetch, no_user_agent, headless, link_preview, crawler, non_browser): it is counted per (ad_id, date,
// reason) in the filtered table (ad_daily_impressions_filtered, ad_daily_clicks_filtered), never in the
// daily table. Any reason matching [a-z][a-z0-9_]{0,31} is accepted, so a rule the API adds later needs no
// change here; any other ivt value (empty, too long, another character) makes the entry poison, like a
// malformed ad_id. Valid traffic pays one map lookup for this and no allocation: the reason of filtered
// entries is kept beside the entry, shared by the entries of one read that give it.
//
// # Why counting is exactly once
//
// Acknowledging after the commit alone is at-least-once: a crash between COMMIT and XACK, or a slow consumer
// whose entries were reclaimed by another, delivers the same entries again and `count = count + n` counts them
// twice. So every commit also records, in the same MariaDB transaction, which entries it counted (the ledger,
// pkg/ledger), and skips the ones already recorded:
//
//  1. Every commit of a (stream, group) first locks that pair's row in stream_locks (SELECT … FOR UPDATE), so
//     the commits of one group happen one after another, and each sees (READ COMMITTED) every ledger row
//     committed before it.
//
//  2. Under the lock it reads the ledger rows overlapping the batch, drops the entries they vouch for, upserts
//     the rest and writes its own ledger rows (the ledger rows first, the daily rows every shard shares last,
//     so that they are locked for the least time), then commits. A batch read with '>' is a contiguous run of the
//     stream, delivered to no one else, so one row [first, last] covers it; entries re-read from the pending
//     list or reclaimed are not contiguous and get one row per ID. IDs are compared as numbers.
//
//  3. The commit is atomic: either the counts and the ledger rows are both in MariaDB, or neither is. Filtered
//     traffic changes nothing in this: its counts are upserted into the filtered table in the same
//     transaction as the valid counts and the ledger rows, and a ledger row vouches for entries by ID,
//     whichever table counted them. An entry is therefore counted by at most one commit — any later commit
//     of the same entry, by this consumer after a crash or by another that reclaimed it, finds the ledger row
//     and skips it — and it is acknowledged only after a commit that counted it or skipped it, so an entry
//     that was never counted stays pending and is delivered again (to this consumer on restart, which first
//     re-reads its own pending entries, or to another through XAUTOCLAIM). At least once plus at most once is
//     exactly once.
//
//  4. Pruning keeps the ledger small without breaking (3): a row is deleted only when it lies wholly below
//     the group's oldest pending entry (or below its last delivered one when nothing is pending) and below
//     the stream's oldest entry. Entries there were acknowledged and are gone from the stream, so neither the
//     group nor a replay can deliver them again; the ledger thus holds about one row per batch of the
//     RETAIN_ENTRIES kept for replay. Pruning takes the same lock, so no replay moves the group meanwhile.
//
//  5. Replay recounts from the midnight starting --from in TIMEZONE (the zone the workers count in now), and
//     must remove exactly the counts it makes the workers add again. Counts are removed by date — the
//     replay deletes the rows dated D0 or later, of the daily table and of its filtered table alike, since
//     the ledger rows it voids vouched for both kinds of entries — and re-admitted by instant — it records
//     that ledger rows written so far no longer vouch for entries whose ts is at or after T0 — so D0 and T0
//     must describe the same entries: the rows dated D0 or later must hold exactly the entries from T0 on. The
//     rows were dated in the zone in force when they were counted, which after a TIMEZONE change is not the
//     replay's. So every ledger row records the zone its commit dated in, and every replay its T0 and zone:
//     the rows' zones are then a sequence of spans of time (the zone of the ledger rows written before the
//     first recorded replay, then from each replay's T0 on its zone). Within a span a row's date grows with
//     ts and it does not go back at a span's start (checked, else the replay refuses), so with D0 the row
//     date of the midnight and T0 the first instant whose row date is D0, "dated D0 or later" is "ts at or
//     after T0". When the old zone's day D0 starts before the midnight (the day straddles it), T0 is that
//     earlier start: those entries are recounted too, under their dates in the new zone (the day before
//     --from). Then the group moves back to ReplaySlack before T0: re-delivered entries from T0 on are counted
//     again (once: the new commit writes new rows), earlier ones are still vouched for and skipped, and a
//     batch in flight during the replay is handled by the same rule whichever side of it it commits on.
//     Assumptions, stated where they can fail: the workers run with the replay's TIMEZONE (entries they count
//     in another zone after it break the spans); entries counted in a new zone before the replay that
//     records it have ts after the replay's T0 (replay from a date no later than the zone change); an entry's
//     ID is at most ReplaySlack before its ts. Ledger rows that name several zones before any replay (workers
//     with different TIMEZONE) make the replay refuse.
//
//  6. A replay that moves the group after a batch's COMMIT but before its XACK voids that batch's ledger
//     rows, and its entries are delivered again (to another consumer, or to this one). A late XACK — per
//     group, not per consumer — would remove them from whoever holds them now, who may then fail before its
//     commit, and nothing would deliver them again. So a replay moves the group and advances the group's
//     replay epoch in one script (setid.lua), a worker reads the epoch before each commit, and acknowledges
//     through a script (ack.lua) that acknowledges nothing when the epoch moved since. Either the replay
//     moved the group after the epoch was read — then the batch is not acknowledged, its entries stay pending
//     and come back, and are counted again if the replay voided their rows, skipped if it did not — or
//     before, and then it also committed before the batch's commit took the lock, so the batch's ledger rows
//     are newer than the replay and the acknowledgement is right.
//
//  7. With several shards, the daily rows of a date hold entries of every shard, so a replay's DELETE of the
//     rows dated D0 or later removes every shard's counts, and must be paired with the voiding and the reset
//     of every shard. Done shard after shard (each under its own lock row) it loses counts: shard A is reset,
//     its workers recount A's entries into the rows, then B's replay deletes those rows again — and A's new
//     ledger rows, written after A's replay, are not voided by B's (it voids B's rows only), so A's entries
//     are never counted again (TestShardedReplayRecountsExactly fails so when it replays shard after shard).
//     So a replay is one MariaDB transaction (ledger.Shards.Replay) that takes every shard's lock row, in the order of the stream names,
//     then plans each shard from that shard's own ledger, deletes the rows from D0 once, records each shard's
//     replay (voiding that shard's ledger rows for ts ≥ its T0) and resets each shard's group (setid.lua:
//     its group and epoch), and commits. While it holds the lock rows no commit of the kind is in progress
//     (a commit takes its shard's lock row before anything else), so every commit is wholly before the
//     replay — its counts are deleted by it and its ledger rows voided — or wholly after — its rows are newer
//     than the replay and stand, and the rows it adds are deleted by no part of the replay. For each shard
//     taken alone this is point 5 and 6 as they stand; the plans must agree on D0 (they differ only when
//     the shards' ledgers name different zones, and the replay then refuses), while T0 may differ per shard
//     ("the rows dated D0 or later hold exactly the entries from T0 on" is a statement about each shard's own
//     entries, and each shard voids from its own T0). The lock rows are taken in one order by every replay,
//     and a commit or a prune takes one lock row only, so lock waits form no cycle; the rows are created
//     before the transaction, since two transactions inserting the same missing row can deadlock. If a
//     reset fails after other shards' groups moved, the transaction rolls back: those groups re-deliver
//     entries their ledgers still vouch for, which are skipped (as when the single stream's check fails).
//
// # Faults other than crashes
//
//   - MariaDB unreachable (or failing) for any time: the commit fails and rolls back, nothing is
//     acknowledged, and the worker backs off (up to 10 s) and re-reads its own pending entries. Re-reading
//     raises their delivery counts, so the delivery count is not taken as the entry's fault: an entry
//     delivered more than MAX_DELIVERIES times is committed like any other (the ledger skips it if a commit
//     already counted it, e.g. one whose XACK failed) and is dead-lettered only when MariaDB rejects its
//     data (SQLSTATE class 22, mariadb.IsDataError): the batch is then committed without such entries and each
//     of them alone, one MariaDB still rejects being dead-lettered (those entries were re-read from the
//     pending list, so their ledger rows are one per entry and the separate commits vouch for no more than
//     they counted). An
//     outage thus ends in exact counts with nothing dead-lettered (TestMariaDBOutageDeadLettersNothing: two
//     minutes, two worker processes at default settings).
//   - Redis unreachable: reads, commits' acknowledgements and trims fail; nothing is acknowledged that was
//     not committed, and a commit whose acknowledgement failed is skipped by the ledger when it comes back.
//   - A process frozen (SIGSTOP, a paused VM) in the middle of a commit holds the group's lock row; MariaDB
//     rolls its transaction back after DB_IDLE_TX_TIMEOUT, so its peers wait at most that long. Its entries
//     are reclaimed by the others after CLAIM_MIN_IDLE; when it wakes, its commit fails or is skipped by the
//     ledger, and its acknowledgement is harmless: the entries were counted by whichever commit came first.
//   - A shutdown or a slow batch: an entry is held at most BatchTimeout (= SHUTDOWN_TIMEOUT) from the reply
//     that delivered it to its acknowledgement — entries read ahead count from their own read, not from the
//     start of their handling, and a short read's BATCH_WAIT is spent inside that bound (BATCH_WAIT <
//     SHUTDOWN_TIMEOUT) — so CLAIM_MIN_IDLE > SHUTDOWN_TIMEOUT keeps a live worker's entries its own. Waiting
//     changes only when a batch is committed, never what it counts: the entries gathered are pending to
//     this consumer like any others, and its ledger rows are one per read.
//   - Redis full (noeviction at maxmemory): reading, acknowledging, dead-lettering and trimming are not
//     refused for memory, the group is created on a full Redis when its stream exists, and above the memory
//     guard consumed entries are trimmed whatever RETAIN_ENTRIES says (never an unconsumed one).
//
// Poison entries (a missing or malformed ad_id or ts, or an ivt that is not a reason) are not counted: a Lua script acknowledges each and,
// only if that acknowledgement removed it from the pending list, adds it to "<stream>:dead" — so a dead
// letter is written once even when two consumers hold the entry.
package worker
