package redisconn

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// Memory is what INFO memory says of Redis's memory: used_memory and maxmemory, in bytes. With Redis
// Cluster it is the fullest master's.
type Memory struct {
	Used int64
	Max  int64 // 0: no limit
}

// Ratio is Used/Max, 0 when there is no limit.
func (m Memory) Ratio() float64 {
	if m.Max <= 0 {
		return 0
	}
	return float64(m.Used) / float64(m.Max)
}

// Above reports whether used memory is above share of maxmemory: the one rule for "Redis is nearly full"
// (REDIS_MEMORY_GUARD), shared by the API's guard and the workers' trimming. A share of 0 or 1 or more, or
// no maxmemory, turns it off.
func (m Memory) Above(share float64) bool {
	if share <= 0 || share >= 1 || m.Max <= 0 {
		return false
	}
	return float64(m.Used) > share*float64(m.Max)
}

// ReadMemory reads INFO memory; on a cluster, every master's, returning the fullest.
func ReadMemory(ctx context.Context, c redis.UniversalClient) (Memory, error) {
	cc, ok := c.(*redis.ClusterClient)
	if !ok {
		return readNodeMemory(ctx, c)
	}
	var mu sync.Mutex
	var fullest Memory
	err := cc.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		m, err := readNodeMemory(ctx, node)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		if m.Ratio() >= fullest.Ratio() {
			fullest = m
		}
		return nil
	})
	return fullest, err
}

func readNodeMemory(ctx context.Context, c redis.Cmdable) (Memory, error) {
	info, err := c.Info(ctx, "memory").Result()
	if err != nil {
		return Memory{}, fmt.Errorf("info memory: %w", err)
	}
	m, err := parseMemory(info)
	if err != nil {
		return Memory{}, fmt.Errorf("info memory: %w", err)
	}
	return m, nil
}

// parseMemory reads used_memory and maxmemory from INFO's "key:value" lines.
func parseMemory(info string) (Memory, error) {
	var m Memory
	var seen int
	for line := range strings.SplitSeq(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || (k != "used_memory" && k != "maxmemory") {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return Memory{}, fmt.Errorf("%s is %q, not a number", k, v)
		}
		if k == "used_memory" {
			m.Used = n
		} else {
			m.Max = n
		}
		seen++
	}
	if seen != 2 {
		return Memory{}, fmt.Errorf("used_memory or maxmemory missing")
	}
	return m, nil
}
