package limits

import (
	"adly/pkg/testkit"
	"fmt"
	"math"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var (
	alice = netip.MustParseAddr("198.51.100.1")
	bob   = netip.MustParseAddr("198.51.100.2")
	carol = netip.MustParseAddr("198.51.100.3")
	dave  = netip.MustParseAddr("198.51.100.4")
)

// newTestLimiter is a limiter on a fake clock; shards 0 means as NewLimiter has it.
func newTestLimiter(t testing.TB, opts LimiterOptions, shards int) (*Limiter, *testkit.Clock) {
	t.Helper()
	clock := testkit.NewClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	opts.Now = clock.Now
	if shards == 0 {
		shards = maxShards
	}
	l, err := newLimiter(opts, shards)
	require.NoError(t, err)
	return l, clock
}

type step struct {
	advance time.Duration // before the call
	addr    netip.Addr    // zero: alice
	n       int
	ok      bool
	retry   time.Duration
}

func runSteps(t *testing.T, l *Limiter, clock *testkit.Clock, steps []step) {
	t.Helper()
	for i, s := range steps {
		clock.Advance(s.advance)
		addr := s.addr
		if !addr.IsValid() {
			addr = alice
		}
		ok, retry := l.Allow(addr, s.n)
		require.Equal(t, s.ok, ok, "step %d", i)
		require.Equal(t, s.retry, retry, "step %d", i)
	}
}

func TestLimiterAllow(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name  string
		steps []step
	}{
		{name: "burst then refusal", steps: []step{
			{n: 1, ok: true}, {n: 1, ok: true}, {n: 1, ok: true}, {n: 1, ok: true}, {n: 1, ok: true},
			{n: 1, retry: 100 * ms},
			{n: 1, retry: 100 * ms}, // a refusal takes nothing
		}},
		{name: "all at once", steps: []step{{n: 5, ok: true}, {n: 1, retry: 100 * ms}}},
		{name: "refill one token", steps: []step{
			{n: 5, ok: true}, {advance: 99 * ms, n: 1, retry: ms}, {advance: ms, n: 1, ok: true}, {n: 1, retry: 100 * ms},
		}},
		{name: "retry after is when n tokens are there", steps: []step{
			{n: 5, ok: true}, {advance: 50 * ms, n: 3, retry: 250 * ms}, {advance: 249 * ms, n: 3, retry: ms},
			{advance: ms, n: 3, ok: true}, {n: 1, retry: 100 * ms},
		}},
		{name: "refill stops at burst", steps: []step{
			{n: 5, ok: true}, {advance: time.Hour, n: 5, ok: true}, {n: 1, retry: 100 * ms},
		}},
		{name: "partial refill", steps: []step{
			{n: 4, ok: true}, {advance: 150 * ms, n: 3, retry: 50 * ms}, {advance: 50 * ms, n: 3, ok: true},
		}},
		{name: "more than burst: never", steps: []step{{n: 6, retry: Never}, {n: 5, ok: true}, {n: math.MaxInt, retry: Never}}},
		{name: "zero and negative take nothing", steps: []step{{n: 5, ok: true}, {n: 0, ok: true}, {n: -3, ok: true}, {n: 1, retry: 100 * ms}}},
		{name: "clients are apart", steps: []step{
			{n: 5, ok: true}, {addr: bob, n: 5, ok: true}, {n: 1, retry: 100 * ms}, {addr: bob, n: 1, retry: 100 * ms},
		}},
		{name: "a clock going back adds nothing", steps: []step{
			{n: 5, ok: true}, {advance: -time.Second, n: 1, retry: 1100 * ms}, {advance: time.Second, n: 1, retry: 100 * ms},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, clock := newTestLimiter(t, LimiterOptions{Rate: 10, Burst: 5}, 0)
			runSteps(t, l, clock, tt.steps)
		})
	}
}

func TestLimiterDisabled(t *testing.T) {
	for _, rate := range []float64{0, -1} {
		l, err := NewLimiter(LimiterOptions{Rate: rate})
		require.NoError(t, err)
		for range 1000 {
			ok, retry := l.Allow(alice, math.MaxInt)
			require.True(t, ok)
			require.Zero(t, retry)
		}
		require.Zero(t, l.Len())
	}
}

func TestNewLimiterOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    LimiterOptions
		wantErr string
	}{
		{name: "defaults", opts: LimiterOptions{Rate: DefaultRate, Burst: DefaultBurst}},
		{name: "slow", opts: LimiterOptions{Rate: 0.001, Burst: 1}},
		{name: "faster than a token per nanosecond", opts: LimiterOptions{Rate: 1e12, Burst: 1}},
		{name: "nan", opts: LimiterOptions{Rate: math.NaN(), Burst: 1}, wantErr: "rate limit: rate NaN"},
		{name: "inf", opts: LimiterOptions{Rate: math.Inf(1), Burst: 1}, wantErr: "rate limit: rate +Inf"},
		{name: "no burst", opts: LimiterOptions{Rate: 1}, wantErr: "rate limit: burst 0 must be at least 1"},
		{name: "negative max clients", opts: LimiterOptions{Rate: 1, Burst: 1, MaxClients: -1}, wantErr: "max clients -1"},
		{name: "window too long", opts: LimiterOptions{Rate: 1e-9, Burst: 1000}, wantErr: "longer than a century"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := NewLimiter(tt.opts)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			ok, _ := l.Allow(alice, 1)
			require.True(t, ok)
		})
	}
}

func TestLimiterShares(t *testing.T) {
	for _, tt := range []struct{ maxClients, shards int }{{0, 64}, {1, 1}, {3, 2}, {64, 64}, {100, 64}, {100_001, 64}} {
		l, err := NewLimiter(LimiterOptions{Rate: 1, Burst: 1, MaxClients: tt.maxClients})
		require.NoError(t, err)
		require.Len(t, l.shards, tt.shards)
		total := 0
		for i := range l.shards {
			require.GreaterOrEqual(t, l.shards[i].limit, 1)
			total += l.shards[i].limit
		}
		want := tt.maxClients
		if want == 0 {
			want = DefaultMaxClients
		}
		require.Equal(t, want, total)
	}
}

func TestLimiterGroupsClients(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		same bool
	}{
		{name: "one /64", a: "2001:db8:1:2::1", b: "2001:db8:1:2:ffff:ffff:ffff:ffff", same: true},
		{name: "neighbouring /64", a: "2001:db8:1:2::1", b: "2001:db8:1:3::1"},
		{name: "zone ignored", a: "fe80::1%eth0", b: "fe80::2", same: true},
		{name: "ipv4 per address", a: "192.0.2.1", b: "192.0.2.2"},
		{name: "mapped is ipv4", a: "::ffff:192.0.2.1", b: "192.0.2.1", same: true},
		{name: "ipv4 is not ::/64", a: "::", b: "0.0.0.0"},
		{name: "ipv4 is not the ::ffff:0:0/64 group", a: "::ffff:0:0:1", b: "0.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, _ := newTestLimiter(t, LimiterOptions{Rate: 1, Burst: 2}, 0)
			a, b := netip.MustParseAddr(tt.a), netip.MustParseAddr(tt.b)
			ok, _ := l.Allow(a, 2)
			require.True(t, ok)
			ok, _ = l.Allow(b, 1)
			require.Equal(t, !tt.same, ok)
		})
	}
	t.Run("the zero Addr is one client", func(t *testing.T) {
		l, _ := newTestLimiter(t, LimiterOptions{Rate: 1, Burst: 1}, 0)
		ok, _ := l.Allow(netip.Addr{}, 1)
		require.True(t, ok)
		ok, _ = l.Allow(netip.Addr{}, 1)
		require.False(t, ok)
		for _, a := range []string{"::", "0.0.0.0"} {
			ok, _ = l.Allow(netip.MustParseAddr(a), 1)
			require.True(t, ok, a)
		}
	})
}

// TestLimiterEviction runs one shard of three entries (rate 10/s: a token each 100ms).
func TestLimiterEviction(t *testing.T) {
	ms := time.Millisecond
	t.Run("a full bucket goes first, and its client loses nothing", func(t *testing.T) {
		l, clock := newTestLimiter(t, LimiterOptions{Rate: 10, Burst: 5, MaxClients: 3}, 1)
		runSteps(t, l, clock, []step{
			{n: 5, ok: true},                                // alice: empty, full again in 500ms
			{addr: bob, n: 1, ok: true},                     // full again in 100ms
			{addr: carol, n: 1, ok: true},                   // full again in 100ms
			{advance: 100 * ms, addr: dave, n: 1, ok: true}, // alice is the oldest but in debt: bob goes
		})
		require.Equal(t, 3, l.Len())
		_, bobKept := l.shards[0].index[keyOf(bob)]
		require.False(t, bobKept)
		runSteps(t, l, clock, []step{
			{n: 2, retry: 100 * ms},     // alice kept her debt: 1 token back of 5
			{addr: bob, n: 5, ok: true}, // bob returns to a full bucket, as he had
		})
	})
	t.Run("all in debt: the oldest-touched goes, with its debt", func(t *testing.T) {
		l, clock := newTestLimiter(t, LimiterOptions{Rate: 10, Burst: 5, MaxClients: 3}, 1)
		runSteps(t, l, clock, []step{
			{n: 5, ok: true}, {addr: bob, n: 5, ok: true}, {addr: carol, n: 5, ok: true},
			{n: 1, retry: 100 * ms}, // a refusal touches alice too: bob is now the oldest
			{addr: dave, n: 1, ok: true},
			{addr: bob, n: 5, ok: true}, // forgotten with his debt: a full bucket (carol went to make room)
			{n: 1, retry: 100 * ms},
		})
		require.Equal(t, 3, l.Len())
	})
	t.Run("a shard of one: each newcomer takes the place", func(t *testing.T) {
		l, clock := newTestLimiter(t, LimiterOptions{Rate: 10, Burst: 5, MaxClients: 1}, 1)
		runSteps(t, l, clock, []step{{n: 5, ok: true}, {addr: bob, n: 1, ok: true}, {n: 5, ok: true}})
	})
}

// TestLimiterMemoryBound: however many clients come, no more than MaxClients are remembered, in any shard
// layout, and the touch lists stay consistent with the maps.
func TestLimiterMemoryBound(t *testing.T) {
	for _, tt := range []struct{ maxClients, shards int }{{1, 1}, {7, 1}, {10, 4}, {100, 64}, {300, 64}} {
		t.Run(fmt.Sprintf("%d clients %d shards", tt.maxClients, tt.shards), func(t *testing.T) {
			l, clock := newTestLimiter(t, LimiterOptions{Rate: 10, Burst: 3, MaxClients: tt.maxClients}, tt.shards)
			for i := range 20 * tt.maxClients {
				a := netip.AddrFrom4([4]byte{203, 0, byte(i >> 8), byte(i)})
				if i%3 == 0 {
					a = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, byte(i >> 8), byte(i), 15: 1})
				}
				l.Allow(a, 1+i%3)
				clock.Advance(time.Duration(i%7) * 10 * time.Millisecond)
				require.LessOrEqual(t, l.Len(), tt.maxClients)
			}
			require.Equal(t, tt.maxClients, l.Len(), "a full limiter stays full")
			for i := range l.shards {
				checkShard(t, &l.shards[i])
			}
		})
	}
}

func checkShard(t *testing.T, s *shard) {
	t.Helper()
	require.LessOrEqual(t, len(s.index), s.limit)
	require.Len(t, s.list, len(s.index))
	seen := 0
	prev := int32(-1)
	for i := s.head; i >= 0; i = s.list[i].next {
		require.Equal(t, prev, s.list[i].prev)
		require.Equal(t, i, s.index[s.list[i].key])
		prev = i
		seen++
	}
	require.Equal(t, prev, s.tail)
	require.Equal(t, len(s.index), seen)
}

// TestLimiterConcurrent: on a stopped clock, goroutines racing on one client get exactly Burst tokens
// between them, while others churn through a small limiter (evicting on nearly every call) meanwhile.
func TestLimiterConcurrent(t *testing.T) {
	l, clock := newTestLimiter(t, LimiterOptions{Rate: 1, Burst: 50}, 0)
	small, smallClock := newTestLimiter(t, LimiterOptions{Rate: 1, Burst: 50, MaxClients: 16}, 0)
	var admitted atomic.Int64
	var overflow atomic.Bool
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				if ok, _ := l.Allow(alice, 1); ok {
					admitted.Add(1)
				}
				l.Allow(netip.AddrFrom4([4]byte{203, 0, byte(g), byte(i)}), 1)
				small.Allow(netip.AddrFrom4([4]byte{203, 0, byte(g), byte(i)}), 1+i%50)
				small.Allow(alice, 1)
				if i%50 == 0 {
					smallClock.Advance(time.Millisecond)
					if small.Len() > 16 {
						overflow.Store(true)
					}
				}
			}
		})
	}
	wg.Wait()
	require.Equal(t, int64(50), admitted.Load())
	require.False(t, overflow.Load(), "more than MaxClients remembered")
	require.Equal(t, 16, small.Len())
	for i := range small.shards {
		checkShard(t, &small.shards[i])
	}
	clock.Advance(time.Second)
	ok, _ := l.Allow(alice, 1)
	require.True(t, ok)
	ok, _ = l.Allow(alice, 1)
	require.False(t, ok)
}

func TestLimiterAllocations(t *testing.T) {
	l, clock := newTestLimiter(t, LimiterOptions{Rate: 1000, Burst: 10}, 0)
	l.Allow(alice, 1)
	v6 := netip.MustParseAddr("2001:db8::1")
	l.Allow(v6, 1)
	require.Zero(t, testing.AllocsPerRun(1000, func() {
		clock.Advance(time.Millisecond)
		l.Allow(alice, 1)
		l.Allow(v6, 1)
	}))
}

// BenchmarkAllow measures Allow for a client the limiter knows (the hot path), from one goroutine and
// from all, and for a stream of new clients on a full limiter (every call evicts).
func BenchmarkAllow(b *testing.B) {
	b.Run("known client", func(b *testing.B) {
		l, err := NewLimiter(LimiterOptions{Rate: 1e9, Burst: DefaultBurst})
		require.NoError(b, err)
		b.ReportAllocs()
		for b.Loop() {
			l.Allow(alice, 1)
		}
	})
	b.Run("known client, cheap clock", func(b *testing.B) { // the limiter's own work, without time.Now
		start := time.Now()
		tick := time.Duration(0)
		l, err := NewLimiter(LimiterOptions{Rate: 1e6, Burst: DefaultBurst, Now: func() time.Time {
			tick += time.Microsecond
			return start.Add(tick)
		}})
		require.NoError(b, err)
		b.ReportAllocs()
		for b.Loop() {
			l.Allow(alice, 1)
		}
	})
	b.Run("known clients parallel", func(b *testing.B) {
		l, err := NewLimiter(LimiterOptions{Rate: 1e9, Burst: DefaultBurst})
		require.NoError(b, err)
		var next atomic.Uint32
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			g := next.Add(1)
			addrs := make([]netip.Addr, 256)
			for i := range addrs {
				addrs[i] = netip.AddrFrom4([4]byte{198, byte(g), 100, byte(i)})
			}
			i := 0
			for pb.Next() {
				l.Allow(addrs[i&255], 1)
				i++
			}
		})
	})
	b.Run("new clients evicting", func(b *testing.B) {
		l, err := NewLimiter(LimiterOptions{Rate: DefaultRate, Burst: DefaultBurst, MaxClients: 10_000})
		require.NoError(b, err)
		b.ReportAllocs()
		i := uint32(0)
		for b.Loop() {
			i++
			l.Allow(netip.AddrFrom4([4]byte{byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)}), 1)
		}
	})
	b.Run("disabled", func(b *testing.B) {
		l, err := NewLimiter(LimiterOptions{})
		require.NoError(b, err)
		b.ReportAllocs()
		for b.Loop() {
			l.Allow(alice, 1)
		}
	})
}
