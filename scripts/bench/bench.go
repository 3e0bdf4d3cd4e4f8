package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/redis/go-redis/v9"

	"adly/pkg/config"
	"adly/pkg/mariadb"
	"adly/pkg/redisconn"
)

const (
	schemaPath = "sql/schema.sql"      // the benchmark runs from the repository's root, as bench.sh does
	fillBatch  = 10000                 // commands per pipeline while filling Redis
	scanCount  = 1000                  // SCAN COUNT, as path-syncer's
	pollSum    = 10 * time.Millisecond // how often modes load and pipeline read SUM(impressions)
)

// bench is what one run holds and must give back: its work directory, its Redis keys, its database and
// the processes it started. cleanup returns all of it, whatever happened.
type bench struct {
	workDir string
	tempDir bool // workDir was made here, so cleanup removes it

	prefix string // every key the run writes is under it
	client redis.UniversalClient
	dbName string
	admin  *sqlx.DB // no database selected: creates and drops dbName
	db     *sqlx.DB // dbName

	running []*proc

	apiBin, workerBin string // built by modes load and pipeline
}

func newBench(workDir string) (*bench, error) {
	b := &bench{workDir: workDir}
	if workDir == "" {
		dir, err := os.MkdirTemp("", "adly-bench.")
		if err != nil {
			return nil, fmt.Errorf("create a work directory: %w", err)
		}
		b.workDir, b.tempDir = dir, true
	}
	return b, nil
}

// randomHex is n random bytes in hex, for names no other run uses.
func randomHex(n int) string {
	buf := make([]byte, n)
	_, _ = rand.Read(buf)
	return hex.EncodeToString(buf)
}

// build compiles a package of this repository into the work directory and returns the binary.
func (b *bench) build(ctx context.Context, pkg string) (string, error) {
	bin := filepath.Join(b.workDir, filepath.Base(pkg))
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, out)
	}
	return bin, nil
}

// connectRedis connects without silent retries, checks Redis answers, and removes whatever a run killed
// hard may have left under the prefix.
func (b *bench) connectRedis(ctx context.Context, cfg config.Redis, prefix string) error {
	b.prefix = prefix
	b.client = redisconn.NewClient(cfg, redisconn.ClientOptions{NoRetries: true})
	if err := redisconn.Ping(ctx, b.client, 5*time.Second); err != nil {
		return fmt.Errorf("redis at %s: %w", cfg.Addr(), err)
	}
	return b.unlinkPrefix(ctx)
}

// createDB creates a database of the run's own, adly_bench_<random>, and applies the schema to it.
func (b *bench) createDB(ctx context.Context, cfg config.DB) error {
	schema, err := os.ReadFile(schemaPath)
	if err != nil {
		return err
	}
	name := "adly_bench_" + randomHex(6)
	cfg.Name = ""
	admin, err := mariadb.Open(ctx, cfg)
	if err != nil {
		return fmt.Errorf("mariadb at %s:%d: %w", cfg.Host, cfg.Port, err)
	}
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE `"+name+"` DEFAULT CHARACTER SET utf8mb4"); err != nil {
		_ = admin.Close() // it did not create the database, so it must not drop it
		return fmt.Errorf("create database %s: %w", name, err)
	}
	b.admin, b.dbName = admin, name
	cfg.Name = name
	if b.db, err = mariadb.Open(ctx, cfg); err != nil {
		return err
	}
	for _, stmt := range mariadb.SplitStatements(string(schema)) {
		if _, err := b.db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("apply schema to %s: %w", name, err)
		}
	}
	return nil
}

// truncate empties tables of the run's database before a measured run.
func (b *bench) truncate(ctx context.Context, tables ...string) error {
	for _, t := range tables {
		if _, err := b.db.ExecContext(ctx, "TRUNCATE TABLE "+t); err != nil {
			return fmt.Errorf("truncate %s: %w", t, err)
		}
	}
	return nil
}

// unlinkPrefix removes the keys under the prefix. UNLINK frees a stream of millions of entries off Redis's
// main thread, so a Redis others use does not stall.
func (b *bench) unlinkPrefix(ctx context.Context) error {
	var pat strings.Builder
	for _, r := range b.prefix {
		if strings.ContainsRune(`*?[]\`, r) {
			pat.WriteByte('\\')
		}
		pat.WriteRune(r)
	}
	pat.WriteByte('*')
	err := scanKeys(ctx, b.client, pat.String(), func(keys []string) error {
		return b.client.Unlink(ctx, keys...).Err()
	})
	if err != nil {
		return fmt.Errorf("remove the Redis keys under %s: %w", b.prefix, err)
	}
	return nil
}

// scanKeys calls page with each non-empty SCAN page of the keys matching pattern. SCAN may return a key
// twice (while Redis resizes its table), never zero times.
func scanKeys(ctx context.Context, c redis.UniversalClient, pattern string, page func(keys []string) error) error {
	var cursor uint64
	for {
		keys, next, err := c.Scan(ctx, cursor, pattern, scanCount).Result()
		if err != nil {
			return fmt.Errorf("scan: %w", err)
		}
		if len(keys) > 0 {
			if err := page(keys); err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

// stopAll stops every process still running, each as its kind asks.
func (b *bench) stopAll() error {
	var errs []error
	for _, p := range b.running {
		errs = append(errs, p.stop())
	}
	b.running = nil
	return errors.Join(errs...)
}

// cleanup stops the processes, unlinks every key under the prefix, drops the database and removes a work
// directory of its own, on a context of its own: it also runs after Ctrl-C.
func (b *bench) cleanup() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	errs := []error{b.stopAll()}
	if b.client != nil {
		errs = append(errs, b.unlinkPrefix(ctx))
		_ = b.client.Close()
	}
	if b.db != nil {
		_ = b.db.Close()
	}
	if b.admin != nil {
		if _, err := b.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+b.dbName+"`"); err != nil {
			errs = append(errs, fmt.Errorf("drop database %s: %w", b.dbName, err))
		}
		_ = b.admin.Close()
	}
	if b.tempDir {
		errs = append(errs, os.RemoveAll(b.workDir))
	}
	return errors.Join(errs...)
}
