// Package ingest owns adly's HTTP ingest: the seed's tracking endpoints and their clean-named twins, path hits
// and batches, request validation, origins (CORS, enforced on every request), and the mapping of every outcome
// to a JSON answer. It applies the rules of screen (which traffic is valid) and limits (per-client rate,
// allowed ad_ids and paths) in this order: method (preflights answered), origin, memory guard, rate limit —
// all before the body is read — then parsing, the allowlists, the invalid-traffic label and the write. A request refused at any step
// stores nothing.
//
// It only publishes to Redis, through publish.Publisher. It never touches MariaDB, never trims a stream (that
// belongs to the workers, behind consumption) and never logs per event.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"go.uber.org/zap"

	"adly/pkg/event"
	"adly/pkg/limits"
	"adly/pkg/publish"
	"adly/pkg/screen"
)

// HandlerOptions tune the handler.
type HandlerOptions struct {
	AllowedOrigins []string // "*" allows every origin
	// AllowNoOrigin admits requests with neither Origin nor Referer when AllowedOrigins is a list (cors).
	AllowNoOrigin  bool
	MaxBodyBytes   int64
	MaxBatchEvents int
	Now            func() time.Time // the clock that stamps ts; time.Now when nil
	// Guard, when set, refuses every write while it says so (Redis nearly full).
	Guard Guard
	// Screen, when set, labels general invalid traffic (screen.Screen); nil counts every request as valid.
	Screen Screen
	// Limiter, when set, bounds each client's tracking requests (limits.Limiter): one token per request.
	Limiter RateLimiter
	// Clients tells who the client of a request is (its address, or X-Forwarded-For from trusted proxies).
	Clients limits.ClientAddr
	// AdIDs and Paths admit events: an ad_id outside AdIDs or a hit outside Paths is refused with 400. Their
	// zero values admit everything.
	AdIDs limits.AdIDRanges
	Paths limits.PathPatterns
}

// RateLimiter takes n tokens from a client's bucket, or says how long until they are there.
type RateLimiter interface {
	Allow(addr netip.Addr, n int) (ok bool, retryAfter time.Duration)
}

// Screen labels a request as valid ("") or as general invalid traffic, with the reason. The answer to the
// client does not depend on it: invalid impressions and clicks are stored with their reason and counted apart;
// invalid hits are counted in adly_api_filtered_events_total only (path_counters has no reason column, and
// storing them would let bots create path keys).
type Screen interface {
	Classify(h http.Header) screen.Reason
}

// Guard says whether writes must be refused now, and why. Refusing is asked on every request and must cost no
// more than an atomic load (publish.MemoryGuard polls Redis in the background); Reason is read once.
type Guard interface {
	Refusing() bool
	Reason() string
}

// Publisher is what the handler uses of the API's Redis writer (*publish.Publisher): one call that stores a
// request's events and answers their stream IDs.
type Publisher interface {
	Publish(ctx context.Context, events []event.Event, ts int64) ([]string, error)
}

var (
	_ Guard       = (*publish.MemoryGuard)(nil)
	_ Publisher   = (*publish.Publisher)(nil)
	_ Screen      = (*screen.Screen)(nil)
	_ RateLimiter = (*limits.Limiter)(nil)
)

// Handler serves the tracking endpoints.
type Handler struct {
	pub      Publisher
	log      *zap.Logger
	metrics  *Metrics
	cors     cors
	maxBody  int64
	maxBatch int
	now      func() time.Time
	mux      *http.ServeMux

	guard       Guard
	guardAnswer []byte
	screen      Screen
	limiter     RateLimiter
	clients     limits.ClientAddr
	adIDs       limits.AdIDRanges
	paths       limits.PathPatterns
}

// NewHandler builds the handler and its routes.
func NewHandler(pub Publisher, log *zap.Logger, metrics *Metrics, opts HandlerOptions) *Handler {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	if opts.MaxBatchEvents <= 0 {
		opts.MaxBatchEvents = 1000
	}
	h := &Handler{
		pub: pub, log: log, metrics: metrics, cors: newCORS(opts.AllowedOrigins, opts.AllowNoOrigin),
		maxBody: opts.MaxBodyBytes, maxBatch: opts.MaxBatchEvents, now: opts.Now,
		mux: http.NewServeMux(), guard: opts.Guard, screen: opts.Screen,
		limiter: opts.Limiter, clients: opts.Clients, adIDs: opts.AdIDs, paths: opts.Paths,
	}
	if h.guard != nil {
		h.guardAnswer = errorJSON(h.guard.Reason(), nil)
	}
	impression := h.endpoint("impression", true, h.adEvent(event.Impression))
	click := h.endpoint("click", true, h.adEvent(event.Click))
	h.mux.Handle("/track_impression.php", impression)
	h.mux.Handle("/track/impression", impression)
	h.mux.Handle("/track_click.php", click)
	h.mux.Handle("/track/click", click)
	h.mux.Handle("/track/hit", h.endpoint("hit", true, h.hit))
	h.mux.Handle("/track/batch", h.endpoint("batch", false, h.batch))
	notFound := h.metrics.route("not_found")
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		writeBody(w, http.StatusNotFound, errorJSON("no such endpoint: "+r.URL.Path, nil))
		notFound.observe(http.StatusNotFound, start)
	})
	return h
}

// Mux exposes the routes so that a binary can add its own (the demo page, later) beside them.
func (h *Handler) Mux() *http.ServeMux { return h.mux }

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// serveFunc handles a validated request: the method is allowed, the body is read and the traffic labelled
// (ivt is "" for valid traffic).
type serveFunc func(w http.ResponseWriter, r *http.Request, body []byte, ivt screen.Reason) (code int, resp []byte)

// endpoint wraps a serveFunc with what every tracking route shares: CORS, preflights, methods, the body
// limit and metrics.
func (h *Handler) endpoint(name string, allowGet bool, fn serveFunc) http.Handler {
	rt := h.metrics.route(name)
	allow := "POST, OPTIONS"
	if allowGet {
		allow = "GET, POST, OPTIONS"
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		code, body := h.serve(w, r, allowGet, allow, fn)
		switch code {
		case http.StatusNoContent:
			w.WriteHeader(code)
		case http.StatusServiceUnavailable:
			w.Header().Set("Retry-After", "1")
			writeBody(w, code, body)
		default:
			writeBody(w, code, body)
		}
		rt.observe(code, start)
	})
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, allowGet bool, allow string, fn serveFunc) (int, []byte) {
	originOK := h.cors.apply(w.Header(), r.Header)
	switch {
	case r.Method == http.MethodOptions:
		if !originOK {
			return http.StatusForbidden, errOriginRefused
		}
		h.cors.preflight(w.Header(), allow)
		return http.StatusNoContent, nil
	case r.Method == http.MethodPost, r.Method == http.MethodGet && allowGet:
	default:
		w.Header().Set("Allow", allow)
		return http.StatusMethodNotAllowed, errorJSON("method "+r.Method+" not allowed; use "+strings.TrimSuffix(allow, ", OPTIONS"), nil)
	}
	if !originOK {
		// Refused before anything is read or stored: a page of another site may not send events.
		return http.StatusForbidden, errOriginRefused
	}
	if h.guard != nil && h.guard.Refusing() {
		// Refused before the body is read: a nearly full Redis takes no write, and costs us nothing more.
		h.metrics.guardRefused.Inc()
		return http.StatusServiceUnavailable, h.guardAnswer
	}
	if h.limiter != nil {
		// Before the body is read: a client over its rate costs a token-bucket lookup and nothing more. A
		// client that resolves to a trusted proxy is every visitor behind it: not limited (limits.ClientAddr).
		if code, body := h.limit(w, h.clients.OfRequest(r)); code != 0 {
			return code, body
		}
	}
	var body []byte
	if r.Method == http.MethodPost {
		var err error
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return http.StatusRequestEntityTooLarge, errorJSON("body is larger than the limit of "+itoa(tooBig.Limit)+" bytes", nil)
			}
			return http.StatusBadRequest, errorJSON("could not read the body: "+err.Error(), nil)
		}
	}
	var ivt screen.Reason
	if h.screen != nil {
		ivt = h.screen.Classify(r.Header)
	}
	return fn(w, r, body, ivt)
}

func (h *Handler) adEvent(typ event.Type) serveFunc {
	return func(w http.ResponseWriter, r *http.Request, body []byte, ivt screen.Reason) (int, []byte) {
		adID, eid, err := adEventFrom(r.URL.RawQuery, r.Header.Get("Content-Type"), body)
		if err == nil {
			err = h.admit(event.Event{Type: typ, AdID: adID})
		}
		if err != nil {
			return invalid(err)
		}
		ts := h.now().Unix()
		ids, err := h.pub.Publish(r.Context(), []event.Event{{Type: typ, AdID: adID, ID: eid, Invalid: string(ivt)}}, ts)
		if err != nil {
			return publishFailed(w, err)
		}
		h.metrics.filtered(typ, ivt, 1)
		return http.StatusOK, adSuccess(adID, ids[0], ts)
	}
}

func (h *Handler) hit(w http.ResponseWriter, r *http.Request, body []byte, ivt screen.Reason) (int, []byte) {
	path, eid, err := hitFrom(r.URL.RawQuery, r.Header.Get("Content-Type"), body)
	if err == nil {
		err = h.admit(event.Event{Type: event.Hit, Path: path})
	}
	if err != nil {
		return invalid(err)
	}
	ts := h.now().Unix()
	if ivt != "" { // counted in the metrics only; the client's answer is the same
		h.metrics.filtered(event.Hit, ivt, 1)
		return http.StatusOK, hitSuccess(path, ts)
	}
	if _, err := h.pub.Publish(r.Context(), []event.Event{{Type: event.Hit, Path: path, ID: eid}}, ts); err != nil {
		return publishFailed(w, err)
	}
	return http.StatusOK, hitSuccess(path, ts)
}

func (h *Handler) batch(w http.ResponseWriter, r *http.Request, body []byte, ivt screen.Reason) (int, []byte) {
	events, err := parseBatch(body, h.maxBatch)
	if err != nil {
		return invalid(err)
	}
	for i, e := range events {
		if err := h.admit(e); err != nil {
			return invalid(&BatchError{Index: i, Err: err})
		}
	}
	ts := h.now().Unix()
	if ivt == "" {
		ids, err := h.pub.Publish(r.Context(), events, ts)
		if err != nil {
			return publishFailed(w, err)
		}
		return http.StatusOK, mustJSON(batchSuccess{Status: "success", Count: len(events), TS: ts, StreamIDs: ids})
	}
	// Invalid traffic: impressions and clicks are stored with their reason, hits only counted in the metrics.
	ads := make([]event.Event, 0, len(events))
	var impressions, clicks, hits int
	for _, e := range events {
		switch e.Type {
		case event.Hit:
			hits++
			continue
		case event.Impression:
			impressions++
		case event.Click:
			clicks++
		}
		e.Invalid = string(ivt)
		ads = append(ads, e)
	}
	ids := make([]string, len(events))
	if len(ads) > 0 {
		adIDs, err := h.pub.Publish(r.Context(), ads, ts)
		if err != nil {
			return publishFailed(w, err)
		}
		k := 0
		for i, e := range events {
			if e.Type != event.Hit {
				ids[i] = adIDs[k]
				k++
			}
		}
	}
	h.metrics.filtered(event.Impression, ivt, impressions)
	h.metrics.filtered(event.Click, ivt, clicks)
	h.metrics.filtered(event.Hit, ivt, hits)
	return http.StatusOK, mustJSON(batchSuccess{Status: "success", Count: len(events), TS: ts, StreamIDs: ids})
}

// limit takes a token from the client's bucket; it answers 429 (code) when there is none.
func (h *Handler) limit(w http.ResponseWriter, addr netip.Addr) (int, []byte) {
	if h.clients.Trusts(addr) {
		return 0, nil
	}
	if ok, wait := h.limiter.Allow(addr, 1); !ok {
		h.metrics.rateLimited.Inc()
		w.Header().Set("Retry-After", retryAfter(wait))
		return http.StatusTooManyRequests, errRateLimited
	}
	return 0, nil
}

var errRateLimited = errorJSON("too many requests from this client: its rate limit (RATE_LIMIT, RATE_LIMIT_BURST) is used up; retry after the Retry-After seconds", nil)

// retryAfter is a Retry-After value: whole seconds, at least 1.
func retryAfter(d time.Duration) string {
	if d <= 0 {
		return "1"
	}
	return itoa(int64((d + time.Second - 1) / time.Second))
}

var errOriginRefused = errorJSON("origin not allowed: the request's Origin (or, without one, its Referer) is not in CORS_ALLOWED_ORIGINS", nil)

// admit applies the allowlists of ad_ids (ALLOWED_AD_IDS) and hit paths (ALLOWED_PATHS) to a valid event.
func (h *Handler) admit(e event.Event) error {
	if e.Type == event.Hit {
		if !h.paths.Match(e.Path) {
			return fmt.Errorf("%w: path %q is not allowed here (ALLOWED_PATHS)", event.ErrInvalid, e.Path)
		}
		return nil
	}
	if !h.adIDs.Contains(e.AdID) {
		return fmt.Errorf("%w: ad_id %d is not allowed here (ALLOWED_AD_IDS)", event.ErrInvalid, e.AdID)
	}
	return nil
}

func invalid(err error) (int, []byte) {
	var be *BatchError
	if errors.As(err, &be) {
		return http.StatusBadRequest, errorJSON(be.Error(), &be.Index)
	}
	return http.StatusBadRequest, errorJSON(event.Reason(err), nil)
}

// publishFailed maps a failed write to its answer. Every error here means nothing was stored, so a client
// may retry without counting twice, except publish.ErrUnconfirmed: the write was sent and its answer lost, and
// the message says that it may have been stored.
func publishFailed(w http.ResponseWriter, err error) (int, []byte) {
	var newPaths *publish.NewPathsError
	switch {
	case errors.As(err, &newPaths):
		w.Header().Set("Retry-After", retryAfter(newPaths.RetryAfter))
		return http.StatusTooManyRequests, errorJSON(err.Error(), nil)
	case errors.Is(err, publish.ErrRejected):
		return http.StatusInternalServerError, errorJSON(err.Error(), nil)
	case errors.Is(err, publish.ErrUnavailable), errors.Is(err, publish.ErrUnconfirmed),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, errorJSON(err.Error(), nil)
	default:
		return http.StatusInternalServerError, errorJSON("internal error", nil)
	}
}
