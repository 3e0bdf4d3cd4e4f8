package mariadb

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"
)

// Schema says whether database name exists on the server db is connected to, and names its tables. db need
// not be connected to that database (it may not exist).
func Schema(ctx context.Context, db *sqlx.DB, name string) (exists bool, tables []string, err error) {
	var n int
	if err := db.GetContext(ctx, &n, "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ?", name); err != nil {
		return false, nil, fmt.Errorf("look up database %s: %w", name, err)
	}
	if n == 0 {
		return false, nil, nil
	}
	err = db.SelectContext(ctx, &tables, "SELECT table_name FROM information_schema.tables WHERE table_schema = ? ORDER BY table_name", name)
	if err != nil {
		return true, nil, fmt.Errorf("list tables of %s: %w", name, err)
	}
	return true, tables, nil
}

// IsUnknownDatabase reports MariaDB's refusal of a connection to a database that does not exist (1049).
func IsUnknownDatabase(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == 1049
}
