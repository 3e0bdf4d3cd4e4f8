package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/url"
	"strings"

	"adly/pkg/event"
)

// The request parsers are pure functions of the raw query, the Content-Type and the body, so they can be
// table-tested and fuzzed without a server. Sources of a field: the query string, then the body (JSON
// whatever the Content-Type — navigator.sendBeacon sends text/plain —, a urlencoded form, or a multipart
// form). When both give the field they must agree.

// adIDFrom finds the ad_id of a tracking request.
func adIDFrom(rawQuery, contentType string, body []byte) (int64, error) {
	src := source{rawQuery: rawQuery, contentType: contentType, body: body}
	return src.adID()
}

// adEventFrom finds the ad_id and the optional event_id of an impression or click request.
func adEventFrom(rawQuery, contentType string, body []byte) (int64, string, error) {
	src := source{rawQuery: rawQuery, contentType: contentType, body: body}
	id, err := src.adID()
	if err != nil {
		return 0, "", err
	}
	eid, err := src.eventID()
	return id, eid, err
}

// hitFrom finds the normalised path and the optional event_id of a hit request.
func hitFrom(rawQuery, contentType string, body []byte) (string, string, error) {
	src := source{rawQuery: rawQuery, contentType: contentType, body: body}
	raw, err := src.field("path", jsonString)
	if err != nil {
		return "", "", err
	}
	p, err := event.NormalizePath(raw)
	if err != nil {
		return "", "", err
	}
	eid, err := src.eventID()
	return p, eid, err
}

// pathFrom finds and normalises the path of a hit request.
func pathFrom(rawQuery, contentType string, body []byte) (string, error) {
	p, _, err := hitFrom(rawQuery, contentType, body)
	return p, err
}

// source is one request's fields: its raw query, Content-Type and body. A JSON body is decoded once, however
// many fields are read from it.
type source struct {
	rawQuery, contentType string
	body                  []byte

	decoded bool
	obj     map[string]json.RawMessage
	objErr  error
}

func (s *source) adID() (int64, error) {
	raw, err := s.field("ad_id", jsonAdID)
	if err != nil {
		return 0, err
	}
	return event.ParseAdID(raw)
}

// eventID is the request's event_id: "" when it has none (absent, empty or JSON null), else a valid ID.
func (s *source) eventID() (string, error) {
	raw, err := s.field("event_id", jsonOptionalString)
	if err != nil || raw == "" {
		return "", err
	}
	return event.ParseEventID(raw)
}

// field returns the text of field from the query and the body; "" when neither has it.
func (s *source) field(field string, fromJSON func(json.RawMessage, string) (string, error)) (string, error) {
	q, inQuery, err := queryValue(s.rawQuery, field)
	if err != nil {
		return "", fmt.Errorf("%w: query string: %v", event.ErrInvalid, err)
	}
	b, inBody, err := s.bodyValue(field, fromJSON)
	if err != nil {
		return "", err
	}
	switch {
	case inQuery && inBody && q != b:
		return "", fmt.Errorf("%w: %s is %q in the query string but %q in the body", event.ErrInvalid, field, q, b)
	case inBody:
		return b, nil
	default:
		return q, nil
	}
}

// queryValue returns the first value of key in a raw query string, unescaping only that value.
func queryValue(raw, key string) (string, bool, error) {
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(part, "=")
		if k != key {
			if strings.ContainsAny(k, "%+") {
				uk, err := url.QueryUnescape(k)
				if err != nil || uk != key {
					continue
				}
			} else {
				continue
			}
		}
		if strings.ContainsAny(v, "%+") {
			uv, err := url.QueryUnescape(v)
			if err != nil {
				return "", false, fmt.Errorf("bad escape in %s", key)
			}
			v = uv
		}
		return v, true, nil
	}
	return "", false, nil
}

func (s *source) bodyValue(field string, fromJSON func(json.RawMessage, string) (string, error)) (string, bool, error) {
	contentType, body := s.contentType, s.body
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return "", false, nil
	}
	if trimmed[0] == '{' {
		if !s.decoded {
			s.decoded = true
			if err := json.Unmarshal(trimmed, &s.obj); err != nil {
				s.objErr = fmt.Errorf("%w: body is not valid JSON: %s", event.ErrInvalid, jsonReason(err))
			}
		}
		if s.objErr != nil {
			return "", false, s.objErr
		}
		raw, ok := s.obj[field]
		if !ok {
			return "", false, nil
		}
		v, err := fromJSON(raw, field)
		return v, err == nil, err
	}
	if trimmed[0] == '[' {
		return "", false, fmt.Errorf("%w: body must be a JSON object, not an array", event.ErrInvalid)
	}
	mediaType, params, _ := mime.ParseMediaType(contentType)
	switch mediaType {
	case "multipart/form-data":
		return multipartValue(body, params["boundary"], field)
	case "", "application/x-www-form-urlencoded", "text/plain":
		v, ok, err := queryValue(strings.TrimSpace(string(body)), field)
		if err != nil {
			return "", false, fmt.Errorf("%w: form body: %v", event.ErrInvalid, err)
		}
		return v, ok, nil
	default:
		return "", false, fmt.Errorf("%w: cannot read a %s body: send JSON or a form", event.ErrInvalid, mediaType)
	}
}

func multipartValue(body []byte, boundary, field string) (string, bool, error) {
	if boundary == "" {
		return "", false, fmt.Errorf("%w: multipart body without a boundary", event.ErrInvalid)
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return "", false, nil
		}
		if err != nil {
			return "", false, fmt.Errorf("%w: multipart body: %v", event.ErrInvalid, err)
		}
		if part.FormName() != field {
			continue
		}
		v, err := io.ReadAll(io.LimitReader(part, 4096))
		if err != nil {
			return "", false, fmt.Errorf("%w: multipart body: %v", event.ErrInvalid, err)
		}
		return string(v), true, nil
	}
}

// jsonAdID accepts an ad_id given as a JSON integer or as a string of digits.
func jsonAdID(raw json.RawMessage, field string) (string, error) {
	if len(raw) > 0 && raw[0] == '"' {
		return jsonString(raw, field)
	}
	s := string(raw)
	if s == "null" {
		return "", fmt.Errorf("%w: %s is required", event.ErrInvalid, field)
	}
	if _, err := event.ParseAdID(s); err != nil {
		return "", err
	}
	return s, nil
}

// jsonOptionalString accepts a string or null (as "").
func jsonOptionalString(raw json.RawMessage, field string) (string, error) {
	if string(raw) == "null" {
		return "", nil
	}
	return jsonString(raw, field)
}

func jsonString(raw json.RawMessage, field string) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%w: %s must be a string", event.ErrInvalid, field)
	}
	return s, nil
}

// batchEvent is one element of a /track/batch body.
type batchEvent struct {
	Type    string          `json:"type"`
	AdID    json.RawMessage `json:"ad_id"`
	Path    json.RawMessage `json:"path"`
	EventID json.RawMessage `json:"event_id"`
}

// BatchError says which event of a batch is invalid.
type BatchError struct {
	Index int
	Err   error
}

func (e *BatchError) Error() string { return fmt.Sprintf("event %d: %s", e.Index, event.Reason(e.Err)) }
func (e *BatchError) Unwrap() error { return e.Err }

// parseBatch reads a JSON array of at most max events; any invalid event rejects the whole batch.
func parseBatch(body []byte, max int) ([]event.Event, error) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '[' {
		return nil, fmt.Errorf("%w: body must be a JSON array of events", event.ErrInvalid)
	}
	// The common case, a valid batch in plain form, is decoded in one pass. Anything else is decoded again
	// event by event, which names the first invalid event and why.
	if events, ok := scanBatch(trimmed, max); ok {
		return events, nil
	}
	return parseBatchItems(trimmed, max)
}

// parseBatchItems decodes a batch event by event, so that an error can say which event is invalid.
func parseBatchItems(trimmed []byte, max int) ([]event.Event, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(trimmed, &raw); err != nil {
		return nil, fmt.Errorf("%w: body is not valid JSON: %s", event.ErrInvalid, jsonReason(err))
	}
	switch {
	case len(raw) == 0:
		return nil, fmt.Errorf("%w: batch is empty", event.ErrInvalid)
	case len(raw) > max:
		return nil, fmt.Errorf("%w: batch has %d events; the limit is %d", event.ErrInvalid, len(raw), max)
	}
	events := make([]event.Event, len(raw))
	for i, r := range raw {
		e, err := batchItem(r)
		if err != nil {
			return nil, &BatchError{Index: i, Err: err}
		}
		events[i] = e
	}
	return events, nil
}

func batchItem(raw json.RawMessage) (event.Event, error) {
	if len(raw) == 0 || raw[0] != '{' {
		return event.Event{}, fmt.Errorf("%w: must be a JSON object", event.ErrInvalid)
	}
	var be batchEvent
	if err := json.Unmarshal(raw, &be); err != nil {
		return event.Event{}, fmt.Errorf("%w: %s", event.ErrInvalid, jsonReason(err))
	}
	return be.event()
}

// event validates a decoded batch item. A JSON null decodes to the zero item, which has no type: refused.
func (be *batchEvent) event() (event.Event, error) {
	typ, err := event.ParseType(be.Type)
	if err != nil {
		return event.Event{}, err
	}
	e := event.Event{Type: typ}
	if len(be.EventID) > 0 {
		raw, err := jsonOptionalString(be.EventID, "event_id")
		if err != nil {
			return event.Event{}, err
		}
		if raw != "" {
			if e.ID, err = event.ParseEventID(raw); err != nil {
				return event.Event{}, err
			}
		}
	}
	if typ == event.Hit {
		if len(be.Path) == 0 {
			return event.Event{}, fmt.Errorf("%w: path is required", event.ErrInvalid)
		}
		p, err := jsonString(be.Path, "path")
		if err != nil {
			return event.Event{}, err
		}
		e.Path, err = event.NormalizePath(p)
		return e, err
	}
	if len(be.AdID) == 0 {
		return event.Event{}, fmt.Errorf("%w: ad_id is required", event.ErrInvalid)
	}
	s, err := jsonAdID(be.AdID, "ad_id")
	if err != nil {
		return event.Event{}, err
	}
	e.AdID, err = event.ParseAdID(s)
	return e, err
}

// jsonReason shortens encoding/json's messages for clients.
func jsonReason(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s at byte %d", se.Error(), se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("%s must be %s, not %s", te.Field, te.Type, te.Value)
	}
	return err.Error()
}
