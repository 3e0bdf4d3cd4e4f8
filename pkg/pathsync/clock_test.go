package pathsync

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"adly/pkg/pathtable"
	"adly/pkg/testkit"
)

// A syncer that read its counters more than a day before it commits them (frozen, or a clock that jumped)
// is refused by MariaDB's clock: nothing is committed, the chunk stays staged, and the next sync commits it
// once. The clock stands for the day; nothing waits for it.
func TestAChunkReadADayAgoIsNotCommittedButRecovered(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	written := map[string]int64{"/a": 3, "/b": 4, "/c": 5}
	for path, n := range written {
		require.NoError(t, e.client.Set(ctx, e.names.HitKey(path), n, 0).Err())
	}
	clock := testkit.NewClock(time.Now().Add(-25 * time.Hour)) // the reads happened a day and an hour ago
	s := e.syncer(t, Options{ChunkPaths: 2, Now: clock.Now})
	_, err := s.Sync(ctx)
	require.ErrorIs(t, err, pathtable.ErrChunkTooLate)
	require.Empty(t, e.table(t), "nothing committed")
	require.Empty(t, e.left(t), "the counters were moved to staging, not left or lost")
	pending, err := e.hits.Pending(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, pending, "the chunks stay staged")

	clock.Advance(25 * time.Hour) // now the recovery reads the staged chunks afresh
	res, err := s.Sync(ctx)
	require.NoError(t, err)
	require.Positive(t, res.Recovered)
	require.Equal(t, map[string]uint64{"/a": 3, "/b": 4, "/c": 5}, e.table(t))
	pending, err = e.hits.Pending(ctx)
	require.NoError(t, err)
	require.Empty(t, pending)
}
