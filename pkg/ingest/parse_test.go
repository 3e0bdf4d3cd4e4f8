package ingest

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"adly/pkg/event"
)

func multipartBody(t *testing.T, fields map[string]string) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		require.NoError(t, mw.WriteField(k, v))
	}
	require.NoError(t, mw.Close())
	return mw.FormDataContentType(), buf.Bytes()
}

func TestAdIDFrom(t *testing.T) {
	mpType, mpBody := multipartBody(t, map[string]string{"ad_id": "42", "other": "x"})
	tests := []struct {
		name        string
		query       string
		contentType string
		body        string
		want        int64
		wantErr     string
	}{
		{name: "query", query: "ad_id=123", want: 123},
		{name: "query among others", query: "x=1&ad_id=5&y=2", want: 5},
		{name: "query first value wins", query: "ad_id=5&ad_id=6", want: 5},
		{name: "query escaped key", query: "ad%5Fid=8", want: 8},
		{name: "json body", contentType: "application/json", body: `{"ad_id":123}`, want: 123},
		{name: "json body as text/plain (sendBeacon)", contentType: "text/plain;charset=UTF-8", body: `{"ad_id":77}`, want: 77},
		{name: "json body without content type", body: ` {"ad_id": 9} `, want: 9},
		{name: "json string id", body: `{"ad_id":"12"}`, want: 12},
		{name: "json client ts ignored", body: `{"ad_id":3,"ts":1}`, want: 3},
		{name: "form body", contentType: "application/x-www-form-urlencoded", body: "ad_id=456", want: 456},
		{name: "text/plain form", contentType: "text/plain", body: "ad_id=457\n", want: 457},
		{name: "multipart (sendBeacon FormData)", contentType: mpType, body: string(mpBody), want: 42},
		{name: "query and body agree", query: "ad_id=4", body: `{"ad_id":4}`, want: 4},
		{name: "query used when json lacks it", query: "ad_id=4", body: `{"other":1}`, want: 4},
		{name: "query and body disagree", query: "ad_id=4", body: `{"ad_id":5}`, wantErr: `ad_id is "4" in the query string but "5" in the body`},
		{name: "missing", wantErr: "ad_id is required"},
		{name: "empty query value", query: "ad_id=", wantErr: "ad_id is required"},
		{name: "zero", query: "ad_id=0", wantErr: "between 1 and 2147483647"},
		{name: "too big", query: "ad_id=2147483648", wantErr: "between 1 and 2147483647"},
		{name: "negative json", body: `{"ad_id":-1}`, wantErr: "between 1 and 2147483647"},
		{name: "fraction json", body: `{"ad_id":1.5}`, wantErr: "between 1 and 2147483647"},
		{name: "exponent json", body: `{"ad_id":1e3}`, wantErr: "between 1 and 2147483647"},
		{name: "null json", body: `{"ad_id":null}`, wantErr: "ad_id is required"},
		{name: "bool json", body: `{"ad_id":true}`, wantErr: "between 1 and 2147483647"},
		{name: "bad json", body: `{"ad_id":`, wantErr: "body is not valid JSON"},
		{name: "trailing garbage", body: `{"ad_id":1} x`, wantErr: "body is not valid JSON"},
		{name: "array body", body: `[1]`, wantErr: "must be a JSON object"},
		{name: "bad escape in query", query: "ad_id=%zz", wantErr: "bad escape"},
		{name: "unsupported body type", contentType: "application/xml", body: "<ad_id>1</ad_id>", wantErr: "cannot read a application/xml body"},
		{name: "multipart without boundary", contentType: "multipart/form-data", body: "x", wantErr: "without a boundary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := adIDFrom(tt.query, tt.contentType, []byte(tt.body))
			if tt.wantErr != "" {
				require.ErrorIs(t, err, event.ErrInvalid)
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestPathFrom(t *testing.T) {
	tests := []struct {
		name, query, body, want, wantErr string
	}{
		{name: "query", query: "path=/checking/slug", want: "/checking/slug"},
		{name: "query escaped, own query dropped", query: "path=%2Fa%3Fb%3D1", want: "/a"},
		{name: "json", body: `{"path":"/privacy-policy/"}`, want: "/privacy-policy/"},
		{name: "json unicode", body: `{"path":"/caf\u00e9"}`, want: "/café"},
		{name: "form", body: "path=%2Fx", want: "/x"},
		{name: "missing", wantErr: "path is required"},
		{name: "relative", query: "path=a", wantErr: "must start with /"},
		{name: "json number", body: `{"path":5}`, wantErr: "path must be a string"},
		{name: "control char", query: "path=/a%0Ab", wantErr: "control character"},
		{name: "invalid utf8", query: "path=/a%FF", wantErr: "not valid UTF-8"},
		{name: "too long", query: "path=/" + strings.Repeat("a", 255), wantErr: "256 bytes; the limit is 255"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pathFrom(tt.query, "", []byte(tt.body))
			if tt.wantErr != "" {
				require.ErrorIs(t, err, event.ErrInvalid)
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestParseBatch(t *testing.T) {
	many := "[" + strings.TrimSuffix(strings.Repeat(`{"type":"hit","path":"/"},`, 1001), ",") + "]"
	tests := []struct {
		name      string
		body      string
		want      []event.Event
		wantErr   string
		wantIndex int
	}{
		{
			name: "mixed",
			body: `[{"type":"impression","ad_id":1},{"type":"click","ad_id":"2"},{"type":"hit","path":"/a?x"}]`,
			want: []event.Event{{Type: event.Impression, AdID: 1}, {Type: event.Click, AdID: 2}, {Type: event.Hit, Path: "/a"}},
		},
		{name: "client ts ignored", body: `[{"type":"click","ad_id":3,"ts":5}]`, want: []event.Event{{Type: event.Click, AdID: 3}}},
		{name: "empty", body: `[]`, wantErr: "batch is empty", wantIndex: -1},
		{name: "too many", body: many, wantErr: "batch has 1001 events; the limit is 1000", wantIndex: -1},
		{name: "object", body: `{"type":"hit"}`, wantErr: "JSON array", wantIndex: -1},
		{name: "bad json", body: `[{"type":"hit"`, wantErr: "not valid JSON", wantIndex: -1},
		{name: "bad type", body: `[{"type":"click","ad_id":1},{"type":"view","ad_id":1}]`, wantErr: `event 1: type "view" is not one of`, wantIndex: 1},
		{name: "missing type", body: `[{"ad_id":1}]`, wantErr: "event 0: type is required", wantIndex: 0},
		{name: "missing ad_id", body: `[{"type":"impression","path":"/a"}]`, wantErr: "event 0: ad_id is required", wantIndex: 0},
		{name: "bad ad_id", body: `[{"type":"hit","path":"/"},{"type":"impression","ad_id":0}]`, wantErr: "event 1: ad_id", wantIndex: 1},
		{name: "missing path", body: `[{"type":"hit","ad_id":1}]`, wantErr: "event 0: path is required", wantIndex: 0},
		{name: "bad path", body: `[{"type":"hit","path":"x"}]`, wantErr: "event 0: path \"x\" must start with /", wantIndex: 0},
		{name: "not an object", body: `[1]`, wantErr: "event 0: must be a JSON object", wantIndex: 0},
		{name: "type not a string", body: `[{"type":1}]`, wantErr: "event 0: type must be string", wantIndex: 0},
		{name: "null event", body: `[{"type":"hit","path":"/"},null]`, wantErr: "event 1: must be a JSON object", wantIndex: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseBatch([]byte(tt.body), 1000)
			if tt.wantErr != "" {
				require.ErrorIs(t, err, event.ErrInvalid)
				require.ErrorContains(t, err, tt.wantErr)
				var be *BatchError
				if tt.wantIndex >= 0 {
					require.ErrorAs(t, err, &be)
					require.Equal(t, tt.wantIndex, be.Index)
				} else {
					require.NotErrorAs(t, err, &be)
				}
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

// FuzzAdIDFrom: whatever arrives, the parser never panics, and what it accepts is a valid ad id that one of
// the inputs actually contains.
func FuzzAdIDFrom(f *testing.F) {
	f.Add("ad_id=123", "", []byte(nil))
	f.Add("", "application/json", []byte(`{"ad_id":123}`))
	f.Add("", "text/plain", []byte(`{"ad_id":"7"}`))
	f.Add("", "application/x-www-form-urlencoded", []byte("ad_id=5"))
	f.Add("ad_id=%zz", "multipart/form-data; boundary=x", []byte("--x\r\n"))
	f.Fuzz(func(t *testing.T, query, contentType string, body []byte) {
		id, err := adIDFrom(query, contentType, body)
		if err != nil {
			require.ErrorIs(t, err, event.ErrInvalid)
			return
		}
		require.True(t, id >= 1 && id <= event.MaxAdID, "accepted out-of-range id %d", id)
	})
}

// FuzzParseBatch: accepted batches hold 1..max valid events; rejected ones say why.
func FuzzParseBatch(f *testing.F) {
	f.Add([]byte(`[{"type":"impression","ad_id":1},{"type":"hit","path":"/a"}]`))
	f.Add([]byte(`[{"type":"click","ad_id":"2147483647"}]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`[{"type":"hit","path":"/\u0000"}]`))
	for _, seed := range []string{ // plain forms the one-pass scanner takes, and near misses it must leave alone
		` [ {"type" : "hit" , "path":"/a b?q"} ,{"ad_id":"12","type":"click","ts":17}]	`,
		`[{"type":"impression","ad_id":2147483648}]`, `[{"type":"impression","ad_id":007}]`,
		`[{"type":"impression","ad_id":1.0}]`, `[{"type":"impression","ad_id":1e3}]`, `[{"type":"impression","ad_id":-1}]`,
		`[{"type":"impression","ad_id":""}]`, `[{"type":"impression","ad_id":null}]`, `[{"type":"impression","ad_id":" 1"}]`,
		`[{"type":"hit","path":"/caf\u00e9"}]`, `[{"type":"hit","path":"/café"}]`, "[{\"type\":\"hit\",\"path\":\"/\xff\"}]",
		`[{"type":"hit","path":"/a","path":"/b"}]`, `[{"type":"hit","Path":"/a"}]`, `[{"type":"hit","path":"/a","x":1}]`,
		`[{"type":"click","ad_id":1,"path":5}]`, `[{"type":"hit","path":"/a","ad_id":{}}]`, `[{"type":"click","ad_id":1,"ts":-5}]`,
		`[{"type":"click","ad_id":1,"event_id":"3F1C2A9E-7B4D-4C1E-9A2B-0C3D4E5F6A7B"}]`, `[{"type":"hit","path":"/","event_id":"AbCdEfGh_-012345"}]`,
		`[{"type":"click","ad_id":1,"event_id":""}]`, `[{"type":"click","ad_id":1,"event_id":null}]`, `[{"type":"click","ad_id":1,"event_id":"short"}]`,
		`[{"type":"click","ad_id":1,"event_id":7}]`, `[{"type":"click","ad_id":1,"event_id":"a","event_id":"b"}]`,
		`[{"type":"click","ad_id":1},]`, `[{"type":"click","ad_id":1}] x`, `[{}]`, `[[]]`, `[{"type":"click","ad_id":1}`,
	} {
		f.Add([]byte(seed))
	}
	f.Add([]byte(`[null]`))
	f.Add([]byte(`[{"type":"hit","path":"/"},null]`))
	f.Add([]byte(`[{"TYPE":"click","Ad_Id":1,"type":"impression"}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		events, err := parseBatch(body, 10)
		// The one-pass decoding of valid batches judges exactly as the event-by-event one.
		if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '[' {
			slow, slowErr := parseBatchItems(trimmed, 10)
			require.Equal(t, slowErr == nil, err == nil, "fast %v, item by item %v", err, slowErr)
			if err == nil {
				require.Equal(t, slow, events)
			} else {
				require.Equal(t, slowErr.Error(), err.Error())
			}
		}
		if err != nil {
			require.ErrorIs(t, err, event.ErrInvalid)
			require.True(t, json.Valid(errorJSON(event.Reason(err), nil)))
			return
		}
		require.NotEmpty(t, events)
		require.LessOrEqual(t, len(events), 10)
		for _, e := range events {
			switch e.Type {
			case event.Impression, event.Click:
				require.True(t, e.AdID >= 1 && e.AdID <= event.MaxAdID)
			case event.Hit:
				p, err := event.NormalizePath(e.Path)
				require.NoError(t, err)
				require.Equal(t, p, e.Path, "paths are stored normalised")
			default:
				t.Fatalf("unknown type %v", e.Type)
			}
		}
	})
}

func TestEventIDFrom(t *testing.T) {
	const uuid = "3f1c2a9e-7b4d-4c1e-9a2b-0c3d4e5f6a7b"
	tests := []struct {
		name, query, body string
		want, wantErr     string
	}{
		{name: "none", query: "ad_id=1"},
		{name: "empty query value is none", query: "ad_id=1&event_id="},
		{name: "query", query: "ad_id=1&event_id=" + uuid, want: uuid},
		{name: "query upper-case uuid", query: "ad_id=1&event_id=" + strings.ToUpper(uuid), want: uuid},
		{name: "json", body: `{"ad_id":1,"event_id":"AbCdEfGh_-012345"}`, want: "AbCdEfGh_-012345"},
		{name: "json null is none", body: `{"ad_id":1,"event_id":null}`},
		{name: "form", body: "ad_id=1&event_id=AbCdEfGh_-012345", want: "AbCdEfGh_-012345"},
		{name: "query and body agree", query: "event_id=" + uuid, body: `{"ad_id":1,"event_id":"` + uuid + `"}`, want: uuid},
		{name: "query and body disagree", query: "event_id=AbCdEfGh_-012345", body: `{"ad_id":1,"event_id":"` + uuid + `"}`, wantErr: "event_id is"},
		{name: "too short", query: "ad_id=1&event_id=abc", wantErr: "neither a UUID nor 16 to 32 base64url"},
		{name: "json number", body: `{"ad_id":1,"event_id":12345678901234567}`, wantErr: "event_id must be a string"},
		{name: "bad ad_id still refused first", query: "ad_id=0&event_id=" + uuid, wantErr: "between 1 and"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got, err := adEventFrom(tt.query, "", []byte(tt.body))
			if tt.wantErr != "" {
				require.ErrorIs(t, err, event.ErrInvalid)
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
	t.Run("hit", func(t *testing.T) {
		p, eid, err := hitFrom("path=/a&event_id="+uuid, "", nil)
		require.NoError(t, err)
		require.Equal(t, "/a", p)
		require.Equal(t, uuid, eid)
	})
	t.Run("batch", func(t *testing.T) {
		events, err := parseBatch([]byte(`[{"type":"impression","ad_id":1,"event_id":"`+uuid+`"},{"type":"hit","path":"/a"}]`), 10)
		require.NoError(t, err)
		require.Equal(t, []event.Event{{Type: event.Impression, AdID: 1, ID: uuid}, {Type: event.Hit, Path: "/a"}}, events)
		_, err = parseBatch([]byte(`[{"type":"hit","path":"/a"},{"type":"impression","ad_id":1,"event_id":"nope"}]`), 10)
		var be *BatchError
		require.ErrorAs(t, err, &be)
		require.Equal(t, 1, be.Index)
		require.ErrorContains(t, err, "event_id")
	})
}
