// Package pathtable owns path_counters and path_sync_log in MariaDB: committing a staged chunk of path
// counts exactly once (keyed by its sync id, refused when older than the caller's bound), and pruning old log
// rows. It never talks to Redis: package pathsync hands it the chunks package hits staged.
package pathtable
