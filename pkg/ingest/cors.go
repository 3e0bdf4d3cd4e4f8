package ingest

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// cors decides which sites may send events and answers cross-origin requests: tracking is called from other
// sites' pages.
//
// With CORS_ALLOWED_ORIGINS=* (the default) every request is allowed. With a list, a request is allowed only
// when its origin is on it: the Origin header, or, when a request has none (a simple GET from an <img>, a
// beacon of some browsers), the scheme://host[:port] of its Referer. A request with neither header is
// allowed only when CORS_ALLOW_NO_ORIGIN is true (default false): a foreign page can strip both (a
// no-referrer policy on an <img> GET), so accepting them would let any site send events past the list.
// Server-side producers behind such a list send an Origin header of a listed site. "Origin: null" (sandboxed
// frames, file: pages) is an origin like any other: refused unless "null" is listed. The check stops
// browsers on other sites; a non-browser client can send any header, which is what the rate limit and the
// invalid-traffic filters are for.
type cors struct {
	any           bool
	origins       []string // normalised: lower case, no trailing slash
	allowNoOrigin bool
}

func newCORS(origins []string, allowNoOrigin bool) cors {
	if len(origins) == 0 || slices.Contains(origins, "*") {
		return cors{any: true}
	}
	norm := make([]string, len(origins))
	for i, o := range origins {
		norm[i] = normalizeOrigin(o)
	}
	return cors{origins: norm, allowNoOrigin: allowNoOrigin}
}

func normalizeOrigin(o string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(o)), "/")
}

// apply sets the allow-origin header and reports whether the request's site may send events.
func (c cors) apply(h http.Header, rh http.Header) bool {
	if c.any {
		h["Access-Control-Allow-Origin"] = star
		return true
	}
	h.Add("Vary", "Origin")
	origin := rh.Get("Origin")
	if origin == "" {
		ref := rh.Get("Referer")
		if ref == "" {
			return c.allowNoOrigin
		}
		o := refererOrigin(ref)
		return o != "" && slices.Contains(c.origins, o)
	}
	if slices.Contains(c.origins, normalizeOrigin(origin)) {
		h.Set("Access-Control-Allow-Origin", origin)
		return true
	}
	return false
}

// refererOrigin is the scheme://host[:port] of a Referer, "" when it is not an absolute URL (refused: a
// Referer that names no site names no listed site).
func refererOrigin(ref string) string {
	u, err := url.Parse(ref)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

var star = []string{"*"}

func (c cors) preflight(h http.Header, allow string) {
	h.Set("Access-Control-Allow-Methods", allow)
	h.Set("Access-Control-Allow-Headers", "Content-Type")
	h.Set("Access-Control-Max-Age", "86400")
}
