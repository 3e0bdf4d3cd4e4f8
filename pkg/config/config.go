// Package config owns adly's configuration: the environment variables every binary shares (Redis, MariaDB,
// logging, the admin listener) and the loading of a binary's own Config struct from the environment.
//
// It never reads the environment outside Load, and it never keeps global state: each binary loads its
// Config once in main and passes the values on as struct fields.
package config

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/kelseyhightower/envconfig"

	"adly/pkg/event"
)

// Redis is how a binary reaches Redis.
type Redis struct {
	Host     string `envconfig:"REDIS_HOST" default:"127.0.0.1"`
	Port     int    `envconfig:"REDIS_PORT" default:"6379"`
	Password string `envconfig:"REDIS_PASSWORD"`
	DB       int    `envconfig:"REDIS_DB" default:"0"`
	// KeyPrefix is put in front of every stream and key name, so that several deployments (or tests) can
	// share one Redis. Empty by default: the names are then exactly the seed's.
	KeyPrefix string `envconfig:"REDIS_KEY_PREFIX"`
	// ClusterAddrs, when set, is a comma-separated seed list of Redis Cluster nodes; it replaces Host/Port.
	ClusterAddrs []string      `envconfig:"REDIS_CLUSTER_ADDRS"`
	DialTimeout  time.Duration `envconfig:"REDIS_DIAL_TIMEOUT" default:"500ms"`
	// StreamShards is how many streams each kind of ad event is split into, so that a cluster spreads
	// them over its masters (keyspace.Names.WithShards). 1, the default, keeps the seed's single
	// impressions_stream and clicks_stream.
	StreamShards int `envconfig:"STREAM_SHARDS" default:"1"`
	// MemoryGuard is the share of maxmemory above which Redis counts as nearly full: the API refuses writes
	// (503) and the workers trim the consumed entries kept for replay, so that the steps that free memory
	// always have room. 0 or 1 turns it off; so does a Redis without maxmemory.
	MemoryGuard float64 `envconfig:"REDIS_MEMORY_GUARD" default:"0.90"`
}

// MaxStreamShards bounds STREAM_SHARDS. It equals keyspace.MaxShards, which config does not import: the
// MariaDB side loads its configuration here and must not reach a Redis package.
const MaxStreamShards = 256

// Addr is host:port.
func (r Redis) Addr() string { return net.JoinHostPort(r.Host, strconv.Itoa(r.Port)) }

// Validate names the first bad variable.
func (r Redis) Validate() error {
	if len(r.ClusterAddrs) == 0 && strings.TrimSpace(r.Host) == "" {
		return errors.New("REDIS_HOST must not be empty")
	}
	if err := checkPort("REDIS_PORT", r.Port); err != nil {
		return err
	}
	if r.DB < 0 {
		return fmt.Errorf("REDIS_DB must be >= 0, got %d", r.DB)
	}
	if event.HasControl(r.KeyPrefix) {
		return fmt.Errorf("REDIS_KEY_PREFIX must not contain control characters, got %q", r.KeyPrefix)
	}
	if r.StreamShards < 1 || r.StreamShards > MaxStreamShards {
		return fmt.Errorf("STREAM_SHARDS must be a number of streams per kind of event between 1 and %d, got %d", MaxStreamShards, r.StreamShards)
	}
	if r.StreamShards > 1 && strings.ContainsAny(r.KeyPrefix, "{}") {
		// Redis Cluster hashes the first {…} of a key: a brace in the prefix would take the place of the
		// shards' tags and put them all in one slot.
		return fmt.Errorf("REDIS_KEY_PREFIX must not contain { or } when STREAM_SHARDS > 1 (the shards' hash tags must be the only ones in their names), got %q", r.KeyPrefix)
	}
	if !(r.MemoryGuard >= 0 && r.MemoryGuard <= 1) {
		return fmt.Errorf("REDIS_MEMORY_GUARD must be a share of maxmemory between 0 and 1 (0 or 1: off), got %g", r.MemoryGuard)
	}
	return Positive("REDIS_DIAL_TIMEOUT", r.DialTimeout)
}

// DB is how a binary reaches MariaDB.
type DB struct {
	Host     string `envconfig:"DB_HOST" default:"127.0.0.1"`
	Port     int    `envconfig:"DB_PORT" default:"3306"`
	User     string `envconfig:"DB_USER" default:"root"`
	Password string `envconfig:"DB_PASS"`
	Name     string `envconfig:"DB_NAME" default:"ads"`
	// IdleTxTimeout is how long MariaDB lets a write transaction of ours sit idle before it closes the
	// connection and rolls the transaction back (MariaDB's idle_write_transaction_timeout). It bounds how long
	// a frozen or partitioned process can hold the row locks its peers wait for. 0 leaves the server's setting.
	IdleTxTimeout time.Duration `envconfig:"DB_IDLE_TX_TIMEOUT" default:"10s"`
}

// Validate names the first bad variable.
func (d DB) Validate() error {
	switch {
	case strings.TrimSpace(d.Host) == "":
		return errors.New("DB_HOST must not be empty")
	case strings.TrimSpace(d.User) == "":
		return errors.New("DB_USER must not be empty")
	case strings.TrimSpace(d.Name) == "":
		return errors.New("DB_NAME must not be empty")
	case d.IdleTxTimeout < 0 || d.IdleTxTimeout%time.Second != 0:
		return fmt.Errorf("DB_IDLE_TX_TIMEOUT must be 0 or a whole number of seconds, got %s", d.IdleTxTimeout)
	}
	return checkPort("DB_PORT", d.Port)
}

// Log configures zap.
type Log struct {
	Level  string `envconfig:"LOG_LEVEL" default:"info"`
	Format string `envconfig:"LOG_FORMAT" default:"json"`
}

// Validate names the first bad variable.
func (l Log) Validate() error {
	switch l.Level {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("LOG_LEVEL must be one of debug, info, warn, error; got %q", l.Level)
	}
	switch l.Format {
	case "json", "console":
	default:
		return fmt.Errorf("LOG_FORMAT must be json or console; got %q", l.Format)
	}
	return nil
}

// Load fills spec (a pointer to a struct with envconfig tags) from the environment and then calls its
// Validate method, if it has one. Every error names the variable at fault.
func Load(spec interface{ Validate() error }) error {
	if err := envconfig.Process("", spec); err != nil {
		var perr *envconfig.ParseError
		if errors.As(err, &perr) {
			return fmt.Errorf("%s=%q is not a valid %s", perr.KeyName, perr.Value, describe(perr.TypeName))
		}
		return err
	}
	return spec.Validate()
}

func describe(typeName string) string {
	switch typeName {
	case "int", "int64", "uint", "uint64", "int32":
		return "integer"
	case "time.Duration":
		return "duration (e.g. 500ms, 2s, 1m)"
	case "bool":
		return "boolean (true or false)"
	case "float32", "float64":
		return "number"
	default:
		return typeName
	}
}

func checkPort(name string, p int) error {
	if p < 1 || p > 65535 {
		return fmt.Errorf("%s must be a port between 1 and 65535, got %d", name, p)
	}
	return nil
}

// Positive reports an error naming the variable when d is not positive.
func Positive(name string, d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("%s must be a positive duration, got %s", name, d)
	}
	return nil
}

// CheckAddr reports an error naming the variable when addr is not host:port.
func CheckAddr(name, addr string) error {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("%s=%q is not a host:port address", name, addr)
	}
	return nil
}

// Timezone loads TIMEZONE, the zone the workers date events in (and the operator tools show them in).
func Timezone(name string) (*time.Location, error) {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("TIMEZONE=%q is not an IANA time zone name: %v", name, err)
	}
	return loc, nil
}
