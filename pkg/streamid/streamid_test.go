package streamid

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseAndCompare(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"9-0", "10-0", -1}, // as strings "10-0" < "9-0": numbers must win
		{"10-0", "9-0", 1},
		{"5-10", "5-9", 1},
		{"5-1", "5-1", 0},
		{"5", "5-0", 0},
		{"1700000000000-0", "1700000000000-1", -1},
	}
	for _, tt := range tests {
		t.Run(tt.a+" vs "+tt.b, func(t *testing.T) {
			require.Equal(t, tt.want, MustParse(tt.a).Compare(MustParse(tt.b)))
		})
	}
	for _, bad := range []string{"", "x", "1-x", "-1", "1-2-3"} {
		_, err := Parse(bad)
		require.Error(t, err, bad)
	}
	require.Equal(t, "5-2", MustParse("5-1").Next().String())
	require.Equal(t, ID{Ms: 6}, ID{Ms: 5, Seq: ^uint64(0)}.Next())
}
