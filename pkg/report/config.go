package report

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"adly/pkg/config"
)

// Config is cmd/report's configuration, read from the environment once in main.
type Config struct {
	config.DB
	config.Log

	// Addr is the reports' listener: the API and the dashboard.
	Addr      string `envconfig:"REPORT_ADDR" default:"127.0.0.1:8090"`
	AdminAddr string `envconfig:"ADMIN_ADDR" default:"127.0.0.1:9095"`
	// Timezone must be the workers' TIMEZONE: the dates of the daily tables are days of that zone.
	Timezone string `envconfig:"TIMEZONE" default:"UTC"`

	// Token lets in callers that send "Authorization: Bearer <token>"; User and Password, callers that
	// send them with HTTP Basic. Either or both; with neither, REPORT_ADDR must be a loopback address.
	Token    string `envconfig:"REPORT_TOKEN"`
	User     string `envconfig:"REPORT_USER"`
	Password string `envconfig:"REPORT_PASSWORD"`

	// QueryTimeout bounds the time one answer spends in MariaDB: past it the answer is 503.
	QueryTimeout time.Duration `envconfig:"REPORT_QUERY_TIMEOUT" default:"10s"`
	// DBConns bounds the MariaDB connections, and so the reports running at once (each uses two: impressions
	// and clicks are read at once).
	DBConns int `envconfig:"REPORT_DB_CONNS" default:"8"`

	ReadHeaderTimeout time.Duration `envconfig:"HTTP_READ_HEADER_TIMEOUT" default:"5s"`
	IdleTimeout       time.Duration `envconfig:"HTTP_IDLE_TIMEOUT" default:"60s"`
	ShutdownTimeout   time.Duration `envconfig:"SHUTDOWN_TIMEOUT" default:"15s"`

	loc *time.Location // parsed by Validate
}

// Minimum lengths of the secrets: short ones are guessed.
const (
	minTokenLen    = 16
	minPasswordLen = 8
)

// Validate names the first bad variable.
func (c *Config) Validate() error {
	if err := c.DB.Validate(); err != nil {
		return err
	}
	if err := c.Log.Validate(); err != nil {
		return err
	}
	if err := config.CheckAddr("REPORT_ADDR", c.Addr); err != nil {
		return err
	}
	if err := config.CheckAddr("ADMIN_ADDR", c.AdminAddr); err != nil {
		return err
	}
	loc, err := config.Timezone(c.Timezone)
	if err != nil {
		return err
	}
	c.loc = loc
	for name, d := range map[string]time.Duration{
		"REPORT_QUERY_TIMEOUT": c.QueryTimeout, "HTTP_READ_HEADER_TIMEOUT": c.ReadHeaderTimeout,
		"HTTP_IDLE_TIMEOUT": c.IdleTimeout, "SHUTDOWN_TIMEOUT": c.ShutdownTimeout,
	} {
		if err := config.Positive(name, d); err != nil {
			return err
		}
	}
	switch {
	case c.QueryTimeout > 10*time.Minute:
		return fmt.Errorf("REPORT_QUERY_TIMEOUT must be at most 10m, got %s", c.QueryTimeout)
	case c.DBConns < 1 || c.DBConns > 100:
		return fmt.Errorf("REPORT_DB_CONNS must be between 1 and 100, got %d", c.DBConns)
	case c.Token != "" && len(c.Token) < minTokenLen:
		return fmt.Errorf("REPORT_TOKEN must be at least %d characters long", minTokenLen)
	case c.Token != strings.TrimSpace(c.Token) || strings.ContainsAny(c.Token, " \t\r\n"):
		return errors.New("REPORT_TOKEN must not contain spaces")
	case (c.User == "") != (c.Password == ""):
		return errors.New("REPORT_USER and REPORT_PASSWORD go together: set both or neither")
	case c.User != "" && strings.Contains(c.User, ":"):
		return errors.New("REPORT_USER must not contain ':' (HTTP Basic separates user and password with it)")
	case c.Password != "" && len(c.Password) < minPasswordLen:
		return fmt.Errorf("REPORT_PASSWORD must be at least %d characters long", minPasswordLen)
	case c.Token == "" && c.User == "" && !loopbackAddr(c.Addr):
		return fmt.Errorf("REPORT_ADDR=%s is reachable from other machines, and no credential is set: "+
			"set REPORT_TOKEN, or REPORT_USER and REPORT_PASSWORD (the reports are private), or listen on 127.0.0.1", c.Addr)
	}
	return nil
}

// Location is TIMEZONE, once Validate has run.
func (c *Config) Location() *time.Location { return c.loc }

// loopbackAddr reports whether addr listens on loopback only: 127.0.0.0/8, ::1 or localhost. An empty host
// (":8090") listens on every interface; any other name may resolve to anything, so it does not count.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
