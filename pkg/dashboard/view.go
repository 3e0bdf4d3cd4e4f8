package dashboard

import (
	"html/template"
	"strconv"
	"time"
)

// view is what the template shows: every number already formatted, every URL already built.
type view struct {
	CSS        template.CSS
	Title      string
	Zone       string // the IANA name
	ZoneOffset string // "UTC+01:00 today", or "" for UTC itself
	APIBase    string

	ErrorTitle, Error string

	Picker   picker
	Range    string // "2026-03-01 – 2026-03-30"
	DayCount int
	Days     string // "30 days"
	AdID     int64
	AllAds   string

	Loaded        bool
	PreviousRange string
	Metrics       []metric
	Filtered      filteredView
	Chart         chartView
	Ads           adsView
	Paths         pathsView
}

type picker struct {
	From, To string
	Hidden   []field
	Presets  []presetLink
}

type presetLink struct {
	Days    int
	URL     string
	Current bool
}

type metric struct {
	Name, Value, Previous string
	Change                change
}

// change is a figure against the previous period. Dir is "up", "down" or "flat"; Arrow is ▲ or ▼ (none when
// flat); Text is "+1,234 (+12.0%)", "+1,234 (new)", "0 (–)", or for a rate "+0.25 pp (+12.0%)", "new", "–".
type change struct {
	Dir, Arrow, Word, Text string
}

type filteredView struct {
	Rows  []filteredRow
	Total filteredRow
	Share string // "2.3% of all impressions", or "" when nothing was filtered
}

type filteredRow struct{ Reason, Impressions, Clicks string }

type chartView struct {
	Wide, Narrow template.HTML
	Days         []dayRow
	CSV          string
}

type dayRow struct{ Date, Impressions, Clicks, CTR string }

type adsView struct {
	Hidden  []field
	Columns []column
	Rows    []adRow
	CSV     string
	Limit   int
}

type column struct {
	Label, URL string
	Short      string // the label on a phone, if it differs
	Sort       string // aria-sort: "ascending", "descending" or ""
	Arrow      string
}

type adRow struct {
	AdID                               int64
	Impressions, Clicks, CTR, Filtered string
}

type pathsView struct {
	Hidden []field
	Prefix string
	Rows   []pathRow
	CSV    string
	Limit  int
}

type pathRow struct{ Path, Hits, Updated string }

// base is what every page shows, the error pages too: the title, the zone and the picker.
func (p *page) base(q query, now time.Time) (*view, links) {
	l := links{q: q, api: p.opts.APIBase, adLimit: p.opts.AdLimit, pathLimit: p.opts.PathLimit}
	v := &view{
		Title:   p.opts.Title,
		Zone:    p.opts.Zone,
		APIBase: p.opts.APIBase,
		AdID:    q.AdID,
		AllAds:  l.allAds(),
		Picker:  picker{From: q.From, To: q.To, Hidden: l.hidden(paramFrom, paramTo, paramPreset)},
	}
	if name, off := now.In(p.loc).Zone(); name != "UTC" || off != 0 {
		v.ZoneOffset = "UTC" + now.In(p.loc).Format("-07:00") + " today"
	}
	for _, n := range presets {
		v.Picker.Presets = append(v.Picker.Presets, presetLink{Days: n, URL: l.preset(n)})
	}
	return v, l
}

func (p *page) errorView(q query, now time.Time, title, msg string) *view {
	v, _ := p.base(q, now)
	v.ErrorTitle, v.Error = title, msg
	return v
}

// view is the whole page for a range and what the reports said of it.
func (p *page) view(q query, now time.Time, rng Range, d data) *view {
	v, l := p.base(q, now)
	l.rng = rng
	s := d.summary
	if s.Zone != "" && s.Zone != v.Zone {
		// The reports name the zone of their dates; the offset shown is that of Options.Zone, so it goes.
		v.Zone, v.ZoneOffset = s.Zone, ""
	}
	v.Loaded = true
	v.Picker.From, v.Picker.To = formatDate(rng.From), formatDate(rng.To)
	v.Range = formatRange(rng)
	v.DayCount = dayCount(rng)
	v.Days = daysLabel(v.DayCount)
	v.PreviousRange = formatRange(s.Previous)
	today := p.today(now)
	for i, n := range presets {
		v.Picker.Presets[i].Current = rng.To.Equal(today) && v.DayCount == n
	}

	cur, prev := s.Totals, s.PreviousTotals
	v.Metrics = []metric{
		{"Impressions", formatInt(cur.Impressions), formatInt(prev.Impressions), countChange(cur.Impressions, prev.Impressions)},
		{"Clicks", formatInt(cur.Clicks), formatInt(prev.Clicks), countChange(cur.Clicks, prev.Clicks)},
		{"CTR", formatCTR(cur.CTR), formatCTR(prev.CTR), rateChange(cur.CTR, prev.CTR)},
	}
	v.Filtered = filtered(s.Filtered, cur.Impressions)

	days := fillDays(rng, s.Days)
	v.Chart = chartView{Wide: renderChart(days, wideChart), Narrow: renderChart(days, narrowChart), CSV: l.summaryCSV()}
	for _, day := range days {
		v.Chart.Days = append(v.Chart.Days, dayRow{day.Date, formatInt(day.Impressions), formatInt(day.Clicks), formatCTR(day.CTR)})
	}

	v.Ads = p.ads(q, l, d.ads)
	v.Paths = p.paths(q, l, d.paths)
	return v
}

// ads is the ad table: its sorting headings and its rows.
func (p *page) ads(q query, l links, rows []AdRow) adsView {
	v := adsView{Hidden: l.hidden(paramAdID), CSV: l.adsCSV(), Limit: p.opts.AdLimit}
	for _, c := range []struct{ key, label, short string }{
		{sortAdID, "Ad", ""}, {sortImpressions, "Impressions", "Impr."}, {sortClicks, "Clicks", ""}, {sortCTR, "CTR", ""},
	} {
		col := column{Label: c.label, Short: c.short, URL: l.sortBy(c.key)}
		switch q.sort() {
		case c.key:
			col.Sort, col.Arrow = "ascending", "▲"
		case "-" + c.key:
			col.Sort, col.Arrow = "descending", "▼"
		}
		v.Columns = append(v.Columns, col)
	}
	for _, a := range rows {
		var fi, fc int64
		for _, f := range a.Filtered {
			fi, fc = fi+f.Impressions, fc+f.Clicks
		}
		v.Rows = append(v.Rows, adRow{
			AdID: a.AdID, Impressions: formatInt(a.Impressions), Clicks: formatInt(a.Clicks), CTR: formatCTR(a.CTR),
			Filtered: formatInt(fi) + " / " + formatInt(fc),
		})
	}
	return v
}

// paths is the path table, with each path's last sync in the zone.
func (p *page) paths(q query, l links, rows []PathRow) pathsView {
	v := pathsView{Hidden: l.hidden(paramPrefix), Prefix: q.Prefix, CSV: l.pathsCSV(), Limit: p.opts.PathLimit}
	for _, r := range rows {
		row := pathRow{Path: r.Path, Hits: formatInt(r.Hits), Updated: none}
		if r.UpdatedAt != nil {
			row.Updated = r.UpdatedAt.In(p.loc).Format("2006-01-02 15:04")
		}
		v.Rows = append(v.Rows, row)
	}
	return v
}

// countChange compares two counts: the difference, and the percentage of the previous one; "new" when
// there was none before, "–" when there is none either way.
func countChange(cur, prev int64) change {
	c := direction(float64(cur - prev))
	rel := none
	switch {
	case prev != 0:
		rel = signedFloat(float64(cur-prev)/float64(prev)*100, 1) + "%"
	case cur != 0:
		rel = "new"
	}
	c.Text = signedInt(cur-prev) + " (" + rel + ")"
	return c
}

// rateChange compares two click-through rates: the difference in percentage points and in percent of the
// previous rate; "new" when there was no rate before (no impressions), "–" when there is none now.
func rateChange(cur, prev *float64) change {
	switch {
	case cur == nil:
		return change{Dir: "flat", Text: none}
	case prev == nil:
		return change{Dir: "up", Arrow: "▲", Word: "up", Text: "new"}
	}
	d := *cur - *prev
	if d > -5e-7 && d < 5e-7 { // below the 0.00005 pp the page can show
		d = 0
	}
	c := direction(d)
	rel := none
	switch {
	case *prev != 0:
		rel = signedFloat(d / *prev * 100, 1) + "%"
	case *cur != 0:
		rel = "new"
	}
	c.Text = signedFloat(d*100, 2) + " pp (" + rel + ")"
	return c
}

func direction(d float64) change {
	switch {
	case d > 0:
		return change{Dir: "up", Arrow: "▲", Word: "up"}
	case d < 0:
		return change{Dir: "down", Arrow: "▼", Word: "down"}
	}
	return change{Dir: "flat", Word: "no change"}
}

// reasonLabels name the reasons the API knows today; any other reason is shown as its token.
var reasonLabels = map[string]string{
	"prefetch":      "Prefetch, prerender",
	"no_user_agent": "No User-Agent",
	"headless":      "Headless browser",
	"link_preview":  "Link preview",
	"crawler":       "Crawler",
	"non_browser":   "Non-browser client",
}

func filtered(rows []Filtered, validImpressions int64) filteredView {
	var v filteredView
	var imp, clk int64
	for _, f := range rows {
		label := reasonLabels[f.Reason]
		if label == "" {
			label = f.Reason
		}
		v.Rows = append(v.Rows, filteredRow{label, formatInt(f.Impressions), formatInt(f.Clicks)})
		imp, clk = imp+f.Impressions, clk+f.Clicks
	}
	v.Total = filteredRow{"Total", formatInt(imp), formatInt(clk)}
	if imp > 0 {
		v.Share = formatFloat(float64(imp)/(float64(imp)+float64(validImpressions))*100, 1) + "% of all impressions"
	}
	return v
}

// fillDays returns one Day per date of r, in order: the reports' days where they have one, zero elsewhere
// (a day without traffic may have no row). Days outside r are left out.
func fillDays(r Range, days []Day) []Day {
	byDate := make(map[string]Day, len(days))
	for _, d := range days {
		byDate[d.Date] = d
	}
	n := dayCount(r)
	out := make([]Day, 0, max(n, 0))
	for i := 0; i < n; i++ {
		date := formatDate(r.From.AddDate(0, 0, i))
		d, ok := byDate[date]
		if !ok {
			d = Day{Date: date}
		}
		out = append(out, d)
	}
	return out
}

// dayCount is the number of days of r, both ends included.
func dayCount(r Range) int {
	if r.To.Before(r.From) {
		return 0
	}
	return int(r.To.Sub(r.From).Hours()/24+0.5) + 1
}

func formatRange(r Range) string {
	if r.From.IsZero() && r.To.IsZero() {
		return none
	}
	if r.From.Equal(r.To) {
		return formatDate(r.From)
	}
	return formatDate(r.From) + " – " + formatDate(r.To)
}

// daysLabel is "1 day" or "30 days".
func daysLabel(n int) string {
	if n == 1 {
		return "1 day"
	}
	return strconv.Itoa(n) + " days"
}
