package report

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func date(s string) time.Time {
	d, err := time.Parse(DateLayout, s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestParseRange(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	require.NoError(t, err)
	// 23:30 UTC on 1 March is already 2 March in Paris.
	now := time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC)
	for _, tt := range []struct {
		name, from, to string
		loc            *time.Location
		want           Range
		err            string
	}{
		{"defaults: the last 30 days, today included", "", "", time.UTC, Range{date("2026-01-31"), date("2026-03-01")}, ""},
		{"today is the zone's", "", "", paris, Range{date("2026-02-01"), date("2026-03-02")}, ""},
		{"from alone ends today", "2026-02-20", "", time.UTC, Range{date("2026-02-20"), date("2026-03-01")}, ""},
		{"to alone: the 30 days ending then", "", "2025-12-31", time.UTC, Range{date("2025-12-02"), date("2025-12-31")}, ""},
		{"no 29 February in 2026", "2026-02-29", "", time.UTC, Range{}, `from="2026-02-29" is not a date (YYYY-MM-DD)`},
		{"366 days", "2024-01-01", "2024-12-31", time.UTC, Range{date("2024-01-01"), date("2024-12-31")}, ""},
		{"367 days", "2024-01-01", "2025-01-01", time.UTC, Range{}, "the range 2024-01-01..2025-01-01 covers 367 days; at most 366 are allowed"},
		{"from after to", "2026-02-02", "2026-02-01", time.UTC, Range{}, "from (2026-02-02) is after to (2026-02-01)"},
		{"not a date", "yesterday", "", time.UTC, Range{}, `from="yesterday" is not a date (YYYY-MM-DD)`},
		{"one-digit month", "2026-2-01", "", time.UTC, Range{}, `from="2026-2-01" is not a date`},
		{"a time", "", "2026-02-01T00:00:00Z", time.UTC, Range{}, `to="2026-02-01T00:00:00Z" is not a date`},
		{"too early", "0999-01-01", "", time.UTC, Range{}, "from=0999-01-01 is outside 1970-01-01 to 9999-12-31"},
		{"same day", "2026-01-05", "2026-01-05", time.UTC, Range{date("2026-01-05"), date("2026-01-05")}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRange(tt.from, tt.to, now, tt.loc, MaxDays)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				require.True(t, errors.Is(err, ErrBadRequest), "wraps ErrBadRequest")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestRangeDaysAndPrevious(t *testing.T) {
	for _, tt := range []struct {
		r    Range
		days int
		prev Range
	}{
		{Range{date("2026-03-01"), date("2026-03-31")}, 31, Range{date("2026-01-29"), date("2026-02-28")}},
		{Range{date("2026-03-29"), date("2026-03-29")}, 1, Range{date("2026-03-28"), date("2026-03-28")}},
		{Range{date("2024-01-01"), date("2024-12-31")}, 366, Range{date("2022-12-31"), date("2023-12-31")}},
	} {
		require.Equal(t, tt.days, tt.r.Days(), tt.r.String())
		require.Equal(t, tt.prev, tt.r.Previous(), tt.r.String())
		require.Equal(t, tt.days, tt.r.Previous().Days())
		require.Len(t, tt.r.Dates(), tt.days)
	}
	js, err := Range{date("2026-03-01"), date("2026-03-30")}.MarshalJSON()
	require.NoError(t, err)
	require.JSONEq(t, `{"from":"2026-03-01","to":"2026-03-30","days":30}`, string(js))
}

func TestParseSort(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Sort
		err  bool
	}{
		{"", Sort{"impressions", true}, false},
		{"clicks", Sort{"clicks", false}, false},
		{"-ctr", Sort{"ctr", true}, false},
		{"ad_id", Sort{"ad_id", false}, false},
		{"+ctr", Sort{}, true},
		{"impressions;DROP", Sort{}, true},
		{"--ctr", Sort{}, true},
	} {
		got, err := ParseSort(tt.in)
		if tt.err {
			require.ErrorIs(t, err, ErrBadRequest, tt.in)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, tt.want, got)
		require.Equal(t, tt.want.String(), map[bool]string{true: "-", false: ""}[tt.want.Desc]+tt.want.Key)
	}
}

func TestLikePrefix(t *testing.T) {
	require.Equal(t, "/a!%b!_c!!d%", likePrefix("/a%b_c!d"))
	require.Equal(t, "%", likePrefix(""))
}
