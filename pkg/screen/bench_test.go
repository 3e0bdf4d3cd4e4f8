package screen

import (
	"fmt"
	"net/http"
	"testing"
)

// BenchmarkClassify measures a request whose user agent is cached (hit, and hit in parallel: the shards'
// read locks) and one whose user agent is not (miss: the rules, crawlerdetect first among them, and the
// insert).
func BenchmarkClassify(b *testing.B) {
	b.Run("hit", func(b *testing.B) {
		s := New(Options{})
		h := header(chromeWindows, "Accept", "*/*")
		s.Classify(h)
		b.ReportAllocs()
		for b.Loop() {
			s.Classify(h)
		}
	})
	b.Run("hit-parallel", func(b *testing.B) {
		s := New(Options{})
		hs := make([]http.Header, 64)
		for i := range hs {
			hs[i] = header(fmt.Sprintf("%s v%d", chromeWindows, i))
			s.Classify(hs[i])
		}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				s.Classify(hs[i%len(hs)])
			}
		})
	})
	b.Run("miss", func(b *testing.B) {
		// The user agents are made beforehand, so that only Classify allocates; there are many more of them than
		// the cache holds, so each comes back long after it was dropped.
		s := New(Options{CacheSize: 1000})
		hs := make([]http.Header, 1<<14)
		for i := range hs {
			hs[i] = header(fmt.Sprintf("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.%d.%d Safari/537.36", i/100, i%100))
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			s.Classify(hs[i%len(hs)])
			i++
		}
	})
}
