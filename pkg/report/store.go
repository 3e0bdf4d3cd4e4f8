package report

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"golang.org/x/sync/errgroup"
)

// Store runs the reports on MariaDB. It only reads.
type Store struct {
	db  *sqlx.DB
	loc *time.Location
}

// NewStore returns a Store over db whose dates are days of loc (the workers' TIMEZONE).
func NewStore(db *sqlx.DB, loc *time.Location) *Store {
	return &Store{db: db, loc: loc}
}

// Zone is the time zone whose calendar days the dates are.
func (s *Store) Zone() *time.Location { return s.loc }

// Ping checks that MariaDB answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// run sends stmts: each kind's list on a connection of its own, both kinds at once (a report over many ads
// spends its time in MariaDB, one table at a time: two tables take two cores when the server has them). row
// is called for every row, with the kind's and the statement's index; it is called for one kind from one
// goroutine only, so it may write that kind's results without a lock.
func (s *Store) run(ctx context.Context, stmts Statements, row func(kind, stmt int, rows *sql.Rows) error) error {
	g, ctx := errgroup.WithContext(ctx)
	for i := range stmts {
		g.Go(func() error {
			return s.runKind(ctx, stmts[i], func(j int, rows *sql.Rows) error { return row(i, j, rows) })
		})
	}
	return g.Wait()
}

// runKind sends one kind's statements, in one read-only transaction when there are several.
func (s *Store) runKind(ctx context.Context, qs []Query, row func(stmt int, rows *sql.Rows) error) error {
	var q interface {
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	} = s.db
	var tx *sql.Tx
	if len(qs) > 1 {
		var err error
		if tx, err = s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true}); err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		defer func() { _ = tx.Rollback() }()
		q = tx
	}
	for j, query := range qs {
		if err := eachRow(ctx, q, query, func(rows *sql.Rows) error { return row(j, rows) }); err != nil {
			return err
		}
	}
	if tx != nil {
		return tx.Commit()
	}
	return nil
}

func eachRow(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query Query, row func(*sql.Rows) error) error {
	rows, err := q.QueryContext(ctx, query.SQL, query.Args...)
	if err != nil {
		return fmt.Errorf("%s: %w", query.Name, err)
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		if err := row(rows); err != nil {
			return fmt.Errorf("%s: %w", query.Name, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", query.Name, err)
	}
	return nil
}

// CountedZone is the zone the workers dated their latest commit in (stream_ledger.zone; "" when no commit
// recorded one). The report's zone should be the same.
func (s *Store) CountedZone(ctx context.Context) (string, error) {
	var zone string
	err := s.db.GetContext(ctx, &zone, `SELECT zone FROM stream_ledger WHERE zone <> '' ORDER BY id DESC LIMIT 1`)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return zone, err
}
