package report

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// Realm is the HTTP Basic realm browsers show when they ask for the reports' user and password.
const Realm = "adly reports"

// Access decides who may read the reports: a caller with the bearer token (REPORT_TOKEN), or with the user
// and password (REPORT_USER, REPORT_PASSWORD; HTTP Basic, so a browser asks for them and the dashboard works
// without a login page of its own). With neither configured, everyone may (Config allows that only on a
// loopback listener).
//
// Secrets are compared as SHA-256 digests with subtle.ConstantTimeCompare: equal-length values, compared in
// a time that depends on neither the secret nor how much of it the caller guessed.
type Access struct {
	token          *[32]byte
	user, password *[32]byte
}

// NewAccess configures access; empty values are not set.
func NewAccess(token, user, password string) *Access {
	a := &Access{}
	if token != "" {
		a.token = digest(token)
	}
	if user != "" || password != "" {
		a.user, a.password = digest(user), digest(password)
	}
	return a
}

func digest(s string) *[32]byte {
	d := sha256.Sum256([]byte(s))
	return &d
}

func same(a, b *[32]byte) bool { return subtle.ConstantTimeCompare(a[:], b[:]) == 1 }

// Open reports whether no credential is configured: every request is let in.
func (a *Access) Open() bool { return a.token == nil && a.user == nil }

// Check reports whether r carries a configured credential, and if not, why.
func (a *Access) Check(r *http.Request) (bool, string) {
	if a.Open() {
		return true, ""
	}
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return false, "these reports are private: send the bearer token or the user and password"
	}
	scheme, rest, _ := strings.Cut(auth, " ")
	switch {
	case strings.EqualFold(scheme, "Bearer") && a.token != nil:
		if same(digest(strings.TrimSpace(rest)), a.token) {
			return true, ""
		}
		return false, "wrong token"
	case strings.EqualFold(scheme, "Basic") && a.user != nil:
		user, password, ok := r.BasicAuth()
		if !ok {
			return false, "malformed Basic credentials"
		}
		// Both compared every time: the time taken does not say which one was wrong.
		userOK, passwordOK := same(digest(user), a.user), same(digest(password), a.password)
		if userOK && passwordOK {
			return true, ""
		}
		return false, "wrong user or password"
	default:
		return false, "unsupported authorization scheme " + clip(scheme) + " (" + a.schemes() + ")"
	}
}

// schemes names what the caller may send.
func (a *Access) schemes() string {
	switch {
	case a.token != nil && a.user != nil:
		return "use Bearer or Basic"
	case a.token != nil:
		return "use Bearer"
	default:
		return "use Basic"
	}
}

// Wrap lets through the requests Check accepts and answers the others 401, with a JSON reason and
// WWW-Authenticate for each configured scheme (Basic makes browsers ask for the user and password). refused
// is called for each refusal (a metric).
func (a *Access) Wrap(next http.Handler, refused func()) http.Handler {
	if a.Open() {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok, reason := a.Check(r)
		if ok {
			next.ServeHTTP(w, r)
			return
		}
		refused()
		if a.user != nil {
			w.Header().Add("WWW-Authenticate", `Basic realm="`+Realm+`"`)
		}
		if a.token != nil {
			w.Header().Add("WWW-Authenticate", `Bearer realm="`+Realm+`"`)
		}
		writeError(w, http.StatusUnauthorized, reason)
	})
}
