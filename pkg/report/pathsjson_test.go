package report

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// The hand-written top-paths JSON must be what encoding/json writes, byte for byte.
func checkPathsJSON(t *testing.T, a pathsAnswer) {
	t.Helper()
	var want bytes.Buffer
	wantErr := json.NewEncoder(&want).Encode(a)
	got, ok := a.appendJSON(nil)
	switch {
	case !ok:
		// Handed to encoding/json: writeJSON answers exactly what encoding/json does.
	case wantErr != nil:
		t.Fatalf("appendJSON wrote %q where encoding/json fails: %v", got, wantErr)
	case !bytes.Equal(got, want.Bytes()):
		t.Fatalf("appendJSON differs from encoding/json:\n got %s\nwant %s", got, want.Bytes())
	}
	var buf bytes.Buffer
	err := encodeAnswer(&buf, a)
	if (err != nil) != (wantErr != nil) || err == nil && !bytes.Equal(buf.Bytes(), want.Bytes()) {
		t.Fatalf("encodeAnswer = %q, %v; encoding/json %q, %v", buf.Bytes(), err, want.Bytes(), wantErr)
	}
}

func TestPathsAnswerJSON(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	t1 := time.Date(2026, 3, 1, 10, 0, 0, 0, berlin)
	t2 := time.Date(2026, 7, 2, 23, 30, 5, 120000000, time.UTC)
	t3 := time.Date(1999, 12, 31, 23, 59, 59, 1, time.FixedZone("", -(9*3600+30*60)))
	far := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", -24*3600))
	for _, tc := range []struct {
		name string
		a    pathsAnswer
		fast bool // appendJSON writes it itself
	}{
		{"no paths", pathsAnswer{ok, "UTC", "", 100, []PathRow{}}, true},
		{"nil paths", pathsAnswer{ok, "UTC", "", 100, nil}, false},
		{"rows", pathsAnswer{ok, "Europe/Berlin", "/blog/", 2, []PathRow{
			{Path: "/blog/a", Hits: 42, CreatedAt: &t1, UpdatedAt: &t2},
			{Path: "/blog/b?x=1", Hits: 0, CreatedAt: nil, UpdatedAt: &t3},
		}}, true},
		{"escapes", pathsAnswer{ok, "UTC", `<&>"\`, 1, []PathRow{
			{Path: "/\u00e9t\u00e9/\u2028<script>\"x\"\\", Hits: -1, CreatedAt: &t1},
			{Path: "/a\x00b\tc\x7f", Hits: 1},
			{Path: "/bad\xff\xfeutf8", Hits: 1},
		}}, true},
		// Each character that needs escaping on its own in a string that is otherwise plain.
		{"one escape each", pathsAnswer{ok, "<", ">", 1, []PathRow{
			{Path: "/a&b"}, {Path: `/a"b`}, {Path: `/a\b`}, {Path: "/a\x1fb"}, {Path: "/a\x7fb"}, {Path: "/\u00e9"},
		}}, true},
		{"year 10000", pathsAnswer{ok, "UTC", "", 1, []PathRow{{Path: "/", Hits: 1, CreatedAt: &far}}}, false},
		{"zone of 24 hours", pathsAnswer{ok, "UTC", "", 1, []PathRow{{Path: "/", Hits: 1, UpdatedAt: &day}}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, ok := tc.a.appendJSON(nil); ok != tc.fast {
				t.Fatalf("appendJSON ok = %v, want %v", ok, tc.fast)
			}
			checkPathsJSON(t, tc.a)
		})
	}
}

func FuzzPathsAnswerJSON(f *testing.F) {
	f.Add("/blog/a", "/blog/", "Europe/Berlin", int64(42), int64(1772359200), int64(0), true, -3600)
	f.Add("/\u00e9<&>\"\\\x01\xff", "", "UTC", int64(-7), int64(-62135596800), int64(999999999), false, 0)
	f.Add("", "%_!", "", int64(1<<62), int64(253402300800), int64(1), true, 50400)
	f.Fuzz(func(t *testing.T, path, prefix, zone string, hits, unix, nanos int64, updated bool, offset int) {
		ts := time.Unix(unix, nanos%1e9).In(time.FixedZone(zone, offset%(30*3600)))
		row := PathRow{Path: path, Hits: hits, CreatedAt: &ts}
		if updated {
			row.UpdatedAt = &ts
		}
		checkPathsJSON(t, pathsAnswer{ok, zone, prefix, int(hits % 1000), []PathRow{row, {Path: prefix, Hits: unix}}})
	})
}
