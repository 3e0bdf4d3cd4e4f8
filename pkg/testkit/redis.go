package testkit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"adly/pkg/config"
	"adly/pkg/keyspace"
	"adly/pkg/redisconn"
)

// RedisConfig is the test Redis, from REDIS_HOST/REDIS_PORT (default 127.0.0.1:6379).
func RedisConfig(t testing.TB) config.Redis {
	t.Helper()
	var cfg config.Redis
	require.NoError(t, config.Load(&cfg))
	return cfg
}

// Prefix returns a fresh random key prefix and removes every key under it when the test ends.
func Prefix(t testing.TB) string {
	t.Helper()
	prefix := newPrefix()
	t.Cleanup(func() { CleanupRedis(t, prefix) })
	return prefix
}

// newPrefix is a fresh random key prefix. It holds no brace, so a key's hash tag is always its own.
func newPrefix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "adlytest:" + hex.EncodeToString(b) + ":"
}

// Redis returns a client (no silent retries, like the API's) and names under a fresh prefix.
func Redis(t testing.TB) (redis.UniversalClient, keyspace.Names) {
	t.Helper()
	cfg := RedisConfig(t)
	c := redisconn.NewClient(cfg, redisconn.ClientOptions{NoRetries: true})
	t.Cleanup(func() { _ = c.Close() })
	require.NoError(t, redisconn.Ping(context.Background(), c, 2*time.Second), "tests need Redis at %s", cfg.Addr())
	return c, keyspace.NewNames(Prefix(t))
}

// ProxiedRedis returns a client (no silent retries) that reaches the test Redis through a Proxy the test
// controls, and the proxy. Names come from Redis or Prefix: the proxy does not choose them.
func ProxiedRedis(t testing.TB) (*Proxy, redis.UniversalClient) {
	t.Helper()
	cfg := RedisConfig(t)
	proxy := NewProxy(t, cfg.Addr())
	cfg.Host, cfg.Port, cfg.ClusterAddrs = "127.0.0.1", proxy.Port(), nil
	c := redisconn.NewClient(cfg, redisconn.ClientOptions{NoRetries: true})
	t.Cleanup(func() { _ = c.Close() })
	return proxy, c
}

// CleanupRedis deletes every key under prefix.
func CleanupRedis(t testing.TB, prefix string) {
	c := redisconn.NewClient(RedisConfig(t), redisconn.ClientOptions{})
	defer func() { _ = c.Close() }()
	ctx := context.Background()
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
		if len(keys) == 1000 {
			c.Del(ctx, keys...)
			keys = keys[:0]
		}
	}
	if len(keys) > 0 {
		c.Del(ctx, keys...)
	}
}

// RedisKeys lists the keys under prefix (to prove that a refused request wrote nothing).
func RedisKeys(t testing.TB, c redis.UniversalClient, prefix string) []string {
	t.Helper()
	keys, err := c.Keys(context.Background(), prefix+"*").Result()
	require.NoError(t, err)
	return keys
}
