package event

import (
	"errors"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/require"
)

func TestParseAdID(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr string
	}{
		{in: "1", want: 1},
		{in: "123", want: 123},
		{in: "0123", want: 123},
		{in: "2147483647", want: MaxAdID},
		{in: "", wantErr: "ad_id is required"},
		{in: "0", wantErr: "between 1 and 2147483647"},
		{in: "2147483648", wantErr: "between 1 and 2147483647"},
		{in: "99999999999", wantErr: "between 1 and 2147483647"},
		{in: "-1", wantErr: "between 1 and 2147483647"},
		{in: "+1", wantErr: "between 1 and 2147483647"},
		{in: "1.5", wantErr: "between 1 and 2147483647"},
		{in: "1e3", wantErr: "between 1 and 2147483647"},
		{in: " 1", wantErr: "between 1 and 2147483647"},
		{in: "abc", wantErr: "between 1 and 2147483647"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseAdID(tt.in)
			if tt.wantErr != "" {
				require.Error(t, err)
				require.True(t, errors.Is(err, ErrInvalid))
				require.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestNormalizePath(t *testing.T) {
	long := "/" + strings.Repeat("a", MaxPathBytes-1)
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr string
	}{
		{name: "root", in: "/", want: "/"},
		{name: "plain", in: "/checking/example-slug", want: "/checking/example-slug"},
		{name: "trailing slash kept", in: "/privacy-policy/", want: "/privacy-policy/"},
		{name: "case kept", in: "/About", want: "/About"},
		{name: "query dropped", in: "/a?b=c", want: "/a"},
		{name: "fragment dropped", in: "/a#top", want: "/a"},
		{name: "query then fragment", in: "/a?x#y", want: "/a"},
		{name: "pattern", in: "GET /checking/{slug}", wantErr: "must start with /"},
		{name: "unicode", in: "/café", want: "/café"},
		{name: "exactly 255 bytes", in: long, want: long},
		{name: "255 bytes after query dropped", in: long + "?q=1", want: long},
		{name: "256 bytes", in: long + "b", wantErr: "256 bytes; the limit is 255"},
		{name: "empty", in: "", wantErr: "path is required"},
		{name: "only query", in: "?a=b", wantErr: "path is required"},
		{name: "relative", in: "a/b", wantErr: "must start with /"},
		{name: "invalid utf8", in: "/a\xff", wantErr: "not valid UTF-8"},
		{name: "newline", in: "/a\nb", wantErr: "control character U+000A"},
		{name: "nul", in: "/a\x00", wantErr: "control character U+0000"},
		{name: "del", in: "/a\x7f", wantErr: "control character U+007F"},
		{name: "c1 control", in: "/a\u0085", wantErr: "control character U+0085"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizePath(tt.in)
			if tt.wantErr != "" {
				require.ErrorIs(t, err, ErrInvalid)
				require.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestParseType(t *testing.T) {
	for _, typ := range []Type{Impression, Click, Hit} {
		got, err := ParseType(typ.String())
		require.NoError(t, err)
		require.Equal(t, typ, got)
	}
	_, err := ParseType("view")
	require.ErrorIs(t, err, ErrInvalid)
	require.Equal(t, `type "view" is not one of impression, click, hit`, Reason(err))
	_, err = ParseType("")
	require.ErrorContains(t, err, "type is required")
}

func TestMergePathCounts(t *testing.T) {
	tests := []struct {
		name string
		in   []PathCount
		want []PathCount
	}{
		{"empty", nil, []PathCount{}},
		{"one", []PathCount{{"/a", 2}}, []PathCount{{"/a", 2}}},
		{"sorted by bytes", []PathCount{{"/b", 1}, {"/a", 2}, {"/B", 3}}, []PathCount{{"/B", 3}, {"/a", 2}, {"/b", 1}}},
		{"duplicates summed", []PathCount{{"/x", 1}, {"/a", 2}, {"/x", 4}, {"/a", 1}, {"/x", 1}}, []PathCount{{"/a", 3}, {"/x", 6}}},
		{"trailing space is another path", []PathCount{{"/a ", 1}, {"/a", 1}}, []PathCount{{"/a", 1}, {"/a ", 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MergePathCounts(tt.in)
			if got == nil {
				got = []PathCount{}
			}
			require.Equal(t, tt.want, got)
			require.Equal(t, SumHits(tt.want), SumHits(got))
		})
	}
}

// controlAt is the fast path of IsControl over a string: it must agree with the definition on any bytes.
func FuzzControlAt(f *testing.F) {
	for _, s := range []string{"", "/a", "/a\x00b", "/a\x7fb", "/a\u0085b", "/a\u009fb", "/a\u00a0b", "\xc2", "\xc2\x85",
		"\xe0\xc2\x85", "\xc1\x85", "/caf\u00e9", "\x85", "/a\u2028b", "\xc2\xc2\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := controlAt(s), strings.IndexFunc(s, unicode.IsControl); got != want {
			t.Fatalf("controlAt(%q) = %d, want %d", s, got, want)
		}
	})
}

func TestParseEventID(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{in: "3f1c2a9e-7b4d-4c1e-9a2b-0c3d4e5f6a7b", want: "3f1c2a9e-7b4d-4c1e-9a2b-0c3d4e5f6a7b"},
		{in: "3F1C2A9E-7B4D-4C1E-9A2B-0C3D4E5F6A7B", want: "3f1c2a9e-7b4d-4c1e-9a2b-0c3d4e5f6a7b"},
		{in: "AbCdEfGh_-012345", want: "AbCdEfGh_-012345"},           // 16 base64url
		{in: strings.Repeat("a", 32), want: strings.Repeat("a", 32)}, // 32
		{in: "0123456789abcdef0123456789abcdef", want: "0123456789abcdef0123456789abcdef"},
		{in: "", wantErr: true},
		{in: strings.Repeat("a", 15), wantErr: true},
		{in: strings.Repeat("a", 33), wantErr: true},
		{in: "AbCdEfGh+/012345", wantErr: true}, // base64, not base64url
		{in: "AbCdEfGh=_012345", wantErr: true},
		{in: "3f1c2a9e-7b4d-4c1e-9a2b-0c3d4e5f6a7g", wantErr: true}, // not hex
		{in: "3f1c2a9e7b4d-4c1e-9a2b-0c3d4e5f6a7b-", wantErr: true}, // dashes misplaced
		{in: "3f1c2a9e-7b4d-4c1e-9a2b-0c3d4e5f6a7b\n", wantErr: true},
		{in: "ééééééééééééééééé", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseEventID(tt.in)
			if tt.wantErr {
				require.ErrorIs(t, err, ErrInvalid)
				require.Contains(t, err.Error(), "event_id")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			require.LessOrEqual(t, len(got), MaxEventIDBytes)
		})
	}
}
