package worker

import (
	"adly/pkg/ledger"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The plan clears the rows that hold the entries from midnight on and voids from the first instant they
// hold, whatever zone the rows were dated in; it refuses when the ledger names several zones at once.
func TestPlanReplay(t *testing.T) {
	utc := time.UTC
	berlin, _ := time.LoadLocation("Europe/Berlin")
	newYork, _ := time.LoadLocation("America/New_York")
	ms := func(s string) int64 {
		tm, err := time.Parse(time.RFC3339, s)
		require.NoError(t, err)
		return tm.UnixMilli()
	}
	tests := []struct {
		name     string
		loc      *time.Location
		from     string
		h        ledger.ZoneHistory
		clear    string
		voidFrom string // RFC3339
		refused  string
	}{
		{"same zone", utc, "2026-11-20", ledger.ZoneHistory{Initial: []string{"UTC"}}, "2026-11-20", "2026-11-20T00:00:00Z", ""},
		{"no zone recorded: the replay's", berlin, "2026-11-20", ledger.ZoneHistory{}, "2026-11-20", "2026-11-19T23:00:00Z", ""},
		{"UTC rows, Berlin midnight inside UTC's day before", berlin, "2026-11-20", ledger.ZoneHistory{Initial: []string{"UTC"}}, "2026-11-19", "2026-11-19T00:00:00Z", ""},
		{"UTC rows, New York midnight inside UTC's day", newYork, "2026-11-20", ledger.ZoneHistory{Initial: []string{"UTC"}}, "2026-11-20", "2026-11-20T00:00:00Z", ""},
		{"workers already in the new zone", newYork, "2026-11-20", ledger.ZoneHistory{Initial: []string{"America/New_York", "UTC"}}, "2026-11-20", "2026-11-20T00:00:00Z", ""},
		{"after a replay to Berlin", newYork, "2026-11-20", ledger.ZoneHistory{Initial: []string{"UTC"}, Spans: []ledger.ZoneSpan{{FromMs: ms("2026-11-19T00:00:00Z"), Zone: "Europe/Berlin"}}}, "2026-11-20", "2026-11-19T23:00:00Z", ""},
		{"reaching back across a replay", newYork, "2026-11-19", ledger.ZoneHistory{Initial: []string{"UTC"}, Spans: []ledger.ZoneSpan{{FromMs: ms("2026-11-19T00:00:00Z"), Zone: "Europe/Berlin"}}}, "2026-11-19", "2026-11-19T00:00:00Z", ""},
		{"workers in two zones", utc, "2026-11-20", ledger.ZoneHistory{Initial: []string{"America/New_York", "Europe/Berlin"}}, "", "", "several zones"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			day, err := time.ParseInLocation(time.DateOnly, tt.from, tt.loc)
			require.NoError(t, err)
			p, err := planReplay(day, tt.loc, tt.h)
			if tt.refused != "" {
				require.ErrorIs(t, err, ErrReplayImpossible)
				require.ErrorContains(t, err, tt.refused)
				return
			}
			require.NoError(t, err)
			require.Equal(t, ledger.ReplayPlan{ClearFrom: tt.clear, VoidFromMs: ms(tt.voidFrom), Zone: tt.loc.String()}, p)
		})
	}
}
