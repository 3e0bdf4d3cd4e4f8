package ingest

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// Every answer is JSON. Success bodies on the hot path are built by hand (no reflection, one allocation).

var jsonHeader = []string{"application/json"}
var noStore = []string{"no-store"}

func writeBody(w http.ResponseWriter, code int, body []byte) {
	h := w.Header()
	h["Content-Type"] = jsonHeader
	h["Cache-Control"] = noStore
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

// adSuccess is the seed's answer: {"status":"success","ad_id":123,"stream_id":"…","ts":…}.
func adSuccess(adID int64, streamID string, ts int64) []byte {
	b := make([]byte, 0, 96)
	b = append(b, `{"status":"success","ad_id":`...)
	b = strconv.AppendInt(b, adID, 10)
	b = append(b, `,"stream_id":"`...)
	b = append(b, streamID...) // Redis stream IDs are digits and a dash: nothing to escape
	b = append(b, `","ts":`...)
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, "}\n"...)
	return b
}

func hitSuccess(path string, ts int64) []byte {
	p, _ := json.Marshal(path)
	b := make([]byte, 0, 48+len(p))
	b = append(b, `{"status":"success","path":`...)
	b = append(b, p...)
	b = append(b, `,"ts":`...)
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, "}\n"...)
	return b
}

type batchSuccess struct {
	Status    string   `json:"status"`
	Count     int      `json:"count"`
	TS        int64    `json:"ts"`
	StreamIDs []string `json:"stream_ids"`
}

type errorBody struct {
	Status string `json:"status"`
	Error  string `json:"error"`
	Index  *int   `json:"index,omitempty"`
}

func errorJSON(msg string, index *int) []byte {
	b, _ := json.Marshal(errorBody{Status: "error", Error: msg, Index: index})
	return append(b, '\n')
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return errorJSON("internal error", nil)
	}
	return append(b, '\n')
}
