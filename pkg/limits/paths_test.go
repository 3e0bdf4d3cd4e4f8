package limits

import (
	"path"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParsePathPatterns(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string // String()
		wantErr string
	}{
		{name: "empty: all", in: "", want: ""},
		{name: "blank: all", in: " \t", want: ""},
		{name: "list", in: " /about , /blog/*,/docs/** ", want: "/about,/blog/*,/docs/**"},
		{name: "every path", in: "/**", want: "/**"},
		{name: "classes and escapes", in: `/a/[a-z]?,/b\*`, want: `/a/[a-z]?,/b\*`},
		{name: "wildcard base", in: "/u/*/**", want: "/u/*/**"},
		{name: "relative", in: "/a,about", wantErr: `item "about": a pattern must start with /`},
		{name: "empty item", in: "/a,,/b", wantErr: `item "": empty item`},
		{name: "trailing comma", in: "/a,", wantErr: `item "": empty item`},
		{name: "bad class", in: "/a[", wantErr: `item "/a[": bad pattern: syntax error in pattern`},
		{name: "bad escape", in: `/a\`, wantErr: `item "/a\\": bad pattern`},
		{name: "bad class in deep base", in: "/a[/**", wantErr: `item "/a[/**": bad pattern`},
		{name: "inner double star", in: "/a/**/b", wantErr: `item "/a/**/b": "**" is only allowed as a trailing "/**"`},
		{name: "double star suffix without slash", in: "/a**", wantErr: `"**" is only allowed`},
		{name: "double deep", in: "/a/**/**", wantErr: `"**" is only allowed`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePathPatterns(tt.in)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, "path patterns: ")
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got.String())
			require.Equal(t, tt.want == "", got.All())
		})
	}
}

func TestPathPatternsMatch(t *testing.T) {
	tests := []struct {
		patterns string
		yes, no  []string
	}{
		{patterns: "", yes: []string{"/", "/anything/at/all"}},
		{patterns: "/about", yes: []string{"/about"}, no: []string{"/", "/about/", "/about/x", "/About", "/aboutx"}},
		{patterns: "/blog/*", yes: []string{"/blog/x", "/blog/", "/blog/a-b.c"}, no: []string{"/blog", "/blog/x/y", "/blogx/y"}},
		{patterns: "/docs/**", yes: []string{"/docs", "/docs/", "/docs/a", "/docs/a/b/c"}, no: []string{"/doc", "/docsx", "/docsx/a", "/", "/x/docs"}},
		{patterns: "/**", yes: []string{"/", "/a", "/a/b/"}},
		{patterns: "/u/*/**", yes: []string{"/u/ann", "/u/ann/", "/u/ann/posts/1", "/u/"}, no: []string{"/u", "/v/ann/x"}},
		{patterns: "/a/[^x]b/**", yes: []string{"/a/yb", "/a//b", "/a//b/c"}, no: []string{"/a/xb", "/a/xb/c"}},
		{patterns: "/p?", yes: []string{"/p1", "/pp"}, no: []string{"/p", "/p/", "/p12"}},
		{patterns: `/lit\*`, yes: []string{"/lit*"}, no: []string{"/litx", `/lit\*`}},
		{patterns: "/about,/blog/*,/docs/**", yes: []string{"/about", "/blog/x", "/docs/a/b"}, no: []string{"/contact", "/blog/x/y"}},
		{patterns: "/", yes: []string{"/"}, no: []string{"/a"}},
	}
	for _, tt := range tests {
		t.Run(tt.patterns, func(t *testing.T) {
			pp, err := ParsePathPatterns(tt.patterns)
			require.NoError(t, err)
			for _, p := range tt.yes {
				require.True(t, pp.Match(p), "%q should match %q", tt.patterns, p)
			}
			for _, p := range tt.no {
				require.False(t, pp.Match(p), "%q should not match %q", tt.patterns, p)
			}
		})
	}
}

func TestPathPatternsMatchAllocations(t *testing.T) {
	pp, err := ParsePathPatterns("/about,/blog/*,/docs/**,/u/*/**")
	require.NoError(t, err)
	require.Zero(t, testing.AllocsPerRun(100, func() {
		for _, p := range []string{"/about", "/blog/x", "/docs/a/b", "/u/a/b/c", "/nope/nope/nope"} {
			pp.Match(p)
		}
	}))
}

// FuzzPathPatterns: parsing and matching never panic; a pattern without wildcards matches itself and
// nothing else; a literal base with "/**" matches itself and everything below it.
func FuzzPathPatterns(f *testing.F) {
	for _, seed := range [][2]string{
		{"/about", "/about"}, {"/blog/*", "/blog/x"}, {"/docs/**", "/docs/a/b"}, {"/a[", "/a"}, {"/a/**/b", "/a/x/b"},
		{`/b\*`, "/b*"}, {"/**", "/"}, {"/u/*/**", "/u/a/b"}, {"/a,,/b", "/b"}, {"/x/[^a]/**", "/x///"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, patterns, p string) {
		pp, err := ParsePathPatterns(patterns)
		matched := pp.Match(p) // the zero value when refused: admits everything
		if err != nil {
			require.ErrorContains(t, err, "path patterns: item ")
			require.True(t, matched)
			return
		}
		pat := patterns
		if strings.Contains(pat, ",") || strings.TrimSpace(pat) != pat || pat == "" {
			return
		}
		if base, deep := strings.CutSuffix(pat, "/**"); deep {
			if !hasMeta(base) {
				require.Equal(t, p == base || strings.HasPrefix(p, base+"/"), matched, "%q on %q", pat, p)
			}
			return
		}
		if !hasMeta(pat) {
			require.True(t, pp.Match(pat), "%q does not match itself", pat)
			require.Equal(t, p == pat, matched, "%q on %q", pat, p)
			return
		}
		want, _ := path.Match(pat, p)
		require.Equal(t, want, matched, "%q on %q", pat, p)
	})
}

func BenchmarkPathPatternsMatch(b *testing.B) {
	pp, err := ParsePathPatterns("/,/about,/contact,/privacy-policy/,/blog/*,/docs/**,/u/*/**")
	require.NoError(b, err)
	for _, p := range []string{"/about", "/docs/a/b", "/blog/post-1", "/u/ann/posts/1", "/not/admitted/at/all"} {
		b.Run(p, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				pp.Match(p)
			}
		})
	}
}
