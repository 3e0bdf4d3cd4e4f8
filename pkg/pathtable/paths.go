package pathtable

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"

	"adly/pkg/event"
	"adly/pkg/mariadb"
)

// PathCounts is the path_counters table and its sync log.
type PathCounts struct {
	db *sqlx.DB

	mu     sync.Mutex
	upsert *sqlx.Stmt // the full-size upsert (pathRows rows), prepared once; nil until first needed
}

// NewPathCounts returns the table over db.
func NewPathCounts(db *sqlx.DB) *PathCounts { return &PathCounts{db: db} }

// pathRows is how many rows one upsert statement carries. Full-size statements are prepared once and then
// only executed: MariaDB spends more than a quarter of a bulk upsert's time parsing its text otherwise.
const pathRows = 2000

// Close releases the prepared statement.
func (p *PathCounts) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.upsert == nil {
		return nil
	}
	err := p.upsert.Close()
	p.upsert = nil
	return err
}

func upsertPathsSQL(rows int) string {
	var q strings.Builder
	q.WriteString("INSERT INTO path_counters (path, hit_count, created_at, updated_at) VALUES ")
	for i := range rows {
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteString("(?,?,NOW(),NOW())")
	}
	q.WriteString(" ON DUPLICATE KEY UPDATE hit_count = hit_count + VALUES(hit_count), updated_at = VALUES(updated_at)")
	return q.String()
}

// fullUpsert returns the prepared full-size upsert, preparing it the first time.
func (p *PathCounts) fullUpsert(ctx context.Context) (*sqlx.Stmt, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.upsert == nil {
		st, err := p.db.PreparexContext(ctx, upsertPathsSQL(pathRows))
		if err != nil {
			return nil, fmt.Errorf("prepare path_counters upsert: %w", err)
		}
		p.upsert = st
	}
	return p.upsert, nil
}

// ErrChunkTooLate means a chunk's commit came after its deadline and changed nothing: its counts were read
// from Redis too long ago to tell whether its sync log row is still there to catch a second commit.
var ErrChunkTooLate = errors.New("chunk commit past its deadline")

// CommitChunk adds a sync chunk's counts (the Redis value is the increment) to path_counters and records the
// chunk's id, in one transaction. counts must be sorted by path with each path once (event.MergePathCounts):
// rows are locked in path order, so concurrent commits cannot deadlock. It returns false, changing nothing,
// when the chunk was committed before (a crashed sync that is being finished). It returns ErrChunkTooLate,
// changing nothing, when MariaDB's clock is past notAfter as the chunk's id is recorded: a syncer frozen for
// days cannot commit a chunk again once its log row may have been pruned (see PruneLog).
func (p *PathCounts) CommitChunk(ctx context.Context, syncID string, counts []event.PathCount, notAfter time.Time) (bool, error) {
	for i := 1; i < len(counts); i++ {
		if counts[i-1].Path >= counts[i].Path {
			return false, fmt.Errorf("commit sync %s: counts not sorted by path or not merged at %q", syncID, counts[i].Path)
		}
	}
	var committed bool
	err := mariadb.RetryTx(ctx, p.db, "sync "+syncID, func(tx *sqlx.Tx) error {
		var err error
		committed, err = p.commitChunk(ctx, tx, syncID, counts, notAfter)
		return err
	})
	if err != nil {
		return false, err
	}
	return committed, nil
}

// commitChunk does the work of CommitChunk in tx: false when the chunk was committed before (then tx changed
// nothing).
func (p *PathCounts) commitChunk(ctx context.Context, tx *sqlx.Tx, syncID string, counts []event.PathCount, notAfter time.Time) (bool, error) {
	// The deadline is checked by the statement that takes the log row, so that the row is taken either
	// while an earlier commit's row is surely still there (a duplicate then), or not at all.
	res, err := tx.ExecContext(ctx, "INSERT INTO path_sync_log (sync_id, paths, hits) SELECT ?, ?, ? FROM DUAL WHERE UNIX_TIMESTAMP() < ?",
		syncID, len(counts), event.SumHits(counts), notAfter.Unix())
	if err != nil {
		var me *mysql.MySQLError
		if errors.As(err, &me) && me.Number == 1062 {
			return false, nil // committed by an earlier run
		}
		return false, fmt.Errorf("record sync %s: %w", syncID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return false, fmt.Errorf("record sync %s: %w (%s)", syncID, ErrChunkTooLate, notAfter.UTC().Format(time.RFC3339))
	}
	args := make([]any, 0, 2*pathRows)
	for start := 0; start < len(counts); start += pathRows {
		part := counts[start:min(start+pathRows, len(counts))]
		args = args[:0]
		for _, c := range part {
			args = append(args, c.Path, c.Hits)
		}
		var err error
		if len(part) == pathRows {
			var st *sqlx.Stmt
			if st, err = p.fullUpsert(ctx); err != nil {
				return false, err
			}
			_, err = tx.StmtxContext(ctx, st).ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, upsertPathsSQL(len(part)), args...)
		}
		if err != nil {
			return false, fmt.Errorf("upsert path_counters: %w", err)
		}
	}
	return true, nil
}

// PruneLog deletes sync log rows older than age: a chunk is finished (its staging dropped) long before. age
// must exceed the commit window (CommitChunk's notAfter minus the time its counts were read) by more than
// the clocks of syncer and MariaDB may differ.
func (p *PathCounts) PruneLog(ctx context.Context, age time.Duration) (int64, error) {
	res, err := p.db.ExecContext(ctx, "DELETE FROM path_sync_log WHERE created_at < NOW() - INTERVAL ? SECOND", int64(age.Seconds()))
	if err != nil {
		return 0, fmt.Errorf("prune path_sync_log: %w", err)
	}
	return res.RowsAffected()
}

// Row is one row of path_counters. (The number of hits on a path is event.PathCount.)
type Row struct {
	Path      string    `db:"path"`
	HitCount  uint64    `db:"hit_count"`
	CreatedAt time.Time `db:"created_at"`
	UpdatedAt time.Time `db:"updated_at"`
}

// All reads path_counters (for tests and inspection).
func (p *PathCounts) All(ctx context.Context) ([]Row, error) {
	var out []Row
	if err := p.db.SelectContext(ctx, &out, "SELECT path, hit_count, created_at, updated_at FROM path_counters ORDER BY path"); err != nil {
		return nil, fmt.Errorf("read path_counters: %w", err)
	}
	return out, nil
}

// Ping checks MariaDB.
func (p *PathCounts) Ping(ctx context.Context) error { return p.db.PingContext(ctx) }
