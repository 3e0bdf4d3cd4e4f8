package pathtable_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"adly/pkg/event"
	"adly/pkg/pathtable"
	"adly/pkg/testkit"
)

// A chunk is committed once, and not at all after its deadline: a syncer frozen for days cannot add a chunk
// again once its sync log row may have been pruned.
func TestCommitChunkOnceAndBeforeItsDeadline(t *testing.T) {
	ctx := context.Background()
	db, _ := testkit.MariaDB(t)
	p := pathtable.NewPathCounts(db)
	t.Cleanup(func() { _ = p.Close() })
	counts := []event.PathCount{{Path: "/a", Hits: 2}, {Path: "/b", Hits: 3}}
	steps := []struct {
		name      string
		id        string
		notAfter  time.Duration // from now
		committed bool
		err       error
		table     map[string]uint64
	}{
		{"past its deadline: nothing", "c1", -time.Minute, false, pathtable.ErrChunkTooLate, map[string]uint64{}},
		{"before it: committed", "c1", time.Hour, true, nil, map[string]uint64{"/a": 2, "/b": 3}},
		{"again: skipped", "c1", time.Hour, false, nil, map[string]uint64{"/a": 2, "/b": 3}},
		{"another chunk", "c2", time.Hour, true, nil, map[string]uint64{"/a": 4, "/b": 6}},
		{"another chunk too late", "c3", -time.Second, false, pathtable.ErrChunkTooLate, map[string]uint64{"/a": 4, "/b": 6}},
	}
	for _, st := range steps {
		committed, err := p.CommitChunk(ctx, st.id, counts, time.Now().Add(st.notAfter))
		if st.err != nil {
			require.ErrorIs(t, err, st.err, st.name)
		} else {
			require.NoError(t, err, st.name)
		}
		require.Equal(t, st.committed, committed, st.name)
		rows, err := p.All(ctx)
		require.NoError(t, err)
		got := map[string]uint64{}
		for _, r := range rows {
			got[r.Path] = r.HitCount
		}
		require.Equal(t, st.table, got, st.name)
	}
}
