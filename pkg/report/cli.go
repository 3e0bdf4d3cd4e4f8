package report

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"adly/pkg/config"
	"adly/pkg/logging"
	"adly/pkg/mariadb"
)

// Main is the report binary: it loads the configuration from the environment, connects to MariaDB and
// serves until ctx ends (main cancels it on SIGINT or SIGTERM). ui is the dashboard served at "/" (nil: a
// page linking to the API). Configuration errors, a listener reachable from other machines without a
// credential among them, are config.Usage errors.
func Main(ctx context.Context, ui UI) error {
	var cfg Config
	if err := config.Load(&cfg); err != nil {
		return config.Usage(fmt.Errorf("configuration: %w", err))
	}
	log, err := logging.New(cfg.Log, "report")
	if err != nil {
		return config.Usage(err)
	}
	defer func() { _ = log.Sync() }()
	mariadb.LogDriverTo(log.Named("mysql"))

	db, err := mariadb.Open(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	db.SetMaxOpenConns(cfg.DBConns)
	db.SetMaxIdleConns(cfg.DBConns)

	store := NewStore(db, cfg.Location())
	if zone, err := store.CountedZone(ctx); err != nil {
		log.Warn("cannot read the zone the workers count in", zap.Error(err))
	} else if zone != "" && zone != cfg.Location().String() {
		log.Warn("TIMEZONE differs from the zone the workers last counted in: dates are days of the workers' zone",
			zap.String("timezone", cfg.Location().String()), zap.String("workers", zone))
	}

	app, err := New(cfg, log, db, time.Now, ui)
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	return app.Run(ctx)
}
