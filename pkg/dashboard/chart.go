package dashboard

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"
)

// The chart of impressions and clicks per day is SVG written here, on the server, by a pure function of the
// days and a layout: the same input gives the same bytes, so tests compare it exactly, and the browser needs
// no script and fetches nothing.
//
// Clicks are usually a hundredth of impressions or less, so on one scale their line would lie flat on the
// axis. Each series therefore has its own scale, both from zero (an honest baseline): impressions on the left
// axis (blue line over a light area), clicks on the right axis (orange line); up to two months, each day also
// gets a marker, a circle for impressions and a square for clicks, so the series differ in shape as well as
// in colour. Each axis ends at four "nice" steps (1, 2, 2.5 or 5 times a power of ten), so the two sets of
// labels share the same four grid lines. The legend above each axis names its series in its colour; where
// the lines cross means nothing, and the page's legend says that clicks have their own scale.
//
// Day ticks are spaced to fit their labels at the layout's font size: every day, every second day, weekly or
// fortnightly on Mondays ("Mar 2"), then monthly, two-, three-, six-monthly or yearly on the first of the
// month ("Apr", with the year on January and on the first label). Every day has a hover band with a <title>
// giving the day's figures; the <title> and <desc> of the SVG say what it shows, and the page lists every day
// in a table as the text alternative.

// chartLayout is the geometry of one rendering, in SVG user units (CSS pixels at the natural size).
type chartLayout struct {
	ID                       string // prefix of the element ids, unique in the page
	Width, Height            float64
	Left, Right, Top, Bottom float64 // margins around the plot; axis labels live there
	FontSize                 float64
}

// The page renders the chart twice and shows one by its width: text in an SVG scales with it, so a chart
// drawn for a desktop would have 5-pixel labels on a phone.
var (
	wideChart   = chartLayout{ID: "chart-wide", Width: 960, Height: 340, Left: 64, Right: 64, Top: 40, Bottom: 34, FontSize: 13}
	narrowChart = chartLayout{ID: "chart-narrow", Width: 360, Height: 280, Left: 42, Right: 42, Top: 40, Bottom: 30, FontSize: 11}
)

const (
	impressionColor = "#1d4ed8" // 6.7:1 on white
	clickColor      = "#b45309" // 5.0:1 on white
	gridColor       = "#d8dee4"
	axisColor       = "#57606a" // 6.4:1 on white
	gridSteps       = 4
	markersUpTo     = 62 // days; beyond, markers would merge into a band
)

// renderChart draws days (consecutive, in order; see fillDays) as an inline SVG element.
func renderChart(days []Day, l chartLayout) template.HTML {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	plotL, plotR, plotT, plotB := l.Left, l.Width-l.Right, l.Top, l.Height-l.Bottom
	plotW, plotH := plotR-plotL, plotB-plotT

	var maxImp, maxClk int64
	for _, d := range days {
		maxImp, maxClk = max(maxImp, d.Impressions), max(maxClk, d.Clicks)
	}
	impStep, clkStep := niceStep(float64(maxImp)), niceStep(float64(maxClk))
	impTop, clkTop := impStep*gridSteps, clkStep*gridSteps

	w(`<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg" viewBox="0 0 %s %s" width="%s" height="%s" `+
		`role="img" aria-labelledby="%s-title %s-desc" font-size="%s">`+"\n",
		num(l.Width), num(l.Height), num(l.Width), num(l.Height), l.ID, l.ID, num(l.FontSize))
	w(`<title id="%s-title">%s</title>`+"\n", l.ID, esc(chartTitle(days)))
	w(`<desc id="%s-desc">%s</desc>`+"\n", l.ID, esc(chartDesc(days, impTop, clkTop)))

	if len(days) == 0 {
		w(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`+"\n", num(plotL), num(plotB), num(plotR), num(plotB), axisColor)
		w(`<text x="%s" y="%s" text-anchor="middle" fill="%s">No data for this range</text>`+"\n",
			num(plotL+plotW/2), num(plotT+plotH/2), axisColor)
		b.WriteString("</svg>")
		return template.HTML(b.String())
	}

	// Grid and the two value axes.
	legendY := plotT - l.FontSize - 6
	w(`<g stroke="%s">`, gridColor)
	for i := 0; i <= gridSteps; i++ {
		y := plotB - plotH*float64(i)/gridSteps
		w(`<line x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(plotL), num(y), num(plotR), num(y))
	}
	b.WriteString("</g>\n")
	for _, a := range []struct {
		x, swatch, text float64
		anchor, color   string
		step            float64
		name            string
	}{
		{plotL - 8, plotL, plotL + 22, "end", impressionColor, impStep, "Impressions"},
		{plotR + 8, plotR - 16, plotR - 22, "start", clickColor, clkStep, "Clicks"},
	} {
		w(`<g fill="%s" text-anchor="%s">`, a.color, a.anchor)
		for i := 0; i <= gridSteps; i++ {
			y := plotB - plotH*float64(i)/gridSteps
			w(`<text x="%s" y="%s">%s</text>`, num(a.x), num(y+l.FontSize*0.35), compact(a.step*float64(i)))
		}
		b.WriteString("</g>\n")
		anchor := "start"
		if a.anchor == "start" { // the right axis: its legend ends at the plot's right edge
			anchor = "end"
		}
		w(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="3"/>`,
			num(a.swatch), num(legendY-l.FontSize*0.35), num(a.swatch+16), num(legendY-l.FontSize*0.35), a.color)
		w(`<text x="%s" y="%s" fill="%s" text-anchor="%s" font-weight="600">%s</text>`+"\n",
			num(a.text), num(legendY), a.color, anchor, a.name)
	}

	// Day ticks.
	band := plotW / float64(len(days))
	x := func(i int) float64 { return plotL + band*(float64(i)+0.5) }
	w(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`+"\n", num(plotL), num(plotB), num(plotR), num(plotB), axisColor)
	w(`<g fill="%s" stroke="%s" text-anchor="middle">`, axisColor, axisColor)
	for _, t := range dayTicks(days, band, l.FontSize) {
		w(`<line x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(x(t.i)), num(plotB), num(x(t.i)), num(plotB+5))
		w(`<text x="%s" y="%s" stroke="none">%s</text>`, num(x(t.i)), num(plotB+l.FontSize+7), esc(t.label))
	}
	b.WriteString("</g>\n")

	// The series.
	yImp := func(v int64) float64 { return plotB - plotH*float64(v)/impTop }
	yClk := func(v int64) float64 { return plotB - plotH*float64(v)/clkTop }
	if len(days) > 1 {
		var area, imp, clk strings.Builder
		fmt.Fprintf(&area, "M%s,%s", num(x(0)), num(plotB))
		for i, d := range days {
			sep := " "
			if i == 0 {
				sep = ""
			}
			fmt.Fprintf(&area, " L%s,%s", num(x(i)), num(yImp(d.Impressions)))
			fmt.Fprintf(&imp, "%s%s,%s", sep, num(x(i)), num(yImp(d.Impressions)))
			fmt.Fprintf(&clk, "%s%s,%s", sep, num(x(i)), num(yClk(d.Clicks)))
		}
		fmt.Fprintf(&area, " L%s,%s Z", num(x(len(days)-1)), num(plotB))
		stroke := num(math.Min(2, math.Max(1.25, band))) // thinner when days are packed, so that peaks stay apart
		w(`<path d="%s" fill="%s" fill-opacity="0.1"/>`+"\n", area.String(), impressionColor)
		w(`<polyline points="%s" fill="none" stroke="%s" stroke-width="%s" stroke-linejoin="round"/>`+"\n", imp.String(), impressionColor, stroke)
		w(`<polyline points="%s" fill="none" stroke="%s" stroke-width="%s" stroke-linejoin="round"/>`+"\n", clk.String(), clickColor, stroke)
	}
	if len(days) <= markersUpTo {
		r := math.Min(3.5, math.Max(2, band/5))
		w(`<g fill="%s">`, impressionColor)
		for i, d := range days {
			w(`<circle cx="%s" cy="%s" r="%s"/>`, num(x(i)), num(yImp(d.Impressions)), num(r))
		}
		w(`</g>`+"\n"+`<g fill="%s">`, clickColor)
		for i, d := range days {
			w(`<rect x="%s" y="%s" width="%s" height="%s"/>`, num(x(i)-r), num(yClk(d.Clicks)-r), num(2*r), num(2*r))
		}
		b.WriteString("</g>\n")
	}

	// Hover bands, on top: one per day, the whole plot's height.
	b.WriteString(`<g fill="transparent">`)
	for i, d := range days {
		w(`<rect x="%s" y="%s" width="%s" height="%s"><title>%s</title></rect>`,
			num(plotL+band*float64(i)), num(plotT), num(band), num(plotH), esc(dayTitle(d)))
	}
	b.WriteString("</g>\n</svg>")
	return template.HTML(b.String())
}

// niceStep is the least of 1, 2, 2.5 or 5 times a power of ten (2.5 from 25 on, so that labels stay whole
// numbers) that fits top in gridSteps steps; 1 when top is 0.
func niceStep(top float64) float64 {
	raw := top / gridSteps
	mag := 1.0
	for mag*10 <= raw {
		mag *= 10
	}
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m == 2.5 && mag < 10 {
			continue
		}
		if m*mag >= raw {
			return m * mag
		}
	}
	return 10 * mag
}

type tick struct {
	i     int
	label string
}

// dayTicks picks the days that get a label: the densest rule whose labels, at fontSize, fit the space
// between them.
func dayTicks(days []Day, band, fontSize float64) []tick {
	charW := fontSize * 0.6 // an average glyph of a sans-serif font
	dates := make([]time.Time, len(days))
	for i, d := range days {
		t, err := time.Parse(time.DateOnly, d.Date)
		if err != nil { // not a date: label by position
			longest := 0
			for _, d := range days {
				longest = max(longest, len(d.Date))
			}
			step := int(math.Ceil((float64(longest)*charW + fontSize) / band))
			var out []tick
			for i := 0; i < len(days); i += max(step, 1) {
				out = append(out, tick{i, days[i].Date})
			}
			return out
		}
		dates[i] = t
	}
	for _, step := range []int{1, 2, 7, 14} {
		if band*float64(step) < 6*charW+fontSize { // "Mar 14"
			continue
		}
		start := 0
		if step >= 7 {
			for start < len(dates)-1 && dates[start].Weekday() != time.Monday {
				start++
			}
		}
		var out []tick
		for i := start; i < len(dates); i += step {
			out = append(out, tick{i, dates[i].Format("Jan 2")})
		}
		return out
	}
	for _, step := range []int{1, 2, 3, 6, 12} {
		// "Jan 2026" beside "Feb": room for half of each, and a gap.
		if band*30.4*float64(step) < 5.5*charW+fontSize && step < 12 {
			continue
		}
		var out []tick
		for i, t := range dates {
			if t.Day() == 1 && (int(t.Month())-1)%step == 0 {
				label := t.Format("Jan")
				if len(out) == 0 || t.Month() == time.January {
					label = t.Format("Jan 2006")
				}
				out = append(out, tick{i, label})
			}
		}
		return out
	}
	return nil
}

func chartTitle(days []Day) string {
	if len(days) == 0 {
		return "Impressions and clicks per day: no days to show"
	}
	return fmt.Sprintf("Impressions and clicks per day, %s to %s", days[0].Date, days[len(days)-1].Date)
}

func chartDesc(days []Day, impTop, clkTop float64) string {
	if len(days) == 0 {
		return "The chart is empty."
	}
	pi, pc := 0, 0
	for i, d := range days {
		if d.Impressions > days[pi].Impressions {
			pi = i
		}
		if d.Clicks > days[pc].Clicks {
			pc = i
		}
	}
	return fmt.Sprintf("%d days. Impressions: blue line, left axis from 0 to %s, the most on %s (%s). "+
		"Clicks: orange line, right axis from 0 to %s, the most on %s (%s). "+
		"The table below the chart lists every day.",
		len(days), compact(impTop), days[pi].Date, formatInt(days[pi].Impressions),
		compact(clkTop), days[pc].Date, formatInt(days[pc].Clicks))
}

func dayTitle(d Day) string {
	date := d.Date
	if t, err := time.Parse(time.DateOnly, d.Date); err == nil {
		date = t.Format("Mon 2006-01-02")
	}
	return fmt.Sprintf("%s: %s impressions, %s clicks, CTR %s",
		date, formatInt(d.Impressions), formatInt(d.Clicks), formatCTR(d.CTR))
}

// num is a coordinate: one decimal at most, none when whole.
func num(x float64) string { return strconv.FormatFloat(math.Round(x*10)/10, 'f', -1, 64) }

func esc(s string) string { return template.HTMLEscapeString(s) }
