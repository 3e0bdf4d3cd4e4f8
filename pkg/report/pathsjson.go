package report

import (
	"encoding/json"
	"strconv"
	"time"
)

// The top-paths answer is the one report whose SQL takes a fraction of a millisecond, so its encoding is a
// large part of its cost: encoding/json spends most of it on the two times of every row (time.Time's
// MarshalJSON, whose output encoding/json then scans again). appendJSON writes the same bytes directly.
// FuzzPathsAnswerJSON holds it to encoding/json's output, byte for byte; anything it is not sure to write
// the same way (a string that needs escaping, a time MarshalJSON refuses) is handed to encoding/json.

// jsonAppender is an answer that can write its own JSON; ok false means "use encoding/json instead".
type jsonAppender interface {
	appendJSON(dst []byte) (out []byte, ok bool)
}

func (a pathsAnswer) appendJSON(b []byte) ([]byte, bool) {
	if a.Paths == nil {
		return b, false // encoding/json writes null; not worth a case of its own
	}
	b = append(b, `{"status":`...)
	b = appendJSONString(b, a.Status)
	b = append(b, `,"zone":`...)
	b = appendJSONString(b, a.Zone)
	b = append(b, `,"prefix":`...)
	b = appendJSONString(b, a.Prefix)
	b = append(b, `,"limit":`...)
	b = strconv.AppendInt(b, int64(a.Limit), 10)
	b = append(b, `,"paths":[`...)
	for i, p := range a.Paths {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"path":`...)
		b = appendJSONString(b, p.Path)
		b = append(b, `,"hits":`...)
		b = strconv.AppendInt(b, p.Hits, 10)
		b = append(b, `,"created_at":`...)
		var ok bool
		if b, ok = appendJSONTime(b, p.CreatedAt); !ok {
			return b, false
		}
		b = append(b, `,"updated_at":`...)
		if b, ok = appendJSONTime(b, p.UpdatedAt); !ok {
			return b, false
		}
		b = append(b, '}')
	}
	return append(b, "]}\n"...), true
}

// appendJSONString writes s as encoding/json does (with its default HTML escaping): plain printable ASCII
// directly, anything else through encoding/json itself.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendJSONTime writes t as time.Time's MarshalJSON does (RFC 3339 with the fraction it has), or null;
// false for what MarshalJSON refuses: a year outside 0-9999, a zone offset of 24 hours or more.
func appendJSONTime(b []byte, t *time.Time) ([]byte, bool) {
	if t == nil {
		return append(b, "null"...), true
	}
	_, offset := t.Zone()
	if y := t.Year(); y < 0 || y > 9999 || offset <= -24*3600 || offset >= 24*3600 {
		return b, false
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), true
}
