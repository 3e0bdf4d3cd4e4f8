package worker

import (
	"fmt"
	"os"
	"time"

	"adly/pkg/config"
)

// Config is a stream worker's configuration, read from the environment once in main.
type Config struct {
	config.Redis
	config.DB
	config.Log

	AdminAddr    string `envconfig:"ADMIN_ADDR"`
	ConsumerName string `envconfig:"CONSUMER_NAME"`
	BatchSize    int    `envconfig:"BATCH_SIZE" default:"1000"`
	// MergeReads reads already in hand (a backlog) may share one MariaDB transaction.
	MergeReads int `envconfig:"MERGE_READS" default:"100"`
	// BatchWait is how long a short read waits for more entries before its batch is committed: it bounds
	// the commits per second at moderate rates, and adds at most this much to how late a count appears.
	BatchWait time.Duration `envconfig:"BATCH_WAIT" default:"250ms"`
	// Block is how long one XREADGROUP waits for new entries; short, so shutdown is prompt.
	Block         time.Duration `envconfig:"BLOCK" default:"2s"`
	Timezone      string        `envconfig:"TIMEZONE" default:"UTC"`
	ClaimMinIdle  time.Duration `envconfig:"CLAIM_MIN_IDLE" default:"60s"`
	ClaimInterval time.Duration `envconfig:"CLAIM_INTERVAL" default:"15s"`
	MaxDeliveries int64         `envconfig:"MAX_DELIVERIES" default:"10"`
	// RetainEntries counted entries stay in the stream for replay; unconsumed ones are never trimmed.
	RetainEntries    int64         `envconfig:"RETAIN_ENTRIES" default:"1000000"`
	TrimInterval     time.Duration `envconfig:"TRIM_INTERVAL" default:"30s"`
	DeadConsumerIdle time.Duration `envconfig:"DEAD_CONSUMER_IDLE" default:"1h"`
	ShutdownTimeout  time.Duration `envconfig:"SHUTDOWN_TIMEOUT" default:"30s"`
	// Fault makes the process exit at a chosen point, for crash tests only: after_commit, mid_ack or
	// before_commit, optionally ":N" to fire on the Nth batch (default 1); or pause_after_commit:<duration>
	// to hold every batch between COMMIT and XACK, where a SIGKILL does the most harm.
	Fault string `envconfig:"ADLY_FAULT"`
}

// Validate names the first bad variable.
func (c *Config) Validate() error {
	for _, v := range []interface{ Validate() error }{c.Redis, c.DB, c.Log} {
		if err := v.Validate(); err != nil {
			return err
		}
	}
	if c.AdminAddr != "" {
		if err := config.CheckAddr("ADMIN_ADDR", c.AdminAddr); err != nil {
			return err
		}
	}
	if c.BatchSize < 1 || c.BatchSize > 100000 {
		return fmt.Errorf("BATCH_SIZE must be between 1 and 100000, got %d", c.BatchSize)
	}
	if c.MergeReads < 1 || c.MergeReads > 100 {
		return fmt.Errorf("MERGE_READS must be between 1 and 100, got %d", c.MergeReads)
	}
	if c.Block < 100*time.Millisecond || c.Block > 10*time.Second {
		return fmt.Errorf("BLOCK must be between 100ms and 10s, got %s", c.Block)
	}
	if c.BatchWait < 0 || c.BatchWait > 10*time.Second || c.BatchWait >= c.ShutdownTimeout {
		return fmt.Errorf("BATCH_WAIT must be between 0 and 10s and shorter than SHUTDOWN_TIMEOUT (%s), got %s", c.ShutdownTimeout, c.BatchWait)
	}
	if _, err := config.Timezone(c.Timezone); err != nil {
		return err
	}
	for name, d := range map[string]time.Duration{
		"CLAIM_MIN_IDLE": c.ClaimMinIdle, "CLAIM_INTERVAL": c.ClaimInterval, "TRIM_INTERVAL": c.TrimInterval,
		"DEAD_CONSUMER_IDLE": c.DeadConsumerIdle, "SHUTDOWN_TIMEOUT": c.ShutdownTimeout,
	} {
		if err := config.Positive(name, d); err != nil {
			return err
		}
	}
	if c.ClaimMinIdle <= c.ShutdownTimeout {
		return fmt.Errorf("CLAIM_MIN_IDLE (%s) must exceed SHUTDOWN_TIMEOUT (%s), the longest a worker holds an entry between its read and its acknowledgement", c.ClaimMinIdle, c.ShutdownTimeout)
	}
	if c.MaxDeliveries < 1 {
		return fmt.Errorf("MAX_DELIVERIES must be at least 1, got %d", c.MaxDeliveries)
	}
	if c.RetainEntries < 0 {
		return fmt.Errorf("RETAIN_ENTRIES must be >= 0, got %d", c.RetainEntries)
	}
	if _, err := parseFault(c.Fault); err != nil {
		return err
	}
	return nil
}

// DefaultConsumerName is hostname-pid: unique per process, so replicas share the work.
func DefaultConsumerName() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "worker"
	}
	return fmt.Sprintf("%s-%d", host, os.Getpid())
}
