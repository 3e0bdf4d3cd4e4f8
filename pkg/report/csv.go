package report

import (
	"encoding/csv"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A CSV answer is one table: a header row, then one row per day, ad or path. The JSON answer holds the rest
// (totals, the previous period, the zone).

// csvCell makes a cell safe to open in a spreadsheet: a cell that begins with =, +, -, @, a tab or a carriage
// return would be read as a formula (paths come from the internet: "=HYPERLINK(…)"), so it gets a leading
// apostrophe, which spreadsheets show as text and do not display.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// writeCSV answers 200 with the table as an attachment named file (which must be a plain token: it is put
// in quotes as it is).
func writeCSV(w http.ResponseWriter, file string, header []string, rows [][]string) error {
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+file+`"`)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	cw.UseCRLF = true // RFC 4180
	record := make([]string, 0, len(header))
	for _, row := range append([][]string{header}, rows...) {
		record = record[:0]
		for _, c := range row {
			record = append(record, csvCell(c))
		}
		if err := cw.Write(record); err != nil {
			return writeErr{err}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return writeErr{err}
	}
	return nil
}

// csvFile is adly-<what>-<from>-<to>.csv.
func csvFile(what string, r Range) string {
	return "adly-" + what + "-" + r.From.Format(DateLayout) + "-" + r.To.Format(DateLayout) + ".csv"
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func ctrCell(t Totals) string {
	if t.CTR == nil {
		return ""
	}
	return strconv.FormatFloat(*t.CTR, 'f', -1, 64)
}

func timeCell(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format(time.RFC3339)
}

// daysTable is date, impressions, clicks, ctr per day.
func daysTable(days []Day) ([]string, [][]string) {
	rows := make([][]string, len(days))
	for i, d := range days {
		rows[i] = []string{d.Date, itoa(d.Impressions), itoa(d.Clicks), ctrCell(d.Totals)}
	}
	return []string{"date", "impressions", "clicks", "ctr"}, rows
}

// adsTable is ad_id, impressions, clicks, ctr per ad, then two columns per filtered reason found in any row
// (filtered_<reason>_impressions, filtered_<reason>_clicks), reasons in alphabetical order.
func adsTable(ads []AdRow) ([]string, [][]string) {
	var names []string
	for _, a := range ads {
		for _, f := range a.Filtered {
			if !slices.Contains(names, f.Reason) {
				names = append(names, f.Reason)
			}
		}
	}
	slices.Sort(names)
	header := []string{"ad_id", "impressions", "clicks", "ctr"}
	for _, n := range names {
		header = append(header, "filtered_"+n+"_impressions", "filtered_"+n+"_clicks")
	}
	rows := make([][]string, len(ads))
	for i, a := range ads {
		row := make([]string, 0, len(header))
		row = append(row, itoa(a.AdID), itoa(a.Impressions), itoa(a.Clicks), ctrCell(a.Totals))
		for _, n := range names {
			var imp, clk int64
			for _, f := range a.Filtered {
				if f.Reason == n {
					imp, clk = f.Impressions, f.Clicks
				}
			}
			row = append(row, itoa(imp), itoa(clk))
		}
		rows[i] = row
	}
	return header, rows
}

// pathsTable is path, hits, created_at, updated_at per path.
func pathsTable(paths []PathRow) ([]string, [][]string) {
	rows := make([][]string, len(paths))
	for i, p := range paths {
		rows[i] = []string{p.Path, itoa(p.Hits), timeCell(p.CreatedAt), timeCell(p.UpdatedAt)}
	}
	return []string{"path", "hits", "created_at", "updated_at"}, rows
}
