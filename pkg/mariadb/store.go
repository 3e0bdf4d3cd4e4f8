package mariadb

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"
	"go.uber.org/zap"

	"adly/pkg/config"
)

// DSN is the go-sql-driver DSN for cfg. Dates come back as time.Time in UTC.
func DSN(cfg config.DB) string {
	mc := mysql.NewConfig()
	mc.User = cfg.User
	mc.Passwd = cfg.Password
	mc.Net = "tcp"
	mc.Addr = net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
	mc.DBName = cfg.Name
	mc.ParseTime = true
	mc.Loc = time.UTC
	mc.Timeout = 5 * time.Second
	mc.Params = map[string]string{"time_zone": "'+00:00'"}
	if cfg.IdleTxTimeout > 0 {
		// Set on every connection: a transaction left idle this long (its process frozen, partitioned or
		// paused) is rolled back by the server and its row locks released.
		mc.Params[idleTxVar] = strconv.FormatInt(int64(cfg.IdleTxTimeout/time.Second), 10)
	}
	// Bulk statements carry thousands of placeholders: interpolated by the driver they are one COM_QUERY,
	// instead of a server-side prepare, execute and close for every statement (safe with utf8mb4).
	mc.InterpolateParams = true
	return mc.FormatDSN()
}

const idleTxVar = "idle_write_transaction_timeout"

// Open connects to MariaDB and checks that it answers. On a server without idle_write_transaction_timeout
// (MySQL; MariaDB before 10.3) it connects without it: the server's lock wait timeout is then the only
// bound on how long a frozen peer's locks are waited for.
func Open(ctx context.Context, cfg config.DB) (*sqlx.DB, error) {
	db, err := open(ctx, cfg)
	var me *mysql.MySQLError
	if cfg.IdleTxTimeout > 0 && errors.As(err, &me) && me.Number == 1193 { // unknown system variable
		cfg.IdleTxTimeout = 0
		db, err = open(ctx, cfg)
	}
	return db, err
}

func open(ctx context.Context, cfg config.DB) (*sqlx.DB, error) {
	db, err := sqlx.Open("mysql", DSN(cfg))
	if err != nil {
		return nil, fmt.Errorf("open mariadb: %w", err)
	}
	db.SetConnMaxLifetime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("ping mariadb at %s:%d: %w", cfg.Host, cfg.Port, err)
	}
	return db, nil
}

// LogDriverTo sends the MySQL driver's own messages (dropped connections, packet errors), which it otherwise
// prints to stderr in its own format, to log as warnings. The driver has one logger per process.
func LogDriverTo(log *zap.Logger) {
	_ = mysql.SetLogger(driverLogger{log.WithOptions(zap.AddCallerSkip(1))})
}

type driverLogger struct{ log *zap.Logger }

func (d driverLogger) Print(v ...any) {
	d.log.Warn(strings.TrimSpace(fmt.Sprint(v...)))
}

// Retryable reports a deadlock (1213) or lock wait timeout (1205): either rolls the transaction back, so it
// can run again (RetryTx does).
func Retryable(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && (me.Number == 1213 || me.Number == 1205)
}

// IsDataError reports whether MariaDB rejected a statement for the data it carried (SQLSTATE class 22: a
// value out of range, an invalid date, …) — a failure that belongs to the entries, unlike an unreachable
// server, a timeout or a deadlock, which say nothing about them.
func IsDataError(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.SQLState[0] == '2' && me.SQLState[1] == '2'
}
