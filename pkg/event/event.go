// Package event owns what adly counts: the event types (impression, click, path hit) and the rules that make
// an event valid — ad ids and path normalisation. The API and the path-tracking middleware both validate
// through it, so a path is normalised the same way whoever produced it.
//
// It never does I/O: it knows nothing of HTTP, Redis or MariaDB.
package event

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Type is the kind of an event.
type Type uint8

// The event types adly counts.
const (
	Impression Type = iota + 1
	Click
	Hit
)

// String is the type's name as clients send it.
func (t Type) String() string {
	switch t {
	case Impression:
		return "impression"
	case Click:
		return "click"
	case Hit:
		return "hit"
	default:
		return "unknown"
	}
}

// ParseType maps a client's type name to a Type.
func ParseType(s string) (Type, error) {
	switch s {
	case "impression":
		return Impression, nil
	case "click":
		return Click, nil
	case "hit":
		return Hit, nil
	case "":
		return 0, fmt.Errorf("%w: type is required (impression, click or hit)", ErrInvalid)
	default:
		return 0, fmt.Errorf("%w: type %q is not one of impression, click, hit", ErrInvalid, truncate(s))
	}
}

// Event is one thing to count. Impressions and clicks carry an AdID; hits carry a normalised Path.
type Event struct {
	Type Type
	AdID int64
	Path string
	// ID is the client's event_id (ParseEventID), "" when it sent none: an event whose ID was stored within
	// the API's EVENT_ID_TTL is not stored again.
	ID string
	// Invalid is why the event is general invalid traffic (a screen.Reason such as "crawler"), "" when it is
	// valid. Invalid events are stored and counted apart from the valid counts, never as valid.
	Invalid string
}

// MaxEventIDBytes is the longest event_id: a UUID (36) or 16–32 base64url characters.
const MaxEventIDBytes = 36

// ParseEventID checks a client's event_id: a UUID (8-4-4-4-12 hexadecimal digits, returned in lower case,
// so that one UUID is one ID however it is written) or 16 to 32 base64url characters (A–Z a–z 0–9 - _,
// returned as given: base64url is case-sensitive). Anything else is invalid.
func ParseEventID(s string) (string, error) {
	if isUUID(s) {
		return strings.ToLower(s), nil
	}
	if n := len(s); n >= 16 && n <= 32 {
		ok := true
		for i := 0; i < n && ok; i++ {
			c := s[i]
			ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
		}
		if ok {
			return s, nil
		}
	}
	return "", fmt.Errorf("%w: event_id %q is neither a UUID nor 16 to 32 base64url characters", ErrInvalid, truncate(s))
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// MaxAdID is the largest ad id: the seed's ad_id column is a signed INT.
const MaxAdID = 2147483647

// MaxPathBytes is the longest path: path_counters.path is VARCHAR(255).
const MaxPathBytes = 255

// ErrInvalid is wrapped by every validation error; the API maps it to HTTP 400.
var ErrInvalid = errors.New("invalid event")

// Reason is the human-readable part of a validation error, without the ErrInvalid prefix.
func Reason(err error) string {
	return strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": ")
}

// ParseAdID parses an ad id given as text: decimal digits only, 1..MaxAdID.
func ParseAdID(s string) (int64, error) {
	if s == "" {
		return 0, fmt.Errorf("%w: ad_id is required", ErrInvalid)
	}
	if len(s) > 10 {
		return 0, fmt.Errorf("%w: ad_id %q is not an integer between 1 and %d", ErrInvalid, truncate(s), MaxAdID)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%w: ad_id %q is not an integer between 1 and %d", ErrInvalid, truncate(s), MaxAdID)
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 || n > MaxAdID {
		return 0, fmt.Errorf("%w: ad_id %q is not an integer between 1 and %d", ErrInvalid, s, MaxAdID)
	}
	return n, nil
}

// NormalizePath turns a client's path into the form that is counted: the query string and fragment are
// dropped; what remains must start with "/" and pass CheckPath. Nothing else is rewritten: "/a/" and "/a" are
// different paths, as are "/A" and "/a".
func NormalizePath(p string) (string, error) {
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	if p != "" && p[0] != '/' {
		return "", fmt.Errorf("%w: path %q must start with /", ErrInvalid, truncate(p))
	}
	if err := CheckPath(p); err != nil {
		return "", err
	}
	return p, nil
}

// CheckPath is the one rule every counted path obeys, whoever wrote it (the API, the tracking middleware, or
// another producer writing hit counters straight to Redis, which the path syncer checks): not empty, valid
// UTF-8, at most MaxPathBytes (path_counters.path), and no control character (IsControl).
func CheckPath(p string) error {
	switch {
	case p == "":
		return fmt.Errorf("%w: path is required", ErrInvalid)
	case !utf8.ValidString(p):
		return fmt.Errorf("%w: path is not valid UTF-8", ErrInvalid)
	case len(p) > MaxPathBytes:
		return fmt.Errorf("%w: path is %d bytes; the limit is %d", ErrInvalid, len(p), MaxPathBytes)
	}
	if i := controlAt(p); i >= 0 {
		r, _ := utf8.DecodeRuneInString(p[i:])
		return fmt.Errorf("%w: path contains the control character %U", ErrInvalid, r)
	}
	return nil
}

// IsControl is adly's one definition of a control character: C0 (U+0000–U+001F), DEL (U+007F) and C1
// (U+0080–U+009F), as unicode.IsControl has it. Paths and configured key names refuse them alike.
func IsControl(r rune) bool { return unicode.IsControl(r) }

// HasControl reports whether s holds a control character (IsControl).
func HasControl(s string) bool { return controlAt(s) >= 0 }

// controlAt is strings.IndexFunc(s, IsControl) without decoding runes (the syncer checks every key it moves):
// C0 and DEL are single bytes, and C1 (U+0080–U+009F) is always encoded 0xC2 0x80–0x9F — 0xC2 is never a
// continuation byte, so that pair starts a rune wherever it stands, even after invalid bytes (which decode
// as U+FFFD, not a control). FuzzControlAt checks it against the definition.
func controlAt(s string) int {
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case b < 0x20 || b == 0x7f:
			return i
		case b == 0xc2 && i+1 < len(s) && s[i+1] >= 0x80 && s[i+1] <= 0x9f:
			return i
		}
	}
	return -1
}

// truncate keeps error messages short when a client sends something huge.
func truncate(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return strings.ToValidUTF8(s[:max], "") + "…"
}

// PathCount is a number of hits on one path.
type PathCount struct {
	Path string
	Hits int64
}

// MergePathCounts sorts counts by path (byte order) and sums the entries of a path that appears more than
// once, in place, returning the shortened slice.
func MergePathCounts(counts []PathCount) []PathCount {
	slices.SortFunc(counts, func(a, b PathCount) int { return strings.Compare(a.Path, b.Path) })
	out := counts[:0]
	for _, c := range counts {
		if n := len(out); n > 0 && out[n-1].Path == c.Path {
			out[n-1].Hits += c.Hits
			continue
		}
		out = append(out, c)
	}
	return out
}

// SumHits is the total of counts.
func SumHits(counts []PathCount) int64 {
	var t int64
	for _, c := range counts {
		t += c.Hits
	}
	return t
}
