// Package pathsync owns the path syncer: it moves the path hit counters (analytics:hit:<path>, written by the
// API, the tracking middleware or any producer that follows the key format, and analytics:hit{<tag>}:<path>,
// written under a hash tag on a Redis Cluster) from Redis into path_counters, so that no hit is lost or
// counted twice, whatever fails: the syncer killed or frozen at any moment, MariaDB or Redis unreachable,
// Redis full. It works on a single Redis and on a Redis Cluster alike.
//
// It never reads a counter and deletes it in two steps (hits arriving in between would be lost), never uses
// KEYS, never drops a key it cannot sync (such keys are parked under analytics:parked:<path>), and never
// changes staged state in Redis without being its owner: every step that moves, parks or finishes is a
// script fenced by the owner's fence value (the sync lock's token, or on a cluster the slot's fence, which
// the lock's holder claims).
//
// # Groups: one Redis, or a cluster's hash slots
//
// A script may touch only keys of one hash slot on a cluster, so package hits works per group of keys: a
// group is a hash slot on a cluster, and everything on a single Redis (group 0, the seed's untagged names).
// Each group has its own staged state, named with the group's hash tag (keyspace.SlotTag): a pending set
// analytics:sync:pending{<tag>}, staging records analytics:sync:staging{<tag>}:<chunk id>, parked keys
// analytics:parked{<tag>}:<path>, and a fence analytics:sync:fence{<tag>}. On a single Redis the names are
// the untagged ones and the fence is the sync lock itself. A chunk is a unit of the commit (one MariaDB
// transaction, one path_sync_log row) and may hold counters of many slots: it has a part (a staging record
// and an entry in the pending set) in each slot it moved counters from. Counters written untagged are
// scattered over all 16384 slots, so a chunk formed by slot would hold a handful of paths: chunks are formed
// by path range, as on a single Redis, and only the Redis steps are per slot (pipelined, every master at
// once).
//
// # The steps
//
//  1. Lock: SET NX PX of a fresh random token (an allow-oom script), renewed every SYNC_LOCK_TTL/3 by a
//     script that extends it only if it still holds the token, released the same way. The lock keeps two
//     syncers from working at once; the fences below are what makes a late step of an old one harmless.
//  2. Claim: on a single Redis the lock is the fence and the fence value is the token; the owner reads the
//     pending set. On a cluster the owner takes a new epoch (INCR analytics:sync:epoch, allow-oom), and its
//     fence value is "<epoch>-<token>"; then, for each of the 16384 slots, one allow-oom script sets the
//     slot's fence to that value and returns the slot's pending set, atomically. A fence that holds a later
//     epoch is not taken back (the claim answers LOCKLOST), so a syncer that wakes late cannot take slots
//     from the lock's current owner. Claim returns each pending chunk with the slots that hold its parts.
//  3. Recover: the owner commits each pending chunk from its staging records (all its parts) before moving
//     anything. A chunk whose id is already in path_sync_log was committed before and is only finished.
//  4. Move: the counters of every master are scanned (SCAN on each, never KEYS); for each slot among a
//     page's keys, hitmove.lua checks GET fence == value, then reads and deletes each counter and appends
//     its value to the chunk's staging record in that slot, registering the chunk id in that slot's pending
//     set, atomically. A hit after the move creates a new counter that the next sync takes. Every hit is thus
//     in exactly one place: its counter, or one chunk part's staging.
//  5. Commit: the chunk's counts (the sum of its parts) are added to path_counters and the chunk id is
//     inserted into path_sync_log (primary key) in one MariaDB transaction: both or neither.
//  6. Finish: in each slot of the chunk a script checks the fence, then deletes the part's staging record
//     and its pending entry.
//
// When a fenced script finds another value in its fence (or none), it changes nothing and answers LOCKLOST
// (ErrLockLost); the sync then stops at once, as it does when a renewal finds the lock gone. Nothing but the
// lock bounds a sync that runs normally: it may take as long as the data needs. On SIGTERM the sync in
// progress gets SHUTDOWN_TIMEOUT from the signal, then stops (Run).
//
// # Why the commits are exact
//
// Three facts, whatever happened to the syncers. "The fence of a slot" is the sync lock on a single Redis.
//
//   - A chunk's part in a slot is final once that slot's fence no longer holds its sync's value. Chunk ids
//     are fresh per sync and only the sync that made an id moves into it, by a script that checks the fence
//     of the slot it writes in, in the same atomic step.
//   - The next owner sees every part a previous owner staged, in every slot: each of those moves ran in
//     Redis before the fence of its slot changed hands (it checked the fence), and the next owner reads each
//     slot's pending set in the very script that takes the slot's fence. It claims every slot, not only
//     those it will move in, and recovers only after every claim has answered: so when it reads a chunk's
//     parts, each of them is final, and no part can appear later in a slot it has not claimed (a chunk
//     recovered from some of its parts while its old owner could still add one elsewhere would lose that
//     part's hits: its commit would find the log row).
//   - The counts a sync holds in memory for a chunk it hands to a committer equal the sum of that chunk's
//     parts: it hands a chunk over only after every move into it has answered; a move whose answer was lost
//     (or refused in some slot) ends the sync before its chunk is handed over, and the chunk is left to
//     recovery.
//
// So every commit of a chunk id, by its own sync from memory or by any recovery from staging, carries the
// same counts (a recovery reads the parts only after it claimed every slot, i.e. after they became final), and
// path_sync_log's primary key lets exactly one of them in: a second insert of the id waits for the first
// transaction's row, then finds a duplicate (and changes nothing), or takes the row if the first rolled back.
// A chunk is finished only after a commit of it has succeeded or found it committed, so dropping its staging
// never drops uncommitted hits; a finish cut off after some slots leaves parts that the next recovery finds
// committed (the log row) and only finishes. A committed chunk stays in path_sync_log until it is older than
// logRetention (7 days, pruned only after a sync that finished every pending chunk), and a commit whose
// counts left Redis more than commitWindow (1 day) earlier is refused inside the statement that inserts the
// log row (pathtable.ErrChunkTooLate), so a syncer frozen for days cannot commit a chunk a second time after its
// row was pruned. (The one case this does not cover: a chunk committed and then left unfinished for more
// than 6 days, i.e. Redis unreachable that long, and read by a recovery that is then frozen for days.)
//
// # Per fault
//
//   - SIGKILL at any step: a move (per slot) is atomic, so each part is either staged and pending or not
//     moved at all; a commit is one transaction; a chunk killed between commit and finish has its log row.
//     The lock expires after SYNC_LOCK_TTL and the next sync recovers every pending chunk, exactly
//     (crash_test.go; cluster_test.go on a Redis Cluster).
//   - SIGSTOP, a GC pause, a frozen VM or a partition from Redis past SYNC_LOCK_TTL: another syncer may take
//     the lock and recover the frozen one's pending chunks. When the frozen one wakes, each of its moves,
//     parks and finishes is refused (ErrLockLost) and it stops; the chunks it had handed to its committers
//     may still be committed (by the facts above, either commit is exact and only one counts). Frozen right
//     after a move: the chunk is pending, the new owner commits its final record. Frozen between commit and
//     finish: the new owner finds the log row and only finishes. Frozen inside a MariaDB transaction: its row
//     locks make the new owner's commits of the same rows or chunk id wait; MariaDB rolls the frozen
//     transaction back once it has been idle DB_IDLE_TX_TIMEOUT (10 s, mariadb.Open's
//     idle_write_transaction_timeout), and the wait ends then. Since the lock changes hands no sooner than
//     two thirds of SYNC_LOCK_TTL (40 s) after the freeze (it was renewed at most a third before), with the
//     defaults the frozen transaction is rolled back before any other syncer can start. Without that setting (MySQL) each waiting statement gives up after
//     innodb_lock_wait_timeout (50 s by default), CommitChunk retries 5 times, and the sync then fails and
//     the next one tries again. The thawed syncer's own commit then fails (its connection is gone) and it
//     stops. (faults_test.go freezes a syncer past its lock four times during large syncs while another runs;
//     cluster_test.go does the same on a Redis Cluster.) On a cluster the thawed syncer's steps are refused
//     by the fences the new owner claimed; if it was frozen between taking its epoch and claiming, its
//     claims meet fences of a later epoch and are refused too, so it cannot take slots back.
//   - MariaDB unreachable: a commit fails, the sync cancels its moves and returns the error; what it staged
//     stays pending (at most a few chunks) and the next sync recovers it. Hits keep arriving in new counters.
//   - Redis unreachable: nothing moves; a step whose answer was lost may have run (a pending chunk, recovered
//     next time; a finish not done, redone next time). If the outage outlasts the lock, it is the pause case.
//   - Redis full (noeviction at maxmemory): every step still runs, since syncing is what frees memory. The
//     lock is an allow-oom script (a few bytes), and so are the epoch and the claims (on a cluster: a fence of
//     some 80 bytes per slot, written the first time, overwritten in place after that; fences expire a week
//     after the last claim); hitmove.lua calls no command that may grow memory before the DEL that frees the
//     counters, and a script that has written may go on (on a single Redis its staging record is smaller than
//     the counters; on a cluster a part that holds one untagged counter may be larger, so memory may pass
//     maxmemory by that much until the chunk is finished); recovery only reads; finish and release only
//     delete (a MULTI/EXEC would be refused whole there). faults_test.go syncs a single Redis filled with
//     counters to its maxmemory.
//   - SIGTERM: the sync in progress finishes within SHUTDOWN_TIMEOUT of the signal or stops (its context
//     ends, a MariaDB transaction in progress rolls back); the next sync recovers what it staged.
//   - Cluster changes while a sync runs: a failover or a resharding during the scan may hide keys from this
//     sync's SCAN (they wait for the next) or make a step fail (the sync fails; the next recovers). A slot
//     that moves keeps its keys, fence included, so the fence argument holds on its new master.
//   - What Redis itself loses (a server crash with appendfsync everysec loses up to a second of writes, a
//     failover loses what the replica had not received) is outside this argument: a lost move can bring back
//     counters whose chunk was committed, and a lost claim or fence write can let an old owner's step
//     through.
package pathsync
