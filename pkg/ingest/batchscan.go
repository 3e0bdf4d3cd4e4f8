package ingest

import (
	"unicode/utf8"

	"adly/pkg/event"
)

// scanBatch decodes the plain form of a batch — every event an object of the keys "type", "ad_id", "path",
// "event_id" and "ts", each at most once, with strings free of escapes and control characters and ad_ids in digits —
// in one pass, without reflection. It reports false for anything else, valid or not: parseBatchItems then
// decides, with encoding/json, and names the first invalid event. What it accepts, it decodes exactly as
// parseBatchItems would (FuzzParseBatch checks).
func scanBatch(b []byte, max int) ([]event.Event, bool) {
	s := batchScanner{b: b}
	s.ws()
	if !s.eat('[') {
		return nil, false
	}
	events := make([]event.Event, 0, min(max, 128))
	for {
		s.ws()
		e, ok := s.item()
		if !ok || len(events) == max {
			return nil, false
		}
		events = append(events, e)
		s.ws()
		if s.eat(']') {
			break
		}
		if !s.eat(',') {
			return nil, false
		}
	}
	s.ws()
	return events, s.i == len(s.b)
}

type batchScanner struct {
	b []byte
	i int
}

func (s *batchScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *batchScanner) eat(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// str reads a string with no escapes and no control characters, in valid UTF-8, and returns its content.
func (s *batchScanner) str() ([]byte, bool) {
	if !s.eat('"') {
		return nil, false
	}
	start, ascii := s.i, true
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			v := s.b[start:s.i]
			s.i++
			return v, ascii || utf8.Valid(v)
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= 0x80:
			ascii = false
		}
		s.i++
	}
	return nil, false
}

// digits reads an unsigned integer of 1 to 19 digits (JSON forbids leading zeros; 0 alone is allowed).
func (s *batchScanner) digits() ([]byte, bool) {
	start := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	v := s.b[start:s.i]
	if len(v) == 0 || len(v) > 19 || (len(v) > 1 && v[0] == '0') {
		return nil, false
	}
	if s.i < len(s.b) { // a fraction or an exponent: not plain
		if c := s.b[s.i]; c == '.' || c == 'e' || c == 'E' {
			return nil, false
		}
	}
	return v, true
}

func (s *batchScanner) item() (event.Event, bool) {
	if !s.eat('{') {
		return event.Event{}, false
	}
	var typ, adID, path, eventID []byte
	var seen uint8 // the keys read so far: a key given twice is left to encoding/json
	const hasType, hasAdID, hasPath, hasTS, hasEventID = 1, 2, 4, 8, 16
	s.ws()
	if !s.eat('}') {
		for {
			s.ws()
			key, ok := s.str()
			if !ok {
				return event.Event{}, false
			}
			s.ws()
			if !s.eat(':') {
				return event.Event{}, false
			}
			s.ws()
			var bit uint8
			switch string(key) {
			case "type":
				bit = hasType
				typ, ok = s.str()
			case "ad_id":
				bit = hasAdID
				if s.i < len(s.b) && s.b[s.i] == '"' {
					adID, ok = s.str()
				} else {
					adID, ok = s.digits()
				}
			case "path":
				bit = hasPath
				path, ok = s.str()
			case "ts":
				bit = hasTS
				_, ok = s.digits()
			case "event_id":
				bit = hasEventID
				eventID, ok = s.str()
			default:
				return event.Event{}, false
			}
			if seen&bit != 0 {
				return event.Event{}, false
			}
			seen |= bit
			if !ok {
				return event.Event{}, false
			}
			s.ws()
			if s.eat('}') {
				break
			}
			if !s.eat(',') {
				return event.Event{}, false
			}
		}
	}
	if seen&hasType == 0 {
		return event.Event{}, false
	}
	t, err := event.ParseType(string(typ))
	if err != nil {
		return event.Event{}, false
	}
	var eid string
	if len(eventID) > 0 {
		if eid, err = event.ParseEventID(string(eventID)); err != nil {
			return event.Event{}, false
		}
	}
	if t == event.Hit {
		if seen&hasPath == 0 {
			return event.Event{}, false
		}
		p, err := event.NormalizePath(string(path))
		if err != nil {
			return event.Event{}, false
		}
		return event.Event{Type: t, Path: p, ID: eid}, true
	}
	if seen&hasAdID == 0 {
		return event.Event{}, false
	}
	id, err := event.ParseAdID(string(adID))
	if err != nil {
		return event.Event{}, false
	}
	return event.Event{Type: t, AdID: id, ID: eid}, true
}
