package redisconn

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// ServerTime is Redis's clock (TIME), the one that makes stream IDs: ages of entries are measured on it.
func ServerTime(ctx context.Context, c redis.UniversalClient) (time.Time, error) {
	t, err := c.Time(ctx).Result()
	if err != nil {
		return time.Time{}, fmt.Errorf("redis time: %w", err)
	}
	return t, nil
}
