package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"
)

// PathCounts is the path_counters table and its sync log.
type PathCounts struct {
	db *sqlx.DB
}

// NewPathCounts returns the table over db.
func NewPathCounts(db *sqlx.DB) *PathCounts { return &PathCounts{db: db} }

// CommitChunk adds a sync chunk's counts (path -> hits; the Redis value is the increment) to path_counters
// and records the chunk's id, in one transaction. It returns false, changing nothing, when the chunk was
// committed before (a crashed sync that is being finished).
func (p *PathCounts) CommitChunk(ctx context.Context, syncID string, counts map[string]int64) (bool, error) {
	for attempt := 1; ; attempt++ {
		ok, err := p.commitChunk(ctx, syncID, counts)
		if err == nil || !retryable(err) || attempt == 5 {
			return ok, err
		}
		time.Sleep(time.Duration(attempt) * 20 * time.Millisecond)
	}
}

func (p *PathCounts) commitChunk(ctx context.Context, syncID string, counts map[string]int64) (bool, error) {
	tx, err := p.db.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return false, fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	var hits int64
	for _, n := range counts {
		hits += n
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO path_sync_log (sync_id, paths, hits) VALUES (?, ?, ?)", syncID, len(counts), hits); err != nil {
		var me *mysql.MySQLError
		if errors.As(err, &me) && me.Number == 1062 {
			return false, nil // committed by an earlier run
		}
		return false, fmt.Errorf("record sync %s: %w", syncID, err)
	}
	paths := make([]string, 0, len(counts))
	for path := range counts {
		paths = append(paths, path)
	}
	slices.Sort(paths) // key order: concurrent upserts cannot deadlock
	for start := 0; start < len(paths); start += chunkRows {
		part := paths[start:min(start+chunkRows, len(paths))]
		var q strings.Builder
		q.WriteString("INSERT INTO path_counters (path, hit_count, created_at, updated_at) VALUES ")
		args := make([]any, 0, 2*len(part))
		for i, path := range part {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteString("(?,?,NOW(),NOW())")
			args = append(args, path, counts[path])
		}
		q.WriteString(" ON DUPLICATE KEY UPDATE hit_count = hit_count + VALUES(hit_count), updated_at = VALUES(updated_at)")
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return false, fmt.Errorf("upsert path_counters: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("commit sync %s: %w", syncID, err)
	}
	return true, nil
}

// PruneLog deletes sync log rows older than age: a chunk is finished (its staging dropped) long before.
func (p *PathCounts) PruneLog(ctx context.Context, age time.Duration) (int64, error) {
	res, err := p.db.ExecContext(ctx, "DELETE FROM path_sync_log WHERE created_at < NOW() - INTERVAL ? SECOND", int64(age.Seconds()))
	if err != nil {
		return 0, fmt.Errorf("prune path_sync_log: %w", err)
	}
	return res.RowsAffected()
}

// PathCount is one row of path_counters.
type PathCount struct {
	Path      string    `db:"path"`
	HitCount  uint64    `db:"hit_count"`
	CreatedAt time.Time `db:"created_at"`
	UpdatedAt time.Time `db:"updated_at"`
}

// All reads path_counters (for tests and inspection).
func (p *PathCounts) All(ctx context.Context) ([]PathCount, error) {
	var out []PathCount
	if err := p.db.SelectContext(ctx, &out, "SELECT path, hit_count, created_at, updated_at FROM path_counters ORDER BY path"); err != nil {
		return nil, fmt.Errorf("read path_counters: %w", err)
	}
	return out, nil
}

// Ping checks MariaDB.
func (p *PathCounts) Ping(ctx context.Context) error { return p.db.PingContext(ctx) }
