package report

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"go.uber.org/zap"
)

// API is the JSON (and CSV) API under /api/v1/. Every answer is JSON unless format=csv; every error is
// {"status":"error","error":"<reason>"}.
type API struct {
	store        *Store
	now          func() time.Time
	log          *zap.Logger
	queryTimeout time.Duration
}

// NewAPI returns the API over store; now is the clock the default range is taken from, queryTimeout bounds
// each answer's time in MariaDB.
func NewAPI(store *Store, now func() time.Time, log *zap.Logger, queryTimeout time.Duration) *API {
	return &API{store: store, now: now, log: log, queryTimeout: queryTimeout}
}

// Register adds the endpoints to mux, each wrapped by wrap with its route name (for the metrics).
func (a *API) Register(mux *http.ServeMux, wrap func(route string, h http.Handler) http.Handler) {
	mux.Handle("GET /api/v1/summary", wrap("summary", http.HandlerFunc(a.summary)))
	mux.Handle("GET /api/v1/ads", wrap("ads", http.HandlerFunc(a.ads)))
	mux.Handle("GET /api/v1/ads/{id}/daily", wrap("ad_daily", http.HandlerFunc(a.adDaily)))
	mux.Handle("GET /api/v1/paths", wrap("paths", http.HandlerFunc(a.paths)))
	mux.Handle("GET /api/v1/path", wrap("path", http.HandlerFunc(a.path)))
	mux.Handle("/api/", wrap("not_found", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint; see /api/v1/: summary, ads, ads/{id}/daily, paths, path")
	})))
}

// ok is the status every successful JSON answer starts with.
const ok = "success"

func (a *API) summary(w http.ResponseWriter, r *http.Request) {
	a.serve(w, r, []string{"from", "to", "ad_id", "format"}, func(ctx context.Context, p params, format string) error {
		rng, err := a.rangeOf(p)
		if err != nil {
			return err
		}
		id, err := adID("ad_id", p.get("ad_id"), false)
		if err != nil {
			return err
		}
		s, err := a.store.Summary(ctx, rng, id)
		if err != nil {
			return err
		}
		if format == "csv" {
			h, rows := daysTable(s.Days)
			what := "summary"
			if id != 0 {
				what = "ad-" + itoa(id) + "-summary"
			}
			return writeCSV(w, csvFile(what, rng), h, rows)
		}
		return writeAnswer(w, summaryAnswer{ok, s})
	})
}

func (a *API) ads(w http.ResponseWriter, r *http.Request) {
	a.serve(w, r, []string{"from", "to", "ad_id", "sort", "limit", "format"}, func(ctx context.Context, p params, format string) error {
		rng, err := a.rangeOf(p)
		if err != nil {
			return err
		}
		id, err := adID("ad_id", p.get("ad_id"), false)
		if err != nil {
			return err
		}
		sort, err := ParseSort(p.get("sort"))
		if err != nil {
			return err
		}
		limit, err := p.limit(DefaultLimit, MaxAdsLimit)
		if err != nil {
			return err
		}
		rows, err := a.store.Ads(ctx, rng, id, sort.String(), limit)
		if err != nil {
			return err
		}
		if format == "csv" {
			h, cells := adsTable(rows)
			return writeCSV(w, csvFile("ads", rng), h, cells)
		}
		return writeAnswer(w, adsAnswer{ok, a.store.loc.String(), rng, id, sort.String(), limit, rows})
	})
}

func (a *API) adDaily(w http.ResponseWriter, r *http.Request) {
	a.serve(w, r, []string{"from", "to", "format"}, func(ctx context.Context, p params, format string) error {
		id, err := adID("ad ID", r.PathValue("id"), true)
		if err != nil {
			return err
		}
		rng, err := a.rangeOf(p)
		if err != nil {
			return err
		}
		days, err := a.store.AdDaily(ctx, id, rng)
		if err != nil {
			return err
		}
		if format == "csv" {
			h, rows := daysTable(days)
			return writeCSV(w, csvFile("ad-"+itoa(id)+"-daily", rng), h, rows)
		}
		var imp, clk int64
		for _, d := range days {
			imp, clk = imp+d.Impressions, clk+d.Clicks
		}
		return writeAnswer(w, adDailyAnswer{ok, a.store.loc.String(), rng, id, NewTotals(imp, clk), days})
	})
}

// Path counts are totals since each path was first synced (path_counters has no dates), so these answers
// have no range; their times are in the zone they name.

func (a *API) paths(w http.ResponseWriter, r *http.Request) {
	a.serve(w, r, []string{"prefix", "limit", "format"}, func(ctx context.Context, p params, format string) error {
		limit, err := p.limit(DefaultLimit, MaxPathsLimit)
		if err != nil {
			return err
		}
		prefix := p.get("prefix")
		rows, err := a.store.Paths(ctx, prefix, limit)
		if err != nil {
			return err
		}
		if format == "csv" {
			h, cells := pathsTable(rows)
			return writeCSV(w, "adly-paths-"+Today(a.now(), a.store.loc).Format(DateLayout)+".csv", h, cells)
		}
		return writeAnswer(w, pathsAnswer{ok, a.store.loc.String(), prefix, limit, rows})
	})
}

func (a *API) path(w http.ResponseWriter, r *http.Request) {
	a.serve(w, r, []string{"path", "format"}, func(ctx context.Context, p params, format string) error {
		row, found, err := a.store.Path(ctx, p.get("path"))
		if err != nil {
			return err
		}
		if !found {
			return errNotFound{"no hits of this path have been synced"}
		}
		if format == "csv" {
			h, cells := pathsTable([]PathRow{row})
			return writeCSV(w, "adly-path-"+Today(a.now(), a.store.loc).Format(DateLayout)+".csv", h, cells)
		}
		return writeAnswer(w, pathAnswer{ok, a.store.loc.String(), row})
	})
}

func (a *API) rangeOf(p params) (Range, error) {
	return ParseRange(p.get("from"), p.get("to"), a.now(), a.store.loc, MaxDays)
}

// errNotFound is a 404 with its reason.
type errNotFound struct{ reason string }

func (e errNotFound) Error() string { return e.reason }

// serve reads the parameters, runs fn under the query timeout and maps its error to the answer, in the
// one place errors become statuses: ErrBadRequest 400, errNotFound 404, the timeout 503, anything else 500
// (logged here, once).
func (a *API) serve(w http.ResponseWriter, r *http.Request, allowed []string, fn func(context.Context, params, string) error) {
	p, err := readParams(r.URL.RawQuery, allowed...)
	var format string
	if err == nil {
		format, err = p.format()
	}
	if err == nil {
		ctx, cancel := context.WithTimeout(r.Context(), a.queryTimeout)
		err = fn(ctx, p, format)
		cancel()
	}
	var nf errNotFound
	var we writeErr
	switch {
	case err == nil:
	case errors.As(err, &we):
		// The answer had begun: its status is sent and the client stopped reading.
		a.log.Debug("answer cut short", zap.String("path", r.URL.Path), zap.Error(err))
	case errors.Is(err, ErrBadRequest):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.As(err, &nf):
		writeError(w, http.StatusNotFound, nf.reason)
	case r.Context().Err() != nil:
		// The client went away; nobody reads the answer.
	case errors.Is(err, context.DeadlineExceeded):
		a.log.Warn("report timed out", zap.String("path", r.URL.Path), zap.Duration("timeout", a.queryTimeout))
		writeError(w, http.StatusServiceUnavailable, "the report took longer than REPORT_QUERY_TIMEOUT ("+a.queryTimeout.String()+")")
	default:
		a.log.Error("report failed", zap.String("path", r.URL.Path), zap.Error(err))
		writeError(w, http.StatusInternalServerError, "the report failed; the report service's log says why")
	}
}

// writeErr is an error writing an answer whose status was already sent.
type writeErr struct{ error }

func (e writeErr) Unwrap() error { return e.error }

func jsonHeaders(w http.ResponseWriter, code int) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
}

// writeAnswer answers 200 with a.
func writeAnswer(w http.ResponseWriter, a any) error { return writeJSON(w, http.StatusOK, a) }

// writeJSON encodes v before anything is sent, so that an answer that cannot be encoded is a 500, not a
// 200 cut short, and sends it with its Content-Length: one body write, not chunks.
func writeJSON(w http.ResponseWriter, code int, v any) error {
	buf := answerBufs.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= maxPooledAnswer {
			buf.Reset()
			answerBufs.Put(buf)
		}
	}()
	if err := encodeAnswer(buf, v); err != nil {
		return err
	}
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	jsonHeaders(w, code)
	if _, err := w.Write(buf.Bytes()); err != nil {
		return writeErr{err}
	}
	return nil
}

// encodeAnswer writes v's JSON and a newline into buf: by v's own appendJSON where it has one that can,
// else by encoding/json.
func encodeAnswer(buf *bytes.Buffer, v any) error {
	if a, ok := v.(jsonAppender); ok {
		if out, ok := a.appendJSON(buf.AvailableBuffer()); ok {
			buf.Write(out)
			return nil
		}
	}
	if err := json.NewEncoder(buf).Encode(v); err != nil {
		return fmt.Errorf("encode answer: %w", err)
	}
	return nil
}

// answerBufs holds the buffers answers are encoded into; one larger than maxPooledAnswer (a year of one
// ad's days is about 60 KB) is left to the collector rather than kept.
var answerBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledAnswer = 256 << 10

func writeError(w http.ResponseWriter, code int, reason string) {
	_ = writeJSON(w, code, map[string]string{"status": "error", "error": reason})
}
