package demo

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestServesThePageAndTheTracker(t *testing.T) {
	mux := http.NewServeMux()
	Register(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotFound) })
	tests := []struct {
		path, wantType, wantBody string
		wantCode                 int
	}{
		{"/", "text/html; charset=utf-8", `data-ad-id="103"`, http.StatusOK},
		{"/tracker.js", "text/javascript; charset=utf-8", "IntersectionObserver", http.StatusOK},
		{"/index.html", "", "", http.StatusNotFound},
		{"/other", "", "", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest("GET", tt.path, nil))
			require.Equal(t, tt.wantCode, rec.Code)
			if tt.wantCode != http.StatusOK {
				return
			}
			require.Equal(t, tt.wantType, rec.Header().Get("Content-Type"))
			body, _ := io.ReadAll(rec.Body)
			require.True(t, strings.Contains(string(body), tt.wantBody))
		})
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("POST", "/", nil))
	require.Equal(t, http.StatusNotFound, rec.Code, "the page is GET only; other methods fall through")
}
