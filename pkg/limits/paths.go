package limits

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// PathPatterns is a set of admitted paths for path hits. The zero value admits every path, as does the
// empty setting. It is immutable and safe for concurrent use.
type PathPatterns struct {
	items    []string            // the patterns as given, trimmed; nil: every path
	exact    map[string]struct{} // patterns without wildcards
	globs    []string            // patterns with wildcards, matched by path.Match
	prefixes []string            // the bases of literal "<base>/**" patterns
	deep     []string            // the bases of "<base>/**" patterns with wildcards
}

// ParsePathPatterns reads a comma-separated list of path patterns, such as "/about,/blog/*,/docs/**". An
// empty or blank string admits every path; whitespace around items is ignored. Each pattern starts with "/"
// and is one of:
//
//   - an exact path: "/about" matches "/about" only (not "/about/", not "/about/x");
//   - a path.Match pattern: "*" is any run of characters other than "/", "?" one such character, "[a-z]" a
//     class, "\" escapes the next character; "/blog/*" matches "/blog/x" but neither "/blog" nor "/blog/x/y";
//   - any of those followed by "/**": the base itself and everything below it; "/docs/**" matches "/docs",
//     "/docs/" and "/docs/a/b" but not "/docsx"; "/**" alone matches every path.
//
// "**" anywhere but a trailing "/**" is refused rather than read as two stars, so that nobody writes
// "/a/**/b" believing it spans segments. An empty item, a pattern not starting with "/" and a malformed one
// (path.ErrBadPattern) are errors naming the item.
func ParsePathPatterns(s string) (PathPatterns, error) {
	if strings.TrimSpace(s) == "" {
		return PathPatterns{}, nil
	}
	pp := PathPatterns{exact: map[string]struct{}{}}
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if err := pp.add(item); err != nil {
			return PathPatterns{}, fmt.Errorf("path patterns: item %q: %w", item, err)
		}
		pp.items = append(pp.items, item)
	}
	return pp, nil
}

func (pp *PathPatterns) add(item string) error {
	if item == "" {
		return errors.New("empty item")
	}
	if item[0] != '/' {
		return errors.New("a pattern must start with /")
	}
	base, deep := strings.CutSuffix(item, "/**")
	if strings.Contains(base, "**") {
		return errors.New(`"**" is only allowed as a trailing "/**"`)
	}
	if _, err := path.Match(base, ""); err != nil {
		return fmt.Errorf("bad pattern: %w", err)
	}
	literal := !hasMeta(base)
	switch {
	case deep && literal:
		pp.prefixes = append(pp.prefixes, base)
	case deep:
		pp.deep = append(pp.deep, base)
	case literal:
		pp.exact[base] = struct{}{}
	default:
		pp.globs = append(pp.globs, base)
	}
	return nil
}

// hasMeta reports whether p has a character path.Match treats specially.
func hasMeta(p string) bool { return strings.ContainsAny(p, `*?[\`) }

// All reports whether every path is admitted.
func (pp PathPatterns) All() bool { return pp.items == nil }

// Match reports whether p, a normalised path (event.NormalizePath), is admitted. It does not allocate.
func (pp PathPatterns) Match(p string) bool {
	if pp.items == nil {
		return true
	}
	if _, ok := pp.exact[p]; ok {
		return true
	}
	for _, base := range pp.prefixes {
		if strings.HasPrefix(p, base) && (len(p) == len(base) || p[len(base)] == '/') {
			return true
		}
	}
	for _, g := range pp.globs {
		if ok, _ := path.Match(g, p); ok {
			return true
		}
	}
	for _, base := range pp.deep {
		if matchBelow(base, p) {
			return true
		}
	}
	return false
}

// matchBelow reports whether p is a path the pattern base matches, or one with such a path and "/" in
// front. Every "/" of p is tried as the cut: a class such as "[^x]" can match "/" too, so the number of
// segments of base does not tell where to cut.
func matchBelow(base, p string) bool {
	if ok, _ := path.Match(base, p); ok {
		return true
	}
	for i := 0; i < len(p); i++ {
		if p[i] != '/' {
			continue
		}
		if ok, _ := path.Match(base, p[:i]); ok {
			return true
		}
	}
	return false
}

// String is the patterns as given, trimmed and joined by commas; "" when every path is admitted.
func (pp PathPatterns) String() string { return strings.Join(pp.items, ",") }
