package testkit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"adly/pkg/config"
	"adly/pkg/mariadb"
)

// SchemaPath finds sql/schema.sql from the package under test.
func SchemaPath(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		p := filepath.Join(dir, "sql", "schema.sql")
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, parent, dir, "sql/schema.sql not found above the test's directory")
		dir = parent
	}
}

// DBConfig is the test MariaDB, from DB_HOST/DB_PORT/DB_USER/DB_PASS (defaults: 127.0.0.1:3306, root).
func DBConfig(t testing.TB) config.DB {
	t.Helper()
	var cfg config.DB
	require.NoError(t, config.Load(&cfg))
	return cfg
}

// MariaDB creates a fresh database (adly_test_<random>) with the schema loaded, drops it when the test ends,
// and returns a connection to it and its configuration.
func MariaDB(t testing.TB) (*sqlx.DB, config.DB) {
	t.Helper()
	ctx := context.Background()
	cfg := DBConfig(t)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	cfg.Name = "adly_test_" + hex.EncodeToString(b)

	admin := cfg
	admin.Name = ""
	root, err := mariadb.Open(ctx, admin)
	require.NoError(t, err, "tests need MariaDB at %s:%d", cfg.Host, cfg.Port)
	defer func() { _ = root.Close() }()
	_, err = root.ExecContext(ctx, "CREATE DATABASE `"+cfg.Name+"`")
	require.NoError(t, err)
	t.Cleanup(func() {
		r, err := mariadb.Open(context.Background(), admin)
		if err == nil {
			_, _ = r.Exec("DROP DATABASE IF EXISTS `" + cfg.Name + "`")
			_ = r.Close()
		}
	})

	db, err := mariadb.Open(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	ApplySchema(t, db)
	return db, cfg
}

// ApplySchema runs sql/schema.sql against db, statement by statement.
func ApplySchema(t testing.TB, db *sqlx.DB) {
	t.Helper()
	raw, err := os.ReadFile(SchemaPath(t))
	require.NoError(t, err)
	for _, stmt := range mariadb.SplitStatements(string(raw)) {
		_, err := db.Exec(stmt)
		require.NoError(t, err, "schema statement:\n%s", stmt)
	}
}
