package limits

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"sync"
	"time"
)

// Suggested settings of the per-client rate limit (the package documentation says why).
const (
	DefaultRate       = 100     // tokens per second per client
	DefaultBurst      = 200     // tokens a client may spend at once
	DefaultMaxClients = 100_000 // clients remembered at once
)

// Never is the retryAfter of a request that no wait will ever admit: it asks for more tokens than Burst.
// It is negative, so a caller can also test retryAfter < 0.
const Never time.Duration = -1

// LimiterOptions configure a Limiter.
type LimiterOptions struct {
	// Rate is the tokens per second a client earns, kept as a whole number of nanoseconds per token
	// (1s/Rate rounded, so rates above 1e9 act as 1e9). Zero or less disables limiting: Allow always admits.
	Rate float64
	// Burst is the size of a client's bucket: the most tokens it can spend at once. At least 1 when limiting.
	Burst int
	// MaxClients bounds the clients remembered at once, and so the memory: up to about 110 bytes each,
	// some 11 MB at the default. 0 means DefaultMaxClients.
	MaxClients int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// maxWindow bounds Burst/Rate (in nanoseconds) so that no sum of bucket times overflows int64: 2^62 ns is
// about 146 years.
const maxWindow = 1 << 62

// evictLook is how many of a full shard's oldest-touched entries are examined for one whose bucket is full.
const evictLook = 16

// maxShards is the most shards a Limiter has; fewer when MaxClients is smaller, so each holds at least one.
const maxShards = 64

// Limiter is a token bucket per client: an IPv4 address, or the /64 of an IPv6 address (one subscriber, or
// one attacker, commonly holds a whole /64). Each client may spend up to Burst tokens at once and earns Rate
// per second, up to Burst.
//
// A bucket is kept as one time: when it will be full again (the generic cell rate algorithm, which answers
// exactly as a token bucket). Taking n tokens moves that time n intervals of 1s/Rate later, starting from
// now if it is past; the request is admitted when the time stays within Burst intervals of now. A bucket
// whose time has passed is full, just like a client never seen.
//
// Buckets live in shards, each a map with its own mutex and a list of its entries in the order they were
// last touched (admitted or refused); an address is hashed to its shard with a per-Limiter random seed, so
// no one can aim at one shard. The shards share MaxClients between them, so the number of remembered
// clients never exceeds it. A new client arriving at a full shard takes the place of another: the first
// of the shard's 16 oldest-touched entries whose bucket is full — forgetting it changes no answer — or,
// when none of those is full, the oldest-touched entry. Forgetting a bucket that is not full forgets
// that client's debt: it returns to a full bucket. Eviction can therefore give a client tokens, never take
// them away. Eviction is constant work, however many clients there are.
//
// A Limiter is safe for concurrent use. Allow does not allocate for a client it remembers.
type Limiter struct {
	off      bool
	burst    int
	interval int64 // nanoseconds per token: 1s/Rate, rounded, at least 1
	window   int64 // burst * interval
	now      func() time.Time
	base     time.Time // times are nanoseconds since base, so a monotonic clock reading is used when there is one
	seed     uint64
	mask     uint64
	shards   []shard
}

type clientKey struct{ hi, lo uint64 }

type entry struct {
	key        clientKey
	fullAt     int64 // nanoseconds since base when the bucket is full again
	prev, next int32 // the touch list: prev is more recently touched; -1 ends it
}

type shard struct {
	mu    sync.Mutex
	index map[clientKey]int32 // into list
	list  []entry             // grows up to limit, then entries are reused
	head  int32               // the most recently touched entry, -1 when empty
	tail  int32               // the least recently touched
	limit int                 // this shard's share of MaxClients
	_     [64]byte            // keeps neighbouring shards' locks off one cache line
}

// NewLimiter checks the options and builds a Limiter. A Rate of zero or less gives a Limiter that admits
// everything and remembers nothing. A Rate that is NaN or infinite, a Burst below 1, a negative MaxClients
// and a bucket that would take more than a century to refill are errors.
func NewLimiter(opts LimiterOptions) (*Limiter, error) {
	return newLimiter(opts, maxShards)
}

func newLimiter(opts LimiterOptions, shards int) (*Limiter, error) {
	switch {
	case math.IsNaN(opts.Rate) || math.IsInf(opts.Rate, 0):
		return nil, fmt.Errorf("rate limit: rate %v is not a number of tokens per second", opts.Rate)
	case opts.Rate <= 0:
		return &Limiter{off: true}, nil
	case opts.Burst < 1:
		return nil, fmt.Errorf("rate limit: burst %d must be at least 1", opts.Burst)
	case opts.MaxClients < 0:
		return nil, fmt.Errorf("rate limit: max clients %d must not be negative", opts.MaxClients)
	}
	interval := max(1, math.Round(float64(time.Second)/opts.Rate))
	if float64(opts.Burst)*interval > maxWindow {
		return nil, fmt.Errorf("rate limit: burst %d at rate %v/s takes longer than a century to refill", opts.Burst, opts.Rate)
	}
	if opts.MaxClients == 0 {
		opts.MaxClients = DefaultMaxClients
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	for shards > opts.MaxClients {
		shards /= 2
	}
	l := &Limiter{
		burst:    opts.Burst,
		interval: int64(interval),
		window:   int64(opts.Burst) * int64(interval),
		now:      opts.Now,
		base:     opts.Now(),
		seed:     rand.Uint64(),
		mask:     uint64(shards - 1),
		shards:   make([]shard, shards),
	}
	for i := range l.shards {
		s := &l.shards[i]
		s.limit = opts.MaxClients / shards
		if i < opts.MaxClients%shards {
			s.limit++
		}
		s.index = map[clientKey]int32{}
		s.head, s.tail = -1, -1
	}
	return l, nil
}

// Allow takes n tokens from addr's bucket, or none. It reports whether they were taken and, when not, how
// long until the bucket holds n tokens (exact to the nanosecond; rounding up to whole seconds for a
// Retry-After is the caller's). A request for more than Burst tokens is never admitted: Allow answers
// (false, Never) without touching the bucket. n of zero or less takes nothing and is admitted. A disabled
// Limiter answers (true, 0). The zero Addr is one client, shared by every request without an address.
func (l *Limiter) Allow(addr netip.Addr, n int) (ok bool, retryAfter time.Duration) {
	if l.off || n <= 0 {
		return true, 0
	}
	if n > l.burst {
		return false, Never
	}
	k := keyOf(addr)
	s := &l.shards[l.hash(k)&l.mask]
	// The clock is read before the lock, not under it. A caller that reads it earlier but locks later is
	// answered as of its own, earlier, time: max(fullAt, now) never moves a bucket back, so it is at most
	// refused a moment too soon, never admitted beyond the rate.
	now := int64(l.now().Sub(l.base))
	s.mu.Lock()
	e := &s.list[s.touch(k, now)]
	next := max(e.fullAt, now) + int64(n)*l.interval
	if wait := next - now - l.window; wait > 0 {
		s.mu.Unlock()
		return false, time.Duration(wait)
	}
	e.fullAt = next
	s.mu.Unlock()
	return true, 0
}

// Len is the number of clients remembered, at most MaxClients. It locks each shard in turn.
func (l *Limiter) Len() int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += len(s.index)
		s.mu.Unlock()
	}
	return n
}

// keyOf groups addresses into clients: an IPv4 address is its own client (kept as ::ffff:a.b.c.d/128), an
// IPv6 address belongs to its /64 (the low half is zero), and the zero Addr is the key {0, 1}, which neither
// form can take.
func keyOf(a netip.Addr) clientKey {
	a = a.Unmap()
	switch {
	case a.Is4():
		b := a.As4()
		return clientKey{lo: 0xffff<<32 | uint64(binary.BigEndian.Uint32(b[:]))}
	case a.Is6():
		b := a.As16()
		return clientKey{hi: binary.BigEndian.Uint64(b[:8])}
	default:
		return clientKey{lo: 1}
	}
}

// hash picks a shard. The seed is random per Limiter, so which addresses share a shard cannot be known
// from outside.
func (l *Limiter) hash(k clientKey) uint64 {
	h := (k.hi ^ l.seed) * 0x9e3779b97f4a7c15
	h = (h ^ h>>29 ^ k.lo) * 0xbf58476d1ce4e5b9
	return h ^ h>>32
}

// touch returns the index of k's entry, making it the most recently touched; a new client gets a full
// bucket (fullAt = now), in a new entry while the shard has room, else in the entry of the one evicted.
// The shard's lock is held.
func (s *shard) touch(k clientKey, now int64) int32 {
	if i, ok := s.index[k]; ok {
		if i != s.head {
			s.unlink(i)
			s.pushFront(i)
		}
		return i
	}
	var i int32
	if len(s.list) < s.limit {
		i = int32(len(s.list))
		s.list = append(s.list, entry{})
	} else {
		i = s.victim(now)
		delete(s.index, s.list[i].key)
		s.unlink(i)
	}
	s.list[i] = entry{key: k, fullAt: now}
	s.index[k] = i
	s.pushFront(i)
	return i
}

// victim is the entry a new client replaces in a full shard: the first full bucket among the evictLook
// oldest-touched, or else the oldest-touched.
func (s *shard) victim(now int64) int32 {
	i := s.tail
	for range evictLook {
		if i < 0 {
			break
		}
		if s.list[i].fullAt <= now {
			return i
		}
		i = s.list[i].prev
	}
	return s.tail
}

func (s *shard) unlink(i int32) {
	e := &s.list[i]
	if e.prev >= 0 {
		s.list[e.prev].next = e.next
	} else {
		s.head = e.next
	}
	if e.next >= 0 {
		s.list[e.next].prev = e.prev
	} else {
		s.tail = e.prev
	}
	e.prev, e.next = -1, -1
}

func (s *shard) pushFront(i int32) {
	e := &s.list[i]
	e.prev, e.next = -1, s.head
	if s.head >= 0 {
		s.list[s.head].prev = i
	} else {
		s.tail = i
	}
	s.head = i
}
