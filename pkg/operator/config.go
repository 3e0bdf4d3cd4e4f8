package operator

import (
	"time"

	"adly/pkg/config"
)

// Config is the operator commands' configuration: the same variables the workers and the syncer read.
type Config struct {
	config.Redis
	config.DB
	config.Log

	// Timezone is the zone the workers date events in (TIMEZONE): inspect's "today" and its times, and
	// replay's dates, are in it.
	Timezone string `envconfig:"TIMEZONE" default:"UTC"`
}

// Validate names the first bad variable.
func (c *Config) Validate() error {
	for _, v := range []interface{ Validate() error }{c.Redis, c.DB, c.Log} {
		if err := v.Validate(); err != nil {
			return err
		}
	}
	if _, err := config.Timezone(c.Timezone); err != nil {
		return err
	}
	return nil
}

// location is the loaded Timezone; Validate has checked it loads.
func (c *Config) location() *time.Location {
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}
