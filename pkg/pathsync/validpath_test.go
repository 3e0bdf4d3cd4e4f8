package pathsync

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// A producer other than the API may write hit counters straight to Redis. The syncer holds their paths to the
// rule the API holds its clients to (event.CheckPath): a path the API refuses is parked, never synced.
func TestPathsTheAPIRefusesAreParkedWhoeverWroteThem(t *testing.T) {
	cases := []struct {
		name string
		path string
	}{
		{"C0 control", "/a\x01b"},
		{"DEL", "/a\x7fb"},
		{"C1 control NEL", "/a\u0085b"},
		{"C1 control CSI", "/a\u009bb"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			require.NoError(t, e.client.Set(ctx, e.names.HitKey(tc.path), 3, 0).Err())
			require.NoError(t, e.client.Set(ctx, e.names.HitKey("/good"), 2, 0).Err())

			res, err := e.syncer(t, Options{}).Sync(ctx)
			require.NoError(t, err)
			require.Equal(t, map[string]uint64{"/good": 2}, e.table(t), "only the valid path is synced")
			require.Len(t, res.Errors, 1)
			require.Contains(t, res.Errors[0], "control character")
			require.EqualValues(t, 0, e.client.Exists(ctx, e.names.HitKey(tc.path)).Val(), "not retried forever")
			require.Equal(t, "3", e.client.Get(ctx, e.names.ParkedKey(tc.path)).Val(), "parked with its count")
		})
	}
}
