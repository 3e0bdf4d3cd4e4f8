// Package pathsync owns the path syncer: it moves the path hit counters (analytics:hit:<path>, written by the
// API, the tracking middleware or any producer that follows the key format) from Redis into path_counters,
// so that no hit is lost or counted twice, whatever fails: the syncer killed or frozen at any moment, MariaDB
// or Redis unreachable, Redis full.
//
// It never reads a counter and deletes it in two steps (hits arriving in between would be lost), never uses
// KEYS, never drops a key it cannot sync (such keys are parked under analytics:parked:<path>), and never
// changes anything in Redis without holding the sync lock: every step that moves, parks or finishes is a
// script fenced by the lock's owner token.
//
// # The steps
//
//  1. Lock: SET NX PX of a fresh random token (an allow-oom script), renewed every SYNC_LOCK_TTL/3 by a
//     script that extends it only if it still holds the token, released the same way.
//  2. Move: hitmove.lua checks GET lock == token, then reads and deletes each counter and appends its value
//     to a staging record tagged with a chunk id, registering the id in a pending set, atomically. A hit
//     after the move creates a new counter that the next sync takes. Every hit is thus in exactly one place:
//     its counter, or one chunk's staging.
//  3. Commit: the chunk's counts are added to path_counters and the chunk id is inserted into path_sync_log
//     (primary key) in one MariaDB transaction: both or neither.
//  4. Finish: a script checks the token, then deletes the staging record and the pending entry.
//  5. Recover: every sync, once it holds the lock, first commits each pending chunk from its staging
//     record. A chunk whose id is already in path_sync_log was committed before and is only finished.
//
// When a fenced script finds another token (or none), it changes nothing and answers LOCKLOST
// (ErrLockLost); the sync then stops at once, as it does when a renewal finds the lock gone. Nothing but the
// lock bounds a sync that runs normally: it may take as long as the data needs. On SIGTERM the sync in
// progress gets SHUTDOWN_TIMEOUT from the signal, then stops (Run).
//
// # Why the commits are exact
//
// Three facts, whatever happened to the syncers:
//
//   - A chunk's staging record is final once its sync has lost the lock. Chunk ids are fresh per sync and
//     only the sync that made an id moves into it, by a script that checks the lock in the same atomic step.
//   - The next owner sees every chunk a previous owner staged: each of those moves ran in Redis before the
//     lock changed hands (it checked the lock), and the next owner reads the pending set after taking it.
//   - The counts a sync holds in memory for a chunk it hands to a committer equal that chunk's staging record:
//     it hands a chunk over only after every move into it has answered; a move whose answer was lost ends the
//     sync before its chunk is handed over, and the chunk is left to recovery.
//
// So every commit of a chunk id, by its own sync from memory or by any recovery from staging, carries the
// same counts (a recovery reads the record only when it holds the lock, i.e. after it became final), and
// path_sync_log's primary key lets exactly one of them in: a second insert of the id waits for the first
// transaction's row, then finds a duplicate (and changes nothing), or takes the row if the first rolled back.
// A chunk is finished only after a commit of it has succeeded or found it committed, so dropping its staging
// never drops uncommitted hits. A committed chunk stays in path_sync_log until it is older than
// logRetention (7 days, pruned only after a sync that finished every pending chunk), and a commit whose
// counts left Redis more than commitWindow (1 day) earlier is refused inside the statement that inserts the
// log row (pathtable.ErrChunkTooLate), so a syncer frozen for days cannot commit a chunk a second time after its
// row was pruned. (The one case this does not cover: a chunk committed and then left unfinished for more
// than 6 days, i.e. Redis unreachable that long, and read by a recovery that is then frozen for days.)
//
// # Per fault
//
//   - SIGKILL at any step: a move is atomic, so the chunk is either staged and pending or not moved at all;
//     a commit is one transaction; a chunk killed between commit and finish has its log row. The lock
//     expires after SYNC_LOCK_TTL and the next sync recovers every pending chunk, exactly (crash_test.go).
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
//     stops. (faults_test.go freezes a syncer past its lock four times during large syncs while another runs.)
//   - MariaDB unreachable: a commit fails, the sync cancels its moves and returns the error; what it staged
//     stays pending (at most a few chunks) and the next sync recovers it. Hits keep arriving in new counters.
//   - Redis unreachable: nothing moves; a step whose answer was lost may have run (a pending chunk, recovered
//     next time; a finish not done, redone next time). If the outage outlasts the lock, it is the pause case.
//   - Redis full (noeviction at maxmemory): every step still runs, since syncing is what frees memory. The
//     lock is an allow-oom script (a few bytes); hitmove.lua calls no command that may grow memory before the
//     DEL that frees the counters, and its staging record is smaller than them; recovery only reads; finish
//     and release only delete (a MULTI/EXEC would be refused whole there). faults_test.go syncs a Redis
//     filled with counters to its maxmemory.
//   - SIGTERM: the sync in progress finishes within SHUTDOWN_TIMEOUT of the signal or stops (its context
//     ends, a MariaDB transaction in progress rolls back); the next sync recovers what it staged.
//   - What Redis itself loses (a server crash with appendfsync everysec loses up to a second of writes) is
//     outside this argument: a lost move can bring back counters whose chunk was committed.
package pathsync
