package ingest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"adly/pkg/admin"
	"adly/pkg/demo"
	"adly/pkg/limits"
	"adly/pkg/publish"
	"adly/pkg/redisconn"
	"adly/pkg/screen"
)

// App is the whole API process: the tracking listener, the admin listener and the publisher behind them.
type App struct {
	cfg       Config
	log       *zap.Logger
	client    redis.UniversalClient
	publisher *publish.Publisher
	guard     *publish.MemoryGuard
	handler   *Handler
	ln        net.Listener
	server    *http.Server
	admin     *admin.Server
}

// New binds both listeners and wires the dependencies. The caller owns client and closes it after Run.
func New(cfg Config, log *zap.Logger, client redis.UniversalClient, now func() time.Time) (*App, error) {
	reg := admin.NewRegistry()
	pub := publish.NewPublisher(client, redisconn.Names(cfg.Redis), log.Named("publisher"), publish.NewPublisherMetrics(reg),
		publish.PublisherOptions{Timeout: cfg.WriteTimeout, Flushers: cfg.Flushers, EventIDTTL: cfg.EventIDTTL,
			NewPathsPerMinute: cfg.NewPathsPerMinute, WaitReplicas: cfg.WaitReplicas, WaitTimeout: cfg.WaitTimeout})
	guard := publish.NewMemoryGuard(client, cfg.MemoryGuard, cfg.MemoryGuardInterval, log.Named("memory-guard"), reg)
	limiter, err := limits.NewLimiter(limits.LimiterOptions{Rate: cfg.RateLimit, Burst: cfg.RateBurst, MaxClients: cfg.RateClients})
	if err != nil {
		return nil, fmt.Errorf("RATE_LIMIT: %w", err)
	}
	h := NewHandler(pub, log.Named("http"), NewMetrics(reg), HandlerOptions{
		AllowedOrigins: cfg.AllowedOrigins, AllowNoOrigin: cfg.AllowNoOrigin,
		MaxBodyBytes: cfg.MaxBodyBytes, MaxBatchEvents: cfg.MaxBatchEvents, Now: now, Guard: guard,
		Screen:  screen.New(screen.Options{Enabled: cfg.filters}),
		Limiter: limiter, Clients: limits.NewClientAddr(cfg.trustedProxies), AdIDs: cfg.adIDs, Paths: cfg.paths,
	})
	demo.Register(h.Mux())
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("listen on HTTP_ADDR %s: %w", cfg.HTTPAddr, err)
	}
	// A guarded API is not ready: load balancers back off (or spread the load to other APIs) while Redis is
	// nearly full, and come back by themselves once it is not.
	adm, err := admin.Listen(cfg.AdminAddr, reg, log.Named("admin"), admin.Check{
		Name: "redis",
		Fn:   func(ctx context.Context) error { return redisconn.Ping(ctx, client, time.Second) },
	}, admin.Check{Name: "redis_memory", Fn: guard.Check})
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	return &App{
		cfg: cfg, log: log, client: client, publisher: pub, guard: guard, handler: h, ln: ln, admin: adm,
		server: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: cfg.ReadHeaderTimeout,
			ReadTimeout:       cfg.ReadTimeout,
			WriteTimeout:      cfg.WriteHTTPTimeout,
			IdleTimeout:       cfg.IdleTimeout,
			MaxHeaderBytes:    cfg.MaxHeaderBytes,
			ErrorLog:          zap.NewStdLog(log.Named("http")),
		},
	}, nil
}

// Addr is the tracking listener's address; AdminAddr the admin listener's.
func (a *App) Addr() string      { return a.ln.Addr().String() }
func (a *App) AdminAddr() string { return a.admin.Addr() }

// Handler exposes the tracking handler (to add routes beside it).
func (a *App) Handler() *Handler { return a.handler }

// Run serves until ctx ends, then shuts down in order: /readyz fails, the listener stops accepting,
// in-flight requests finish (their events are written or refused, never left unanswered), the publisher
// drains, and the admin listener closes — all within SHUTDOWN_TIMEOUT.
func (a *App) Run(ctx context.Context) error {
	err := a.admin.Serve(ctx, a.serve)
	a.log.Info("stopped")
	return err
}

func (a *App) serve(ctx context.Context) error {
	pubCtx, stopPublisher := context.WithCancel(context.WithoutCancel(ctx))
	defer stopPublisher()
	var g errgroup.Group
	g.Go(func() error { return a.publisher.Run(pubCtx) })
	g.Go(func() error { return a.guard.Run(pubCtx) })

	serveErr := make(chan error, 1)
	go func() { serveErr <- a.server.Serve(a.ln) }()
	a.log.Info("api listening", zap.String("addr", a.Addr()), zap.String("admin_addr", a.AdminAddr()))

	var runErr error
	select {
	case err := <-serveErr:
		runErr = fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
		a.log.Info("shutting down", zap.Duration("timeout", a.cfg.ShutdownTimeout))
		a.admin.Drain()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.ShutdownTimeout)
		if err := a.server.Shutdown(sctx); err != nil {
			runErr = fmt.Errorf("http shutdown: %w", err)
		}
		cancel()
		if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) && runErr == nil {
			runErr = fmt.Errorf("serve: %w", err)
		}
	}
	stopPublisher()
	if err := g.Wait(); err != nil && runErr == nil {
		runErr = err
	}
	return runErr
}
