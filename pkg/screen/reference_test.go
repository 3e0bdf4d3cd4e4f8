package screen

import (
	"net/http"
	"testing"
)

// reference classifies h uncached, straight from the rules: the first reason of Reasons that is enabled (nil
// enables all) and whose rule fires. It reads headers with http.Header's own accessors.
func reference(enabled []Reason, h http.Header) Reason {
	for _, r := range order {
		if enabled != nil && !contains(enabled, r) {
			continue
		}
		if match(r, h) {
			return r
		}
	}
	return ""
}

// match reports whether the rule of r fires for h.
func match(r Reason, h http.Header) bool {
	ua := h.Get("User-Agent")
	switch r {
	case Prefetch:
		return isPrefetch(h)
	case NoUserAgent:
		return isBlank(ua)
	default:
		return matchUserAgent(r, clip(ua))
	}
}

// FuzzClassify checks that the cache never changes an answer: for any user agents and purpose headers, and
// any set of enabled reasons, a Screen answers as the uncached rules do, on a miss, on a hit, and after
// evictions (its cache holds two user agents).
func FuzzClassify(f *testing.F) {
	long := chromeWindows + string(make([]byte, maxUserAgent))
	for _, seed := range []struct {
		ua, ua2, secPurpose, purpose string
		mask                         uint8
	}{
		{chromeWindows, googlebot, "", "", 0xff},
		{chromeWindows, chromeWindows, "prefetch;prerender", "", 0xff},
		{"", " ", "", "prefetch", 0xfe},
		{headlessChrome, curl, "", "", 0xfb},
		{facebookHit, whatsApp, "", "", 0xf7},
		{curl, dalvik, "", "", 0xef},
		{long + "HeadlessChrome", long + "curl", "", "", 0xff},
		{"\xff\xfeMozilla/", "Mozilla/\x00", "pre\u212aetch", "PREFETCH ; x", 0x3f},
	} {
		f.Add(seed.ua, seed.ua2, seed.secPurpose, seed.purpose, seed.mask)
	}
	f.Fuzz(func(t *testing.T, ua, ua2, secPurpose, purpose string, mask uint8) {
		var enabled []Reason
		if mask != 0xff {
			enabled = []Reason{}
			for i, r := range order {
				if mask&(1<<i) != 0 {
					enabled = append(enabled, r)
				}
			}
		}
		s := New(Options{Enabled: enabled, CacheSize: 2})
		requests := []http.Header{
			{"User-Agent": {ua}, "Sec-Purpose": {secPurpose}},
			{"User-Agent": {ua2}, "X-Moz": {purpose}},
			{"User-Agent": {ua2 + ua}},
			{"User-Agent": {ua}, "Purpose": {purpose}, "X-Purpose": {secPurpose}},
		}
		want := make([]Reason, len(requests))
		for i, h := range requests {
			want[i] = reference(enabled, h)
		}
		for round := range 2 {
			for i, h := range requests {
				if got := s.Classify(h); got != want[i] {
					t.Fatalf("round %d, request %d %q, enabled %v: Classify = %q, rules say %q", round, i, h, enabled, got, want[i])
				}
			}
		}
	})
}
