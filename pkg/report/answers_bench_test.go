package report

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"
	"time"
)

func sampleDays(n int) []Day {
	r := Range{From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	r.To = r.From.AddDate(0, 0, n-1)
	out := make([]Day, 0, n)
	for i, d := range r.Dates() {
		out = append(out, Day{Date: d, Totals: NewTotals(int64(100+i), int64(i%7))})
	}
	return out
}

func BenchmarkEncodeDays(b *testing.B) {
	a := adDailyAnswer{Status: ok, Days: sampleDays(365)}
	for b.Loop() {
		_ = json.NewEncoder(io.Discard).Encode(a)
	}
}

func sampleAds() []AdRow {
	ads := make([]AdRow, 10000)
	for i := range ads {
		ads[i] = AdRow{AdID: int64(i + 1), Totals: NewTotals(int64(15000+i), int64(i%600)), Filtered: []Filtered{}}
	}
	return ads
}

func samplePaths() []PathRow {
	paths := make([]PathRow, 100)
	t := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range paths {
		paths[i] = PathRow{Path: "/bench/page/12345", Hits: 99999, CreatedAt: &t, UpdatedAt: &t}
	}
	return paths
}

func BenchmarkEncodeAds(b *testing.B) {
	a := adsAnswer{Status: ok, Ads: sampleAds()}
	for b.Loop() {
		_ = json.NewEncoder(io.Discard).Encode(a)
	}
}

// BenchmarkEncodePaths: encoding/json against what the service does (encodeAnswer: appendJSON).
func BenchmarkEncodePaths(b *testing.B) {
	a := pathsAnswer{Status: ok, Paths: samplePaths()}
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			_ = json.NewEncoder(io.Discard).Encode(a)
		}
	})
	b.Run("service", func(b *testing.B) {
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			if err := encodeAnswer(&buf, a); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// What the answers cost in Go, before and after MariaDB: `go test -bench . -run XXX ./pkg/report`.
func BenchmarkDaysFill(b *testing.B) {
	r := Range{From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)}
	sums := [2]daySums{{}, {}}
	for i := range int64(365) {
		sums[0][dayNumber(r.From)+i] = i
		sums[1][dayNumber(r.From)+i] = i
	}
	for b.Loop() {
		days(r, sums)
	}
}
