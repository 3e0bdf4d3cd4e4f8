// Package hits owns the path hit counters in Redis (analytics:hit:<path>, and analytics:hit{<tag>}:<path>
// written under a hash tag on a cluster): incrementing them (for the tracking middleware), and the syncer's
// side of them: the sync lock with its owner token, the claim of the staged state (on a cluster, every hash
// slot's fence, ordered by epoch), scanning the counters (every master of a cluster), moving them atomically
// into a staging record per chunk (every move, park and finish fenced), parking keys that are not valid
// paths, and listing what a sync left pending. On a cluster every script it runs touches the keys of one hash
// slot (a group, groups.go); on a single Redis everything is one group under the seed's names.
//
// It never touches MariaDB: package pathsync commits what it stages, through package pathtable.
package hits
