package report

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// params is a request's query string, checked against the parameters its endpoint takes: an unknown or
// repeated parameter is an error, so a misspelt one ("start" for "from") is not silently ignored.
type params struct {
	q url.Values
}

func readParams(raw string, allowed ...string) (params, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return params{}, badf("the query string does not parse: %v", err)
	}
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !slices.Contains(allowed, name) {
			return params{}, badf("unknown parameter %q (this endpoint takes %s)", clip(name), strings.Join(allowed, ", "))
		}
		if len(q[name]) > 1 {
			return params{}, badf("parameter %s is given %d times", name, len(q[name]))
		}
	}
	return params{q: q}, nil
}

func (p params) get(name string) string { return p.q.Get(name) }

// format is "json" (the default) or "csv".
func (p params) format() (string, error) {
	switch f := p.get("format"); f {
	case "", "json":
		return "json", nil
	case "csv":
		return "csv", nil
	default:
		return "", badf("format=%q: use json or csv", clip(f))
	}
}

// limit reads limit: def when absent, else 1 to max.
func (p params) limit(def, max int) (int, error) {
	s := p.get("limit")
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > max {
		return 0, badf("limit=%q: use a whole number from 1 to %d", clip(s), max)
	}
	return n, nil
}

// adID reads an ad ID as the ingest API accepts it (1 to 2147483647, ad_id INT); 0 when absent and optional.
func adID(name, s string, required bool) (int64, error) {
	if s == "" && !required {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 || n > 2147483647 || s[0] == '+' {
		return 0, badf("%s=%q: an ad ID is a whole number from 1 to 2147483647", name, clip(s))
	}
	return n, nil
}
