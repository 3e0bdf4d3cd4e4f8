// Package demo owns the page a person can open to watch tracking happen, and tracker.js, the small
// dependency-free script any site includes to count ad impressions (IAB viewability: 50% visible for one
// second) and clicks. Both are embedded in the API binary; there is no build step.
//
// It only serves static files: it never counts anything itself and never touches Redis or MariaDB.
package demo

import (
	"embed"
	"net/http"
)

//go:embed static/index.html static/tracker.js
var static embed.FS

// Register adds GET / (the demo page) and GET /tracker.js to mux.
func Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", serve("static/index.html", "text/html; charset=utf-8", "no-cache"))
	mux.HandleFunc("GET /tracker.js", serve("static/tracker.js", "text/javascript; charset=utf-8", "public, max-age=300"))
}

func serve(name, contentType, cacheControl string) http.HandlerFunc {
	body, err := static.ReadFile(name)
	if err != nil {
		panic("demo: embedded file missing: " + name) // a build defect, caught by the tests
	}
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", cacheControl)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(body)
	}
}
