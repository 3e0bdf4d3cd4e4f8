package screen

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Reason says why a request is not valid traffic; "" means valid.
type Reason string

// The reasons, in the order they are checked (see the package documentation for what triggers each).
const (
	Prefetch    Reason = "prefetch"
	NoUserAgent Reason = "no_user_agent"
	Headless    Reason = "headless"
	LinkPreview Reason = "link_preview"
	Crawler     Reason = "crawler"
	NonBrowser  Reason = "non_browser"
)

// order is the checking order. The Screen reads this array, never Reasons, so a caller that changes Reasons
// changes nothing here.
var order = [...]Reason{Prefetch, NoUserAgent, Headless, LinkPreview, Crawler, NonBrowser}

// Reasons lists every reason in the order they are checked.
var Reasons = slices.Clone(order[:])

// DefaultCacheSize is the number of distinct user agents a Screen remembers when Options.CacheSize is not set.
const DefaultCacheSize = 10000

// ErrBadReason marks a reason list that ParseReasons cannot read.
var ErrBadReason = errors.New("bad screen reason")

// ParseReasons reads a setting that enables reasons: "all" (every reason), "none" (no reason: every request
// is valid), or a comma-separated list of reason names, e.g. "prefetch,crawler". Spaces around a name are
// ignored; a name given twice counts once. The result is in the order of Reasons and, for "none", empty but not
// nil, so that it can be given to Options.Enabled as it is.
func ParseReasons(s string) ([]Reason, error) {
	switch strings.TrimSpace(s) {
	case "all":
		return slices.Clone(order[:]), nil
	case "none":
		return []Reason{}, nil
	case "":
		return nil, fmt.Errorf("%w: empty list (want %s)", ErrBadReason, validNames())
	}
	var on [len(order)]bool
	for name := range strings.SplitSeq(s, ",") {
		name = strings.TrimSpace(name)
		i := slices.Index(order[:], Reason(name))
		if i < 0 {
			return nil, fmt.Errorf("%w %q in %q (want %s)", ErrBadReason, name, s, validNames())
		}
		on[i] = true
	}
	out := make([]Reason, 0, len(order))
	for i, r := range order {
		if on[i] {
			out = append(out, r)
		}
	}
	return out, nil
}

func validNames() string {
	names := make([]string, len(order))
	for i, r := range order {
		names[i] = string(r)
	}
	return "all, none, or a comma list of " + strings.Join(names, ", ")
}

// Options configures a Screen.
type Options struct {
	// Enabled lists the reasons checked; nil means all of them. A request that a reason left out would have
	// caught falls through to the next enabled check. Every element must be one of Reasons.
	Enabled []Reason
	// CacheSize bounds the number of distinct user agents whose answer is remembered; 0 or less means
	// DefaultCacheSize.
	CacheSize int
}

// Screen classifies requests. It is safe for concurrent use.
type Screen struct {
	prefetch bool     // Prefetch is enabled
	noUA     bool     // NoUserAgent is enabled
	uaChecks []Reason // the enabled user-agent reasons, in order
	cache    *cache   // answers of uaChecks per clipped user agent; nil when uaChecks is empty
}

// New returns a Screen for opts. It panics if opts.Enabled holds a reason that is not one of Reasons: that is a
// programming error, since ParseReasons never returns one.
func New(opts Options) *Screen {
	enabled := opts.Enabled
	if enabled == nil {
		enabled = order[:]
	}
	for _, r := range enabled {
		if !slices.Contains(order[:], r) {
			panic(fmt.Sprintf("screen: unknown reason %q", r))
		}
	}
	s := &Screen{
		prefetch: slices.Contains(enabled, Prefetch),
		noUA:     slices.Contains(enabled, NoUserAgent),
	}
	for _, r := range order {
		if isUserAgentCheck(r) && slices.Contains(enabled, r) {
			s.uaChecks = append(s.uaChecks, r)
		}
	}
	if len(s.uaChecks) > 0 {
		size := opts.CacheSize
		if size <= 0 {
			size = DefaultCacheSize
		}
		s.cache = newCache(size)
	}
	return s
}

// Classify returns why the request with headers h is not valid traffic, or "" when it is. It reads the
// headers under their canonical names, as net/http stores them, and never changes h.
func (s *Screen) Classify(h http.Header) Reason {
	// The header checks cost a few comparisons and are not cached.
	if s.prefetch && isPrefetch(h) {
		return Prefetch
	}
	ua := userAgent(h)
	if s.noUA && isBlank(ua) {
		return NoUserAgent
	}
	if s.cache == nil {
		return ""
	}
	// The user-agent checks see only the clipped user agent, so their combined answer is a function of it and
	// can be remembered under it.
	key := clip(ua)
	if r, ok := s.cache.get(key); ok {
		return r
	}
	r := s.classifyUserAgent(key)
	s.cache.put(key, r)
	return r
}

// classifyUserAgent runs the enabled user-agent checks on ua, in order, uncached.
func (s *Screen) classifyUserAgent(ua string) Reason {
	for _, r := range s.uaChecks {
		if matchUserAgent(r, ua) {
			return r
		}
	}
	return ""
}
