package report

import (
	"encoding/csv"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Cells a spreadsheet would read as formulas get a leading apostrophe; everything else is written as it is.
func TestCSVEscapesFormulas(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`=HYPERLINK("http://evil.example","x")`, `'=HYPERLINK("http://evil.example","x")`},
		{"+1", "'+1"},
		{"-2", "'-2"},
		{"@x", "'@x"},
		{"\tcmd", "'\tcmd"},
		{"\rcmd", "'\rcmd"},
		{"/a=b", "/a=b"},
		{"/-", "/-"},
		{"'quoted", "'quoted"},
		{"", ""},
		{"42", "42"},
	} {
		require.Equal(t, tt.want, csvCell(tt.in), "%q", tt.in)
	}

	rec := httptest.NewRecorder()
	require.NoError(t, writeCSV(rec, "adly-paths-2026-03-01.csv", []string{"path", "hits"},
		[][]string{{`=HYPERLINK("http://evil.example","x")`, "3"}, {"/a,b", "1"}}))
	require.Equal(t, "text/csv; charset=utf-8", rec.Header().Get("Content-Type"))
	require.Equal(t, `attachment; filename="adly-paths-2026-03-01.csv"`, rec.Header().Get("Content-Disposition"))
	records, err := csv.NewReader(strings.NewReader(rec.Body.String())).ReadAll()
	require.NoError(t, err)
	require.Equal(t, [][]string{{"path", "hits"}, {`'=HYPERLINK("http://evil.example","x")`, "3"}, {"/a,b", "1"}}, records)
	require.Contains(t, rec.Body.String(), "\r\n", "RFC 4180 line ends")
}
