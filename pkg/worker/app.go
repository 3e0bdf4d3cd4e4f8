package worker

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"adly/pkg/admin"
	"adly/pkg/redisconn"
	"adly/pkg/stream"
)

// App is a whole worker process: a Worker per shard stream of its kind, and its admin listener.
type App struct {
	shards Shards
	admin  *admin.Server
	log    *zap.Logger
}

// NewApp wires the workers of kind, one per shard stream, over client and db; the caller owns and closes both.
func NewApp(cfg Config, kind Kind, log *zap.Logger, client redis.UniversalClient, db *sqlx.DB, hooks Hooks) (*App, error) {
	loc, err := time.LoadLocation(cfg.Timezone)
	if err != nil {
		return nil, fmt.Errorf("TIMEZONE: %w", err)
	}
	names := redisconn.Names(cfg.Redis)
	reg := admin.NewRegistry()
	consumer := cfg.ConsumerName
	if consumer == "" {
		consumer = DefaultConsumerName()
	}
	shards := NewShards(client, db, kind.Table, kind.Streams(names), kind.Group(names), log.Named("worker"), reg, Options{
		Consumer: consumer, BatchSize: cfg.BatchSize, MergeReads: cfg.MergeReads, BatchWait: cfg.BatchWait, Block: cfg.Block, Location: loc,
		ClaimMinIdle: cfg.ClaimMinIdle, ClaimInterval: cfg.ClaimInterval, MaxDeliveries: cfg.MaxDeliveries,
		RetainEntries: cfg.RetainEntries, TrimInterval: cfg.TrimInterval, MemoryGuard: cfg.MemoryGuard, DeadConsumerIdle: cfg.DeadConsumerIdle,
		BatchTimeout: cfg.ShutdownTimeout, Hooks: hooks,
	})
	addr := cfg.AdminAddr
	if addr == "" {
		addr = kind.DefaultAdmin
	}
	adm, err := admin.Listen(addr, reg, log.Named("admin"),
		admin.Check{Name: "redis", Fn: func(ctx context.Context) error { return redisconn.Ping(ctx, client, time.Second) }},
		admin.Check{Name: "mariadb", Fn: db.PingContext},
	)
	if err != nil {
		return nil, err
	}
	return &App{shards: shards, admin: adm, log: log}, nil
}

// AdminAddr is the admin listener's address.
func (a *App) AdminAddr() string { return a.admin.Addr() }

// Run works until ctx ends, then finishes every shard's batch in hand and stops.
func (a *App) Run(ctx context.Context) error {
	err := a.admin.Serve(ctx, a.shards.Run)
	a.log.Info("stopped")
	return err
}

// WarnAboutRedis logs loudly what is unsafe in Redis's settings for streams.
func WarnAboutRedis(ctx context.Context, client redis.UniversalClient, log *zap.Logger) {
	for _, w := range stream.ServerWarnings(ctx, client) {
		log.Warn("UNSAFE REDIS SETTING: " + w)
	}
}
