package mariadb_test

import (
	"adly/pkg/mariadb"
	"adly/pkg/testkit"
	"testing"

	"github.com/stretchr/testify/require"
)

type column struct {
	Name     string  `db:"COLUMN_NAME"`
	Type     string  `db:"COLUMN_TYPE"`
	Nullable string  `db:"IS_NULLABLE"`
	Default  *string `db:"COLUMN_DEFAULT"`
}

// The schema matches the seed (ad_daily_impressions, ad_daily_clicks) and the path-hits design (path_counters), and applying it again
// to a database that has it changes nothing.
func TestSchemaIsIdempotentAndMatchesTheSeeds(t *testing.T) {
	t.Parallel()
	db, cfg := testkit.MariaDB(t)
	_, err := db.Exec("INSERT INTO ad_daily_impressions (ad_id, date, impressions) VALUES (1, '2026-11-21', 5)")
	require.NoError(t, err)
	testkit.ApplySchema(t, db) // second time: no error, data kept
	var n int64
	require.NoError(t, db.Get(&n, "SELECT impressions FROM ad_daily_impressions WHERE ad_id = 1"))
	require.EqualValues(t, 5, n)

	cols := func(table string) map[string]column {
		var cs []column
		require.NoError(t, db.Select(&cs, `SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT
			FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?`, cfg.Name, table))
		m := map[string]column{}
		for _, c := range cs {
			m[c.Name] = c
		}
		return m
	}
	imps := cols("ad_daily_impressions")
	require.Equal(t, "int(11)", imps["ad_id"].Type)
	require.Equal(t, "date", imps["date"].Type)
	require.Equal(t, "bigint(20)", imps["impressions"].Type)
	require.Equal(t, "bigint(20)", cols("ad_daily_clicks")["clicks"].Type)
	paths := cols("path_counters")
	require.Equal(t, "varchar(255)", paths["path"].Type)
	require.Equal(t, "bigint(20) unsigned", paths["hit_count"].Type)
	require.Contains(t, paths, "created_at")
	require.Contains(t, paths, "updated_at")

	for _, table := range []string{"ad_daily_impressions", "ad_daily_clicks"} {
		_, err = db.Exec("INSERT INTO " + table + " (ad_id, date) VALUES (7, '2026-11-21')")
		require.NoError(t, err)
		_, err = db.Exec("INSERT INTO " + table + " (ad_id, date) VALUES (7, '2026-11-21')")
		require.Error(t, err, "UNIQUE (ad_id, date) on %s", table)
	}
	_, err = db.Exec("INSERT INTO path_counters (path, hit_count) VALUES ('/a', 1), ('/A', 1), ('/a ', 1)")
	require.NoError(t, err, "paths are case-sensitive and trailing spaces count, like Redis keys")
	_, err = db.Exec("INSERT INTO path_counters (path, hit_count) VALUES ('/a', 1)")
	require.Error(t, err, "UNIQUE path")
}

// The filtered-traffic tables count per (ad_id, date, reason) with the daily tables' column types; a reason
// compares byte for byte; applying the schema again keeps their rows.
func TestSchemaFilteredTables(t *testing.T) {
	t.Parallel()
	db, cfg := testkit.MariaDB(t)
	for _, tt := range []struct{ table, column string }{
		{"ad_daily_impressions_filtered", "impressions"},
		{"ad_daily_clicks_filtered", "clicks"},
	} {
		var cs []column
		require.NoError(t, db.Select(&cs, `SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT
			FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, cfg.Name, tt.table))
		require.Len(t, cs, 4, tt.table)
		for i, want := range []column{{Name: "ad_id", Type: "int(11)"}, {Name: "date", Type: "date"}, {Name: "reason", Type: "varchar(32)"}, {Name: tt.column, Type: "bigint(20)"}} {
			require.Equal(t, want.Name, cs[i].Name, tt.table)
			require.Equal(t, want.Type, cs[i].Type, "%s.%s", tt.table, want.Name)
			require.Equal(t, "NO", cs[i].Nullable, "%s.%s", tt.table, want.Name)
		}
		require.NotNil(t, cs[3].Default)
		require.Equal(t, "0", *cs[3].Default)
		var key []string
		require.NoError(t, db.Select(&key, `SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE
			WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION`, cfg.Name, tt.table))
		require.Equal(t, []string{"ad_id", "date", "reason"}, key, tt.table)

		_, err := db.Exec("INSERT INTO " + tt.table + " (ad_id, date, reason, " + tt.column + ") VALUES (7, '2026-11-21', 'crawler', 2), (7, '2026-11-21', 'prefetch', 3)")
		require.NoError(t, err, "one row per reason")
		_, err = db.Exec("INSERT INTO " + tt.table + " (ad_id, date, reason) VALUES (7, '2026-11-21', 'Crawler')")
		require.NoError(t, err, "reasons compare byte for byte")
		_, err = db.Exec("INSERT INTO " + tt.table + " (ad_id, date, reason) VALUES (7, '2026-11-21', 'crawler')")
		require.Error(t, err, "PRIMARY KEY (ad_id, date, reason) on %s", tt.table)
	}
	testkit.ApplySchema(t, db) // second time: no error, data kept
	var n int64
	require.NoError(t, db.Get(&n, "SELECT SUM(impressions) FROM ad_daily_impressions_filtered"))
	require.EqualValues(t, 5, n)
}

// The report indexes (pkg/report) exist with their columns in order, once, however often the schema is
// applied.
func TestSchemaReportIndexes(t *testing.T) {
	t.Parallel()
	db, cfg := testkit.MariaDB(t)
	testkit.ApplySchema(t, db) // second time: CREATE INDEX IF NOT EXISTS adds nothing
	for _, tt := range []struct {
		table, index string
		columns      []string
	}{
		{"ad_daily_impressions", "ad_daily_impressions_date_ad", []string{"date", "ad_id", "impressions"}},
		{"ad_daily_clicks", "ad_daily_clicks_date_ad", []string{"date", "ad_id", "clicks"}},
		{"ad_daily_impressions_filtered", "ad_daily_impressions_filtered_date_ad", []string{"date", "ad_id", "reason", "impressions"}},
		{"ad_daily_clicks_filtered", "ad_daily_clicks_filtered_date_ad", []string{"date", "ad_id", "reason", "clicks"}},
		{"path_counters", "path_counters_hits", []string{"hit_count"}},
	} {
		var cols []string
		require.NoError(t, db.Select(&cols, `SELECT COLUMN_NAME FROM information_schema.STATISTICS
			WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME = ? ORDER BY SEQ_IN_INDEX`, cfg.Name, tt.table, tt.index))
		require.Equal(t, tt.columns, cols, "%s.%s", tt.table, tt.index)
		var n int
		require.NoError(t, db.Get(&n, `SELECT COUNT(DISTINCT INDEX_NAME) FROM information_schema.STATISTICS
			WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME LIKE '%date_ad%'`, cfg.Name, tt.table))
		require.LessOrEqual(t, n, 1, "%s: one report index, not one per application", tt.table)
	}
}

// A path_counters table made by an earlier schema (utf8mb4_bin, which ignores trailing spaces) is converted,
// keeping its rows.
func TestSchemaConvertsAnEarlierPathCollation(t *testing.T) {
	t.Parallel()
	db, _ := testkit.MariaDB(t)
	_, err := db.Exec("DROP TABLE path_counters")
	require.NoError(t, err)
	_, err = db.Exec(`CREATE TABLE path_counters (
		id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
		path VARCHAR(255) NOT NULL,
		hit_count BIGINT UNSIGNED NOT NULL DEFAULT 0,
		created_at TIMESTAMP NULL DEFAULT NULL,
		updated_at TIMESTAMP NULL DEFAULT NULL,
		UNIQUE KEY path_counters_path_unique (path)
	) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`)
	require.NoError(t, err)
	_, err = db.Exec("INSERT INTO path_counters (path, hit_count) VALUES ('/a', 3), ('/b', 4)")
	require.NoError(t, err)
	_, err = db.Exec("INSERT INTO path_counters (path, hit_count) VALUES ('/a ', 1)")
	require.Error(t, err, "the earlier collation merges trailing spaces")

	testkit.ApplySchema(t, db)
	var collation string
	require.NoError(t, db.Get(&collation, `SELECT COLLATION_NAME FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'path_counters' AND COLUMN_NAME = 'path'`))
	require.Equal(t, "utf8mb4_nopad_bin", collation)
	_, err = db.Exec("INSERT INTO path_counters (path, hit_count) VALUES ('/a ', 1)")
	require.NoError(t, err)
	var sum int64
	require.NoError(t, db.Get(&sum, "SELECT SUM(hit_count) FROM path_counters"))
	require.EqualValues(t, 8, sum)
}

func TestSplitStatements(t *testing.T) {
	got := mariadb.SplitStatements("-- c\nCREATE TABLE a (\n  x INT\n);\n\n-- d\nCREATE TABLE b (y INT);\n")
	require.Equal(t, []string{"CREATE TABLE a (\n  x INT\n)", "CREATE TABLE b (y INT)"}, got)
}
