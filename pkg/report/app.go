package report

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/jmoiron/sqlx"
	"go.uber.org/zap"

	"adly/pkg/admin"
)

// Deps is what the dashboard gets to build its handler: the Store the API reads, and the settings its pages
// share with the API.
type Deps struct {
	Store   *Store
	Now     func() time.Time // the clock default ranges are taken from
	MaxDays int              // the longest range (MaxDays)
	Log     *zap.Logger
}

// UI builds the handler served at "/" — the HTML dashboard (package dashboard). It sits behind the same
// access control as the API; requests under /api/ never reach it. A nil UI serves a minimal page that
// links to the API.
type UI func(Deps) http.Handler

// App is the whole report process: the report listener (API and dashboard) and the admin listener.
type App struct {
	cfg    Config
	log    *zap.Logger
	ln     net.Listener
	server *http.Server
	admin  *admin.Server
}

// New binds both listeners and wires the handlers. cfg must have been validated (config.Load does it); the
// caller owns db and closes it after Run.
func New(cfg Config, log *zap.Logger, db *sqlx.DB, now func() time.Time, ui UI) (*App, error) {
	reg := admin.NewRegistry()
	metrics := NewMetrics(reg)
	store := NewStore(db, cfg.Location())
	access := NewAccess(cfg.Token, cfg.User, cfg.Password)

	mux := http.NewServeMux()
	NewAPI(store, now, log.Named("api"), cfg.QueryTimeout).Register(mux, metrics.instrument)
	var root http.Handler = http.HandlerFunc(index)
	if ui != nil {
		// The dashboard's place: everything outside /api/ is its.
		root = ui(Deps{Store: store, Now: now, MaxDays: MaxDays, Log: log.Named("dashboard")})
	}
	mux.Handle("/", metrics.instrument("ui", root))
	handler := access.Wrap(onlyGET(mux), metrics.refused.Inc)

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on REPORT_ADDR %s: %w", cfg.Addr, err)
	}
	adm, err := admin.Listen(cfg.AdminAddr, reg, log.Named("admin"), admin.Check{Name: "mariadb", Fn: store.Ping})
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	if access.Open() {
		log.Warn("no REPORT_TOKEN or REPORT_USER is set: anyone who can reach REPORT_ADDR reads the reports", zap.String("addr", cfg.Addr))
	}
	return &App{
		cfg: cfg, log: log, ln: ln, admin: adm,
		server: &http.Server{
			Handler:           handler,
			ReadHeaderTimeout: cfg.ReadHeaderTimeout,
			// Requests are GETs without a body: reading one never takes long.
			ReadTimeout: cfg.ReadHeaderTimeout + 5*time.Second,
			// The slowest answer spends QueryTimeout in MariaDB, then is written.
			WriteTimeout:   cfg.QueryTimeout + 30*time.Second,
			IdleTimeout:    cfg.IdleTimeout,
			MaxHeaderBytes: 16 << 10,
			ErrorLog:       zap.NewStdLog(log.Named("http")),
		},
	}, nil
}

// Addr is the report listener's address; AdminAddr the admin listener's.
func (a *App) Addr() string      { return a.ln.Addr().String() }
func (a *App) AdminAddr() string { return a.admin.Addr() }

// Run serves until ctx ends, then shuts down in order: /readyz fails, the listener stops accepting, the
// reports in progress finish (within SHUTDOWN_TIMEOUT), and the admin listener closes.
func (a *App) Run(ctx context.Context) error {
	err := a.admin.Serve(ctx, a.serve)
	a.log.Info("stopped")
	return err
}

func (a *App) serve(ctx context.Context) error {
	served := make(chan error, 1)
	go func() { served <- a.server.Serve(a.ln) }()
	a.log.Info("reports listening", zap.String("addr", a.Addr()), zap.String("admin_addr", a.AdminAddr()),
		zap.String("zone", a.cfg.Location().String()))
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	a.log.Info("shutting down", zap.Duration("timeout", a.cfg.ShutdownTimeout))
	a.admin.Drain()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.ShutdownTimeout)
	defer cancel()
	var runErr error
	if err := a.server.Shutdown(sctx); err != nil {
		runErr = fmt.Errorf("http shutdown: %w", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) && runErr == nil {
		runErr = fmt.Errorf("serve: %w", err)
	}
	return runErr
}

// onlyGET answers every method but GET and HEAD with 405: the reports only read.
func onlyGET(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, "the reports only read: use GET")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// index is "/" until the dashboard is there: a page that links to the API.
func index(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		writeError(w, http.StatusNotFound, "no such page; the API is under /api/v1/")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'")
	_, _ = w.Write([]byte(indexPage))
}

const indexPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>adly reports</title></head>
<body>
<h1>adly reports</h1>
<p>JSON by default, CSV with <code>format=csv</code>; ranges with <code>from</code> and <code>to</code> (YYYY-MM-DD, both included).</p>
<ul>
<li><a href="api/v1/summary">api/v1/summary</a> — totals, the previous period, every day, filtered traffic</li>
<li><a href="api/v1/ads">api/v1/ads</a> — per ad (<code>sort</code>, <code>limit</code>, <code>ad_id</code>); <code>api/v1/ads/{id}/daily</code> for one ad's days</li>
<li><a href="api/v1/paths">api/v1/paths</a> — top paths (<code>prefix</code>, <code>limit</code>); <code>api/v1/path?path=/x</code> for one</li>
</ul>
</body></html>
`
