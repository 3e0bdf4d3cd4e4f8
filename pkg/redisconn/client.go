package redisconn

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"adly/pkg/config"
	"adly/pkg/keyspace"
)

// ClientOptions tune a client for its use.
type ClientOptions struct {
	// NoRetries turns off go-redis's silent retries. A writer of stream entries must set it: an XADD retried
	// after a timeout can store the event twice.
	NoRetries bool
	// PoolSize bounds the connections (0: go-redis's default).
	PoolSize int
}

// NewClient builds a UniversalClient: a single node from REDIS_HOST/REDIS_PORT, or a cluster client when
// REDIS_CLUSTER_ADDRS is set. Context deadlines bound every command.
func NewClient(cfg config.Redis, opts ClientOptions) redis.UniversalClient {
	addrs := cfg.ClusterAddrs
	if len(addrs) == 0 {
		addrs = []string{cfg.Addr()}
	}
	uo := &redis.UniversalOptions{
		Addrs:                 addrs,
		Password:              cfg.Password,
		DB:                    cfg.DB,
		IsClusterMode:         len(cfg.ClusterAddrs) > 0,
		DialTimeout:           cfg.DialTimeout,
		ContextTimeoutEnabled: true,
		PoolSize:              opts.PoolSize,
		DisableIdentity:       true,
		MaintNotificationsConfig: &maintnotifications.Config{
			Mode: maintnotifications.ModeDisabled,
		},
	}
	if opts.NoRetries {
		uo.MaxRetries = -1
		uo.DialerRetries = 1
	}
	return redis.NewUniversalClient(uo)
}

// Ping checks that Redis answers within timeout.
func Ping(ctx context.Context, c redis.UniversalClient, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis ping: %w", err)
	}
	return nil
}

// Names are the key names cfg configures: its prefix, its STREAM_SHARDS and, when it names a cluster
// (REDIS_CLUSTER_ADDRS), streams that always carry a shard tag (keyspace.Names.OnCluster). Every binary
// takes its names here, so the API, the workers, the syncer and the operator tools agree.
func Names(cfg config.Redis) keyspace.Names {
	n := keyspace.NewNames(cfg.KeyPrefix).WithShards(cfg.StreamShards)
	if len(cfg.ClusterAddrs) > 0 {
		n = n.OnCluster()
	}
	return n
}
