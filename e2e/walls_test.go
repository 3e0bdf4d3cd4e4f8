package e2e

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The walls ARCHITECTURE.md draws, checked on the import graph the go command computes: the Redis side and
// the MariaDB side never import each other, the API binary cannot reach MariaDB, and the report binary
// cannot reach Redis.
func TestArchitectureWalls(t *testing.T) {
	redisSide := []string{"ingest", "publish", "tracking", "stream", "hits", "keyspace", "redisconn"}
	mariadbSide := []string{"mariadb", "ledger", "pathtable", "report"}
	deps := importGraph(t)
	for _, tt := range []struct {
		from      string
		forbidden []string
		drivers   []string // third-party modules the package must not reach either
	}{
		{"adly/cmd/api", prefixed(mariadbSide), []string{"github.com/go-sql-driver/mysql", "github.com/jmoiron/sqlx"}},
		{"adly/cmd/report", prefixed(redisSide), []string{"github.com/redis/go-redis/v9"}},
	} {
		checkWall(t, deps, tt.from, tt.forbidden, tt.drivers)
	}
	for _, p := range redisSide {
		checkWall(t, deps, "adly/pkg/"+p, prefixed(mariadbSide), []string{"github.com/go-sql-driver/mysql", "github.com/jmoiron/sqlx"})
	}
	for _, p := range mariadbSide {
		checkWall(t, deps, "adly/pkg/"+p, prefixed(redisSide), []string{"github.com/redis/go-redis/v9"})
	}
	// The API's pure rules (who may send what, which traffic is valid) talk to no store at all, and neither
	// does the reports page, which renders what it is given.
	for _, p := range []string{"screen", "limits", "dashboard"} {
		checkWall(t, deps, "adly/pkg/"+p, append(prefixed(mariadbSide), prefixed(redisSide)...),
			[]string{"github.com/redis/go-redis/v9", "github.com/go-sql-driver/mysql", "github.com/jmoiron/sqlx"})
	}
}

func prefixed(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "adly/pkg/" + n
	}
	return out
}

func checkWall(t *testing.T, deps map[string][]string, from string, forbidden, drivers []string) {
	t.Helper()
	reach, ok := deps[from]
	require.True(t, ok, "%s is not in the import graph", from)
	for _, d := range reach {
		for _, f := range append(append([]string{}, forbidden...), drivers...) {
			if d == f || strings.HasPrefix(d, f+"/") {
				t.Errorf("%s reaches %s, which ARCHITECTURE.md forbids", from, d)
			}
		}
	}
}

// importGraph maps every package of the module to everything it imports, directly or not (tests excluded).
func importGraph(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps=false", "-json=ImportPath,Deps", "adly/...").Output()
	require.NoError(t, err, "go list")
	deps := map[string][]string{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p struct {
			ImportPath string
			Deps       []string
		}
		require.NoError(t, dec.Decode(&p))
		deps[p.ImportPath] = p.Deps
	}
	return deps
}
