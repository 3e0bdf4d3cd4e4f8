package pathsync

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestQuantilesSplitKeysIntoRanges(t *testing.T) {
	many := make([]string, 0, 1000)
	for i := range 1000 {
		many = append(many, fmt.Sprintf("k%03d", (i*7919)%1000)) // every key once, shuffled
	}
	tests := []struct {
		name  string
		keys  []string
		n     int
		want  []string
		sizes []int // keys per range, when checked
	}{
		{"one range", []string{"b", "a"}, 1, []string{}, []int{2}},
		{"median of four", []string{"d", "b", "a", "c"}, 2, []string{"c"}, []int{2, 2}},
		{"a key given twice counts once", []string{"b", "a", "b", "b"}, 2, []string{"b"}, []int{1, 3}},
		{"one distinct key", []string{"a", "a"}, 2, []string{"a"}, []int{0, 2}},
		{"fewer distinct keys than ranges", []string{"b", "a"}, 4, []string{"a", "b"}, []int{0, 1, 1, 0}},
		{"thousand keys in four", many, 4, []string{"k250", "k500", "k750"}, []int{250, 250, 250, 250}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.keys)
			bounds := quantiles(tt.keys, tt.n)
			require.Equal(t, in, tt.keys, "the keys are left in SCAN order")
			require.Equal(t, tt.want, bounds)
			sizes := make([]int, tt.n)
			for _, k := range tt.keys {
				p := partOf(bounds, k)
				require.Less(t, p, tt.n, "key %q", k)
				if p > 0 {
					require.GreaterOrEqual(t, k, bounds[p-1], "key %q is below its range", k)
				}
				if p < len(bounds) {
					require.Less(t, k, bounds[p], "key %q is above its range", k)
				}
				sizes[p]++
			}
			require.Equal(t, tt.sizes, sizes)
		})
	}
}
