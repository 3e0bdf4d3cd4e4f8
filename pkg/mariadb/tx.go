package mariadb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// ErrRetriesExhausted wraps the last error of a transaction that kept failing with a retryable error.
var ErrRetriesExhausted = errors.New("transaction retries exhausted")

// txAttempts and txBackoff bound RetryTx: 5 attempts, 10, 20, 40 and 80 ms apart.
const (
	txAttempts = 5
	txBackoff  = 10 * time.Millisecond
)

// InTx runs fn in a READ COMMITTED transaction and commits it when fn returns nil; when fn fails (or
// panics) the transaction is rolled back and fn's error returned. what names the transaction in the begin
// and commit errors ("commit ad_daily_clicks: …").
func InTx(ctx context.Context, db *sqlx.DB, what string, fn func(*sqlx.Tx) error) error {
	tx, err := db.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return fmt.Errorf("begin %s: %w", what, err)
	}
	defer func() { _ = tx.Rollback() }() // a no-op after Commit
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit %s: %w", what, err)
	}
	return nil
}

// RetryTx is InTx, run again while it fails with a deadlock or a lock wait timeout (Retryable: the whole
// transaction is rolled back and fn runs again from the start), up to 5 attempts with a doubling backoff.
// After the last it returns the error wrapped in ErrRetriesExhausted; when ctx ends while it waits, ctx's
// error. fn must not keep anything from a failed attempt.
func RetryTx(ctx context.Context, db *sqlx.DB, what string, fn func(*sqlx.Tx) error) error {
	backoff := txBackoff
	for attempt := 1; ; attempt++ {
		err := InTx(ctx, db, what, fn)
		if err == nil || !Retryable(err) {
			return err
		}
		if attempt == txAttempts {
			return fmt.Errorf("%w: %w", ErrRetriesExhausted, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff *= 2
	}
}
