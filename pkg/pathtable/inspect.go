package pathtable

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// The read-only views below serve the operator's inspection; they change nothing.

// PathRow is one row of path_counters. UpdatedAt is not valid for a row never updated.
type PathRow struct {
	Path      string       `db:"path"`
	Hits      int64        `db:"hit_count"`
	UpdatedAt sql.NullTime `db:"updated_at"`
}

// Top reads the n paths with the most hits (ties by path).
func (p *PathCounts) Top(ctx context.Context, n int) ([]PathRow, error) {
	var rows []PathRow
	err := p.db.SelectContext(ctx, &rows, "SELECT path, hit_count, updated_at FROM path_counters ORDER BY hit_count DESC, path LIMIT ?", n)
	if err != nil {
		return nil, fmt.Errorf("read top paths: %w", err)
	}
	return rows, nil
}

// Totals is how many paths path_counters holds and their hits.
func (p *PathCounts) Totals(ctx context.Context) (paths, hits int64, err error) {
	row := struct {
		Paths int64 `db:"paths"`
		Hits  int64 `db:"hits"`
	}{}
	if err := p.db.GetContext(ctx, &row, "SELECT COUNT(*) AS paths, COALESCE(SUM(hit_count), 0) AS hits FROM path_counters"); err != nil {
		return 0, 0, fmt.Errorf("count path_counters: %w", err)
	}
	return row.Paths, row.Hits, nil
}

// SyncLog is how many chunks path_sync_log records and when the last was committed (zero when none).
func (p *PathCounts) SyncLog(ctx context.Context) (rows int64, last time.Time, err error) {
	row := struct {
		Rows int64        `db:"n"`
		Last sql.NullTime `db:"last"`
	}{}
	if err := p.db.GetContext(ctx, &row, "SELECT COUNT(*) AS n, MAX(created_at) AS last FROM path_sync_log"); err != nil {
		return 0, time.Time{}, fmt.Errorf("count path_sync_log: %w", err)
	}
	return row.Rows, row.Last.Time, nil
}
