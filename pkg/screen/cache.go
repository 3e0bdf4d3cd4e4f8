package screen

import (
	"hash/maphash"
	"strings"
	"sync"
)

// maxShards is the number of shards of a cache of at least that many entries. With one lock per shard, the
// API's request goroutines rarely wait for each other on a cache hit.
const maxShards = 16

// cache remembers the user-agent answer of a Screen per clipped user agent. It holds at most size entries,
// each key at most maxUserAgent bytes. A shard that is full when a new key arrives is emptied first: a flood of
// distinct user agents therefore costs the popular ones one more miss per emptying, and never more memory.
// Between two emptyings a shard's map only gains entries, so its table never outgrows what its limit needs;
// evicting single entries instead would leave that to how the runtime reuses deleted slots.
type cache struct {
	seed   maphash.Seed
	shards []shard
}

type shard struct {
	mu      sync.RWMutex
	limit   int
	answers map[string]Reason
}

func newCache(size int) *cache {
	n := min(size, maxShards)
	c := &cache{seed: maphash.MakeSeed(), shards: make([]shard, n)}
	for i := range c.shards {
		c.shards[i].limit = size / n // n ≤ size, so every shard holds at least one entry, and all at most size
		c.shards[i].answers = make(map[string]Reason)
	}
	return c
}

func (c *cache) shard(key string) *shard {
	return &c.shards[maphash.String(c.seed, key)%uint64(len(c.shards))]
}

// get returns the answer remembered for key, without allocating.
func (c *cache) get(key string) (Reason, bool) {
	s := c.shard(key)
	s.mu.RLock()
	r, ok := s.answers[key]
	s.mu.RUnlock()
	return r, ok
}

// put remembers r for key. It stores a copy of key: key is usually a slice of a request's header, which the
// cache must not keep alive.
func (c *cache) put(key string, r Reason) {
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.answers[key]; ok {
		return // another request with the same user agent got here first
	}
	if len(s.answers) >= s.limit {
		clear(s.answers)
	}
	s.answers[strings.Clone(key)] = r
}

// count is the number of entries held.
func (c *cache) count() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.answers)
		s.mu.RUnlock()
	}
	return n
}
