package limits

import (
	"adly/pkg/event"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseAdIDRanges(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string // canonical form
		wantErr string
	}{
		{name: "empty: all", in: "", want: ""},
		{name: "blank: all", in: "  ", want: ""},
		{name: "example", in: "1-5000,9000,10000-10099", want: "1-5000,9000,10000-10099"},
		{name: "spaces", in: " 1 - 5 , 9 ", want: "1-5,9"},
		{name: "unsorted", in: "9000,1-5000", want: "1-5000,9000"},
		{name: "overlap", in: "1-10,5-20", want: "1-20"},
		{name: "contained", in: "1-100,5-20", want: "1-100"},
		{name: "adjacent", in: "1-10,11-20,21", want: "1-21"},
		{name: "adjacent singles", in: "3,1,2", want: "1-3"},
		{name: "duplicates", in: "7,7,7-7", want: "7"},
		{name: "gap kept", in: "1-10,12-20", want: "1-10,12-20"},
		{name: "single range", in: "5-5", want: "5"},
		{name: "largest id", in: "2147483647", want: "2147483647"},
		{name: "leading zeros", in: "007-010", want: "7-10"},
		{name: "everything is all", in: "1-2147483647", want: ""},
		{name: "everything in pieces is all", in: "1-100,101-2147483647", want: ""},
		{name: "zero", in: "0-5", wantErr: `item "0-5": ad id 0 is not between 1 and 2147483647`},
		{name: "too large", in: "1-2147483648", wantErr: `item "1-2147483648": ad id 2147483648 is not between`},
		{name: "huge", in: "99999999999999999999", wantErr: `item "99999999999999999999": ad id 99999999999999999999 is not between`},
		{name: "reversed", in: "1-5,9-3", wantErr: `item "9-3": the range is reversed (9 > 3)`},
		{name: "empty item", in: "1,,2", wantErr: `item "": empty item`},
		{name: "trailing comma", in: "1,", wantErr: `item "": empty item`},
		{name: "open range", in: "5-", wantErr: `item "5-": an ad id is missing`},
		{name: "negative", in: "-5", wantErr: `item "-5": an ad id is missing`},
		{name: "three parts", in: "1-2-3", wantErr: `item "1-2-3": "2-3" is not an ad id`},
		{name: "sign", in: "+5", wantErr: `item "+5": "+5" is not an ad id`},
		{name: "word", in: "all", wantErr: `item "all": "all" is not an ad id`},
		{name: "inner space", in: "1 2", wantErr: `item "1 2": "1 2" is not an ad id`},
		{name: "dots", in: "1..5", wantErr: `item "1..5"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAdIDRanges(tt.in)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, "ad_id ranges: ")
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got.String())
			require.Equal(t, tt.want == "", got.All())
			again, err := ParseAdIDRanges(got.String())
			require.NoError(t, err)
			require.Equal(t, got, again)
		})
	}
}

func TestAdIDRangesContains(t *testing.T) {
	r, err := ParseAdIDRanges("1-5000,9000,10000-10099,2147483647")
	require.NoError(t, err)
	for id, want := range map[int64]bool{
		-1: false, 0: false, 1: true, 2500: true, 5000: true, 5001: false, 8999: false, 9000: true, 9001: false,
		9999: false, 10000: true, 10099: true, 10100: false, 2147483646: false, 2147483647: true, 2147483648: false,
	} {
		require.Equal(t, want, r.Contains(id), "%d", id)
	}
	var all AdIDRanges
	require.True(t, all.All())
	for id, want := range map[int64]bool{0: false, 1: true, 12345: true, event.MaxAdID: true, event.MaxAdID + 1: false} {
		require.Equal(t, want, all.Contains(id), "%d", id)
	}
}

// TestAdIDRangesAgainstSet compares Contains with a plain set over random small lists.
func TestAdIDRangesAgainstSet(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		set := map[int64]bool{}
		text := ""
		for i := range 1 + rng.IntN(6) {
			lo := 1 + rng.Int64N(60)
			hi := lo + rng.Int64N(8)
			if i > 0 {
				text += ","
			}
			if rng.IntN(3) == 0 {
				hi = lo
				text += strconv.FormatInt(lo, 10)
			} else {
				text += strconv.FormatInt(lo, 10) + "-" + strconv.FormatInt(hi, 10)
			}
			for id := lo; id <= hi; id++ {
				set[id] = true
			}
		}
		r, err := ParseAdIDRanges(text)
		require.NoError(t, err)
		for id := int64(0); id <= 80; id++ {
			require.Equal(t, set[id], r.Contains(id), "%q: %d", text, id)
		}
	}
}

// FuzzParseAdIDRanges: any setting is parsed or refused without panicking; what is accepted has a
// canonical form that reads back as the same set, and its members are valid ad ids.
func FuzzParseAdIDRanges(f *testing.F) {
	for _, s := range []string{"", "1-5000,9000,10000-10099", "5-1", "1,,2", " 3 - 4 ", "2147483647", "0", "1-2147483647", "-", "9-"} {
		f.Add(s, int64(9000))
	}
	f.Fuzz(func(t *testing.T, s string, id int64) {
		r, err := ParseAdIDRanges(s)
		if err != nil {
			require.ErrorContains(t, err, "ad_id ranges: item ")
			return
		}
		again, err := ParseAdIDRanges(r.String())
		require.NoError(t, err)
		require.Equal(t, r, again)
		if r.Contains(id) {
			require.True(t, id >= 1 && id <= event.MaxAdID)
		}
		for i := 1; i < len(r.r); i++ {
			require.Greater(t, r.r[i].lo, r.r[i-1].hi+1, "ranges not merged: %v", r.r)
		}
	})
}

func BenchmarkAdIDRangesContains(b *testing.B) {
	text := ""
	for i := range 1000 {
		if i > 0 {
			text += ","
		}
		text += strconv.Itoa(i*100+1) + "-" + strconv.Itoa(i*100+50)
	}
	r, err := ParseAdIDRanges(text)
	require.NoError(b, err)
	b.ReportAllocs()
	id := int64(0)
	for b.Loop() {
		id = (id + 7919) % 100_000
		r.Contains(id)
	}
}
