package screen

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

func TestCacheBound(t *testing.T) {
	for _, size := range []int{1, 2, 15, 16, 17, 1000} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			c := newCache(size)
			require.LessOrEqual(t, len(c.shards), maxShards)
			for i := range 20 * size {
				key := "ua-" + strconv.Itoa(i)
				c.put(key, Crawler)
				r, ok := c.get(key)
				require.True(t, ok, "just put")
				require.Equal(t, Crawler, r)
				require.LessOrEqual(t, c.count(), size)
			}
		})
	}
}

func TestCachePutKeepsFirstAnswer(t *testing.T) {
	c := newCache(10)
	c.put("a", Crawler)
	c.put("a", NonBrowser)
	r, ok := c.get("a")
	require.True(t, ok)
	require.Equal(t, Crawler, r)
	_, ok = c.get("b")
	require.False(t, ok)
}

// The cache keeps a copy of the key, not the request's header it was cut from.
func TestCacheCopiesKey(t *testing.T) {
	c := newCache(10)
	header := strings.Repeat("x", 4*maxUserAgent)
	key := clip(header)
	c.put(key, NonBrowser)
	s := c.shard(key)
	for k := range s.answers {
		require.Equal(t, key, k)
		require.NotSame(t, unsafe.StringData(header), unsafe.StringData(k))
	}
}

// Many goroutines classifying through a small cache (run with -race).
func TestClassifyConcurrent(t *testing.T) {
	s := New(Options{CacheSize: 8})
	uas := []string{chromeWindows, googlebot, curl, headlessChrome, whatsApp, dalvik, "", safariIPhone}
	want := make([]Reason, len(uas))
	for i, ua := range uas {
		want[i] = reference(nil, header(ua))
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 100 {
				ua, want := uas[(g+i)%len(uas)], want[(g+i)%len(uas)]
				if i%10 == 0 {
					ua = fmt.Sprintf("%s %d/%d", ua, g, i) // a miss
					want = reference(nil, header(ua))
				}
				if got := s.Classify(header(ua)); got != want {
					t.Errorf("Classify(%q) = %q, rules say %q", ua, got, want)
				}
			}
		})
	}
	wg.Wait()
	require.LessOrEqual(t, s.cache.count(), 8)
}
