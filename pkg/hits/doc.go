// Package hits owns the path hit counters in Redis (analytics:hit:<path>): incrementing them (for the
// tracking middleware), and the syncer's side of them: the sync lock with its owner token, scanning the
// counters, moving them atomically into a staging record per chunk (every move and finish fenced by the lock
// token), parking keys that are not valid paths, and listing what a sync left pending.
//
// It never touches MariaDB: package pathsync commits what it stages, through package pathtable.
package hits
