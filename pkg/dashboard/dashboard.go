// Package dashboard owns the reports page: one HTML page at "/" with the totals of a date range against the
// period before it, the filtered (invalid) traffic by reason, a server-rendered SVG chart of impressions and
// clicks per day, the click-through rate per ad, the top paths, a date-range picker and links that export
// what is shown as CSV from the JSON API. The page, its stylesheet and its chart are rendered on the server
// from files embedded in the binary: there is no front-end build step, no script, and the browser makes no
// request but the page itself.
//
// It reads the figures through Reports, the interface it declares, and the range rules through a RangeParser
// it is given; it never talks to MariaDB or Redis and never writes anything.
package dashboard

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"
)

// Range is a span of whole calendar days, both ends included; each end is 00:00 UTC of its date. The dates
// are days in the zone the workers count in (TIMEZONE), not UTC days.
type Range struct{ From, To time.Time }

// Totals are valid impressions and clicks. CTR is Clicks/Impressions as a fraction (0.0125 is 1.25%); nil
// when Impressions is 0.
type Totals struct {
	Impressions, Clicks int64
	CTR                 *float64
}

// Day is one day's totals; Date is "YYYY-MM-DD".
type Day struct {
	Date string
	Totals
}

// Filtered is traffic labelled invalid for one reason (prefetch, crawler, …), counted apart from Totals.
type Filtered struct {
	Reason              string
	Impressions, Clicks int64
}

// Summary is a range's totals, those of the period of the same length just before it, the totals per day and
// the filtered traffic by reason. Zone names the time zone of the dates.
type Summary struct {
	Zone                   string
	Range, Previous        Range
	Totals, PreviousTotals Totals
	Days                   []Day
	Filtered               []Filtered
}

// AdRow is one ad's totals over a range, with its filtered traffic by reason.
type AdRow struct {
	AdID int64
	Totals
	Filtered []Filtered
}

// PathRow is one path's hits since counting began; UpdatedAt is when its counter was last synced, if known.
type PathRow struct {
	Path      string
	Hits      int64
	UpdatedAt *time.Time
}

// Reports is what the page reads. An adID of 0 means every ad. Ads sorts by one of the sort keys the page
// links to (ad_id, impressions, clicks, ctr; a leading "-" for descending) and returns at most limit rows;
// Paths returns the limit paths with the most hits whose path starts with prefix ("" for all).
type Reports interface {
	Summary(ctx context.Context, r Range, adID int64) (Summary, error)
	Ads(ctx context.Context, r Range, adID int64, sort string, limit int) ([]AdRow, error)
	Paths(ctx context.Context, prefix string, limit int) ([]PathRow, error)
}

// RangeParser turns the from and to query parameters ("YYYY-MM-DD") into a Range, or says why it cannot (a
// bad date, from after to, a range too long): the reports own the range rules, the page only shows the error.
type RangeParser func(from, to string) (Range, error)

// Options tune the page. The zero value of each field is replaced by its default.
type Options struct {
	Log *zap.Logger      // errors from Reports are logged here; default: none
	Now func() time.Time // the clock the presets count back from; default time.Now
	// Zone is the IANA name of the workers' TIMEZONE: presets end on today's date there, and the page says
	// that dates are days of this zone. Default "UTC". It must load (time.LoadLocation): New panics otherwise,
	// so validate it with the rest of the configuration.
	Zone string
	// APIBase is where the JSON API is served; the export links point there. Default "/api/v1".
	APIBase string
	// Title heads the page. Default "adly reports".
	Title string
	// DefaultPreset is the number of days shown when the query names no range: 7, 30 or 90. Default 30.
	DefaultPreset int
	// AdLimit bounds the rows of the ad table (default 100); PathLimit those of the path table (default 20).
	AdLimit, PathLimit int
}

// presets are the ranges the picker offers, in days ending today.
var presets = [...]int{7, 30, 90}

// defaultSort is the ad table's order when the query names none.
const defaultSort = "-impressions"

//go:embed static/page.html static/style.css
var static embed.FS

// page is the dashboard's http.Handler: GET (and HEAD) of "/" only.
type page struct {
	reports Reports
	parse   RangeParser
	opts    Options
	loc     *time.Location
	log     *zap.Logger
	tmpl    *template.Template
	css     template.CSS
	csp     string
}

// New builds the page, to be mounted at "/": it answers GET and HEAD of "/" and 404 for any other path. It
// panics if Options.Zone is not a time zone.
func New(reports Reports, parseRange RangeParser, opts Options) http.Handler {
	if opts.Log == nil {
		opts.Log = zap.NewNop()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Zone == "" {
		opts.Zone = "UTC"
	}
	if opts.APIBase == "" {
		opts.APIBase = "/api/v1"
	}
	if opts.Title == "" {
		opts.Title = "adly reports"
	}
	if !isPreset(opts.DefaultPreset) {
		opts.DefaultPreset = 30
	}
	if opts.AdLimit <= 0 {
		opts.AdLimit = 100
	}
	if opts.PathLimit <= 0 {
		opts.PathLimit = 20
	}
	loc, err := time.LoadLocation(opts.Zone)
	if err != nil {
		panic(fmt.Sprintf("dashboard: Options.Zone %q: %v", opts.Zone, err))
	}
	css, err := static.ReadFile("static/style.css")
	if err != nil {
		panic("dashboard: embedded file missing: static/style.css") // a build defect, caught by the tests
	}
	tmpl := template.Must(template.New("page.html").ParseFS(static, "static/page.html"))
	// The stylesheet is inline, so the page is one request; the policy allows exactly that stylesheet (by its
	// hash), no script and no fetch at all.
	sum := sha256.Sum256(css)
	csp := "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; " +
		"img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
	return &page{
		reports: reports, parse: parseRange, opts: opts, loc: loc, log: opts.Log.Named("dashboard"),
		tmpl: tmpl, css: template.CSS(css), csp: csp,
	}
}

// ServeHTTP renders the page for the query: 200, 400 for a bad query (with the picker to fix it), 500 when
// the reports cannot be read.
func (p *page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	now := p.opts.Now()
	q, err := parseQuery(r.URL.Query())
	if err != nil {
		p.render(w, http.StatusBadRequest, p.errorView(q, now, "Bad request", err.Error()))
		return
	}
	from, to := q.rangeParams(p.today(now), p.opts.DefaultPreset)
	rng, err := p.parse(from, to)
	if err != nil {
		p.render(w, http.StatusBadRequest, p.errorView(q, now, "Bad date range", err.Error()))
		return
	}
	d, err := p.load(r.Context(), q, rng)
	if err != nil && r.Context().Err() != nil {
		return // the client went away: nobody to answer, nothing wrong with the reports
	}
	if err != nil {
		p.log.Error("reports failed", zap.Error(err), zap.String("query", r.URL.RawQuery))
		v := p.errorView(q, now, "Reports unavailable", "The reports could not be read just now. Try again in a moment.")
		v.Picker.From, v.Picker.To, v.Range = formatDate(rng.From), formatDate(rng.To), formatRange(rng)
		v.Days = daysLabel(dayCount(rng))
		p.render(w, http.StatusInternalServerError, v)
		return
	}
	p.render(w, http.StatusOK, p.view(q, now, rng, d))
}

// data is what one page shows, read from Reports.
type data struct {
	summary Summary
	ads     []AdRow
	paths   []PathRow
}

// load reads the three parts of the page at once; the first error cancels the others.
func (p *page) load(ctx context.Context, q query, rng Range) (data, error) {
	var d data
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		if d.summary, err = p.reports.Summary(ctx, rng, q.AdID); err != nil {
			return fmt.Errorf("summary: %w", err)
		}
		return nil
	})
	g.Go(func() (err error) {
		if d.ads, err = p.reports.Ads(ctx, rng, q.AdID, q.sort(), p.opts.AdLimit); err != nil {
			return fmt.Errorf("ads: %w", err)
		}
		return nil
	})
	g.Go(func() (err error) {
		if d.paths, err = p.reports.Paths(ctx, q.Prefix, p.opts.PathLimit); err != nil {
			return fmt.Errorf("paths: %w", err)
		}
		return nil
	})
	return d, g.Wait()
}

// render writes the page whole or not at all: it is rendered first, so that a template defect is a 500
// rather than half a page.
func (p *page) render(w http.ResponseWriter, status int, v *view) {
	v.CSS = p.css
	var buf bytes.Buffer
	if err := p.tmpl.Execute(&buf, v); err != nil {
		p.log.Error("render page", zap.Error(err))
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", p.csp)
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes()) // a client gone away is no error of ours
}

// today is today's date in the zone, as a Range end (00:00 UTC of that date).
func (p *page) today(now time.Time) time.Time {
	y, m, d := now.In(p.loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func isPreset(days int) bool {
	for _, n := range presets {
		if n == days {
			return true
		}
	}
	return false
}
