package ingest

import (
	"net/http"
	"slices"
)

// cors answers cross-origin requests: tracking is called from other sites' pages.
type cors struct {
	any     bool
	origins []string
}

func newCORS(origins []string) cors {
	if len(origins) == 0 || slices.Contains(origins, "*") {
		return cors{any: true}
	}
	return cors{origins: origins}
}

// apply sets the allow-origin header and reports whether the origin may call us. Requests without an Origin
// header are not cross-origin and are always allowed.
func (c cors) apply(h http.Header, origin string) bool {
	if c.any {
		h["Access-Control-Allow-Origin"] = star
		return true
	}
	h.Add("Vary", "Origin")
	if origin == "" {
		return true
	}
	if slices.Contains(c.origins, origin) {
		h.Set("Access-Control-Allow-Origin", origin)
		return true
	}
	return false
}

var star = []string{"*"}

func (c cors) preflight(h http.Header, allow string) {
	h.Set("Access-Control-Allow-Methods", allow)
	h.Set("Access-Control-Allow-Headers", "Content-Type")
	h.Set("Access-Control-Max-Age", "86400")
}
