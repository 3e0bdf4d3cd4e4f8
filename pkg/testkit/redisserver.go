package testkit

import (
	"context"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"adly/pkg/config"
	"adly/pkg/redisconn"
)

// RedisServerOptions choose how a private redis-server runs.
type RedisServerOptions struct {
	// MaxMemory is redis-server's maxmemory ("20mb"); empty means no limit. The policy is always
	// noeviction, as adly requires, so a full server refuses writes instead of dropping keys.
	MaxMemory string
	// AOF turns on the append-only file fsynced before every reply (appendfsync always), so that what the
	// server acknowledged survives a SIGKILL and nothing else decides what a restart finds.
	AOF bool
}

// RedisServer is a redis-server of the test's own on a free loopback port: for tests that must kill Redis or fill
// it to maxmemory, which the shared test Redis must never see.
type RedisServer struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	opts RedisServerOptions
	cmd  *exec.Cmd
}

// StartRedisServer starts a private redis-server and stops it when the test ends.
func StartRedisServer(t testing.TB, opts RedisServerOptions) *RedisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	require.NoError(t, err, "this test runs a redis-server of its own (Debian package redis-server)")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	s := &RedisServer{t: t, bin: bin, dir: t.TempDir(), port: port, opts: opts}
	s.Start()
	t.Cleanup(func() {
		if s.cmd != nil {
			_ = s.cmd.Process.Kill()
			_ = s.cmd.Wait()
		}
	})
	return s
}

// Start starts the server (again, after Kill) with the same options, data directory and port, and waits
// until it answers.
func (s *RedisServer) Start() {
	s.t.Helper()
	args := []string{"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--dir", s.dir, "--save", "",
		"--maxmemory-policy", "noeviction"}
	if s.opts.AOF {
		args = append(args, "--appendonly", "yes", "--appendfsync", "always")
	}
	if s.opts.MaxMemory != "" {
		args = append(args, "--maxmemory", s.opts.MaxMemory)
	}
	s.cmd = exec.Command(s.bin, args...)
	s.cmd.Stdout, s.cmd.Stderr = io.Discard, io.Discard
	require.NoError(s.t, s.cmd.Start())
	c := s.Client()
	defer func() { _ = c.Close() }()
	require.Eventually(s.t, func() bool { return c.Ping(context.Background()).Err() == nil },
		10*time.Second, 20*time.Millisecond, "redis-server starts")
}

// Kill stops the server with SIGKILL.
func (s *RedisServer) Kill() {
	s.t.Helper()
	require.NoError(s.t, s.cmd.Process.Signal(os.Kill))
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Port is the server's port.
func (s *RedisServer) Port() int { return s.port }

// Config is the configuration that reaches this server.
func (s *RedisServer) Config() config.Redis {
	s.t.Helper()
	cfg := RedisConfig(s.t)
	cfg.Host, cfg.Port, cfg.ClusterAddrs = "127.0.0.1", s.port, nil
	return cfg
}

// Env is the environment that points a binary at this server.
func (s *RedisServer) Env() []string {
	return []string{"REDIS_HOST=127.0.0.1", "REDIS_PORT=" + strconv.Itoa(s.port)}
}

// Client is a client for checks (no silent retries); the caller closes it.
func (s *RedisServer) Client() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(s.port), MaxRetries: -1})
}

// Fill writes filler strings of size bytes under prefix until the server refuses a write for memory (OOM)
// right now — used memory dips below maxmemory once the buffers of a refused write are freed, so it ends
// with small strings until one is refused — and returns roughly how many it wrote. Any other error fails
// the test.
func (s *RedisServer) Fill(c redis.UniversalClient, prefix string, size int) int {
	s.t.Helper()
	ctx := context.Background()
	value := make([]byte, size)
	n := 0
	for {
		pipe := c.Pipeline()
		for i := range 100 {
			pipe.Set(ctx, prefix+strconv.Itoa(n+i), value, 0)
		}
		_, err := pipe.Exec(ctx)
		n += 100
		if err != nil {
			require.True(s.t, redis.HasErrorPrefix(err, "OOM"), "filling redis: %v", err)
			break
		}
	}
	for ; n < math.MaxInt; n++ {
		err := c.Set(ctx, prefix+strconv.Itoa(n), "x", 0).Err()
		if redis.HasErrorPrefix(err, "OOM") {
			return n
		}
		require.NoError(s.t, err, "filling redis")
	}
	return n
}

// SetMaxMemoryFor sets maxmemory so that the memory in use now is about ratio of it (0: no limit), to put
// the server above or below a memory guard's share.
func (s *RedisServer) SetMaxMemoryFor(ratio float64) {
	s.t.Helper()
	ctx := context.Background()
	c := s.Client()
	defer func() { _ = c.Close() }()
	max := "0"
	if ratio > 0 {
		m, err := redisconn.ReadMemory(ctx, c)
		require.NoError(s.t, err)
		max = strconv.FormatInt(int64(float64(m.Used)/ratio), 10)
	}
	require.NoError(s.t, c.ConfigSet(ctx, "maxmemory", max).Err())
}
