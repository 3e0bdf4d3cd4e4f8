package mariadb_test

import (
	"adly/pkg/mariadb"
	"adly/pkg/testkit"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A transaction whose process stops talking to MariaDB (frozen with SIGSTOP, paused, partitioned) is rolled
// back by the server after DB_IDLE_TX_TIMEOUT, so the row locks it holds are released for its peers: another
// connection waiting on the same row gets it, and the frozen transaction's writes are gone.
func TestIdleTransactionReleasesItsLocks(t *testing.T) {
	ctx := context.Background()
	_, cfg := testkit.MariaDB(t)
	cfg.IdleTxTimeout = time.Second
	frozen, err := mariadb.Open(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = frozen.Close() })
	peer, err := mariadb.Open(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = peer.Close() })

	tx, err := frozen.BeginTx(ctx, nil)
	require.NoError(t, err)
	_, err = tx.ExecContext(ctx, "INSERT INTO stream_locks (stream, grp) VALUES ('s', 'g')")
	require.NoError(t, err)
	// The peer waits on the frozen transaction's row (its lock wait timeout is MariaDB's default, 50 s), and
	// gets it once the server has rolled the idle transaction back.
	start := time.Now()
	_, err = peer.ExecContext(ctx, "INSERT INTO stream_locks (stream, grp) VALUES ('s', 'g')")
	require.NoError(t, err, "the peer took the row the frozen transaction held")
	require.Less(t, time.Since(start), 40*time.Second, "released by the idle timeout, not the lock wait timeout")
	require.Error(t, tx.Commit(), "the frozen transaction was rolled back")
}
