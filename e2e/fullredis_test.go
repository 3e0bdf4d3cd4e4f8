package e2e

import (
	"adly/pkg/keyspace"
	"adly/pkg/testkit"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// answered is what the API answered 200 for: exactly what must end up in MariaDB.
type answered struct {
	mu          sync.Mutex
	impressions map[adDate]int64
	clicks      map[adDate]int64
	hits        map[string]int64
	ids         map[string]bool // event_ids booked
	accepted    int64           // requests answered 200
	refused     int64           // requests answered 503
}

type adDate struct {
	ad   int64
	date string
}

func newAnswered() *answered {
	return &answered{impressions: map[adDate]int64{}, clicks: map[adDate]int64{}, hits: map[string]int64{}}
}

// loadClient sends the test's events and books every one answered 200.
type loadClient struct {
	base  string
	http  *http.Client
	book  *answered
	paths atomic.Int64 // distinct paths handed out so far
}

type batchEvent struct {
	Type    string `json:"type"`
	AdID    int64  `json:"ad_id,omitempty"`
	Path    string `json:"path,omitempty"`
	EventID string `json:"event_id,omitempty"`
}

// batch sends one POST /track/batch of impressions (ad_ids 1..50) and hits on new paths, and returns the
// status. A 200 books every event under the answer's ts; any answer but 200 or a well-formed 503 is an error.
// It may run on any goroutine: it reports, never fails the test itself.
func (c *loadClient) batch(impressions, hits int) (int, error) {
	events := make([]batchEvent, 0, impressions+hits)
	for i := range impressions {
		events = append(events, batchEvent{Type: "impression", AdID: int64(i%50 + 1)})
	}
	first := c.paths.Add(int64(hits)) - int64(hits)
	for i := range hits {
		events = append(events, batchEvent{Type: "hit", Path: fmt.Sprintf("/page/%d", first+int64(i))})
	}
	return c.sendBatch(events)
}

// mixedBatch sends one POST /track/batch of impressions and clicks (ad_ids 1..50) and hits on 300 paths
// (so some counters exist and some are new), and books every event when answered 200.
func (c *loadClient) mixedBatch(rng *rand.Rand, impressions, clicks, hits int) (int, error) {
	events := make([]batchEvent, 0, impressions+clicks+hits)
	for range impressions {
		events = append(events, batchEvent{Type: "impression", AdID: 1 + rng.Int64N(50)})
	}
	for range clicks {
		events = append(events, batchEvent{Type: "click", AdID: 1 + rng.Int64N(50)})
	}
	for range hits {
		events = append(events, batchEvent{Type: "hit", Path: fmt.Sprintf("/mixed/%d", rng.IntN(300))})
	}
	return c.sendBatch(events)
}

// sendBatch sends events as one POST /track/batch and, when answered 200, books every one under the
// answer's ts.
func (c *loadClient) sendBatch(events []batchEvent) (int, error) {
	body, err := json.Marshal(events)
	if err != nil {
		return 0, err
	}
	var ok struct {
		Count int   `json:"count"`
		TS    int64 `json:"ts"`
	}
	code, err := c.do(http.MethodPost, "/track/batch", body, &ok)
	if err != nil || code != http.StatusOK {
		return code, err
	}
	if ok.Count != len(events) {
		return code, fmt.Errorf("batch of %d answered with count %d", len(events), ok.Count)
	}
	c.book.mu.Lock()
	defer c.book.mu.Unlock()
	for _, e := range events {
		switch e.Type {
		case "hit":
			c.book.hits[e.Path]++
		case "click":
			c.book.clicks[adDate{e.AdID, dateOf(ok.TS)}]++
		default:
			c.book.impressions[adDate{e.AdID, dateOf(ok.TS)}]++
		}
	}
	return code, nil
}

// impression sends one GET /track/impression and books it when answered 200.
func (c *loadClient) impression(adID int64) (int, error) {
	return c.adEvent("impression", adID, "")
}

// click sends one GET /track/click and books it when answered 200.
func (c *loadClient) click(adID int64) (int, error) { return c.adEvent("click", adID, "") }

// impressionWithRetry sends one impression with the event_id made of n twice, as a browser that retries, and
// books it once when either answer was 200.
func (c *loadClient) impressionWithRetry(adID, n int64) (int, error) {
	id := fmt.Sprintf("%08x-0000-4000-8000-%012x", n>>48, n&0xffffffffffff)
	if code, err := c.adEvent("impression", adID, id); err != nil {
		return code, err
	}
	return c.adEvent("impression", adID, id)
}

// adEvent sends one GET /track/<typ> (with an event_id when id is not empty) and books it when answered 200
// (with an event_id: once per id, however often it was answered 200).
func (c *loadClient) adEvent(typ string, adID int64, id string) (int, error) {
	var ok struct {
		AdID int64 `json:"ad_id"`
		TS   int64 `json:"ts"`
	}
	target := fmt.Sprintf("/track/%s?ad_id=%d", typ, adID)
	if id != "" {
		target += "&event_id=" + id
	}
	code, err := c.do(http.MethodGet, target, nil, &ok)
	if err != nil || code != http.StatusOK {
		return code, err
	}
	if ok.AdID != adID {
		return code, fmt.Errorf("%s of ad %d answered for ad %d", typ, adID, ok.AdID)
	}
	c.book.mu.Lock()
	defer c.book.mu.Unlock()
	if id != "" {
		if c.book.ids == nil {
			c.book.ids = map[string]bool{}
		}
		if c.book.ids[id] {
			return code, nil
		}
		c.book.ids[id] = true
	}
	if typ == "click" {
		c.book.clicks[adDate{adID, dateOf(ok.TS)}]++
	} else {
		c.book.impressions[adDate{adID, dateOf(ok.TS)}]++
	}
	return code, nil
}

func (c *loadClient) do(method, target string, body []byte, ok any) (int, error) {
	req, err := http.NewRequest(method, c.base+target, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("User-Agent", testkit.BrowserUA) // counted as a visitor's, not as a tool's
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("the API itself stays up: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	c.book.mu.Lock()
	defer c.book.mu.Unlock()
	switch resp.StatusCode {
	case http.StatusOK:
		c.book.accepted++
		if err := json.Unmarshal(raw, ok); err != nil {
			return 0, fmt.Errorf("%s %s: %w: %s", method, target, err, raw)
		}
	case http.StatusServiceUnavailable:
		c.book.refused++
		var e struct {
			Status, Error string
		}
		if resp.Header.Get("Retry-After") != "1" || json.Unmarshal(raw, &e) != nil || e.Status != "error" || e.Error == "" {
			return 0, fmt.Errorf("%s %s: a 503 must say when to retry and why (Retry-After %q): %s", method, target, resp.Header.Get("Retry-After"), raw)
		}
	default:
		return 0, fmt.Errorf("%s %s: unexpected answer %d %s", method, target, resp.StatusCode, raw)
	}
	return resp.StatusCode, nil
}

func dateOf(ts int64) string { return time.Unix(ts, 0).UTC().Format(time.DateOnly) }

// A Redis that fills up to maxmemory (noeviction) recovers by itself, with nothing lost or doubled. The API
// (real binary) takes impressions and path hits until it answers 503; only then do an impression worker
// and a path syncer start. They must come up, count, trim and sync; the API must accept again by itself;
// and in the end every event answered 200 — and nothing else — is counted once in MariaDB.
//
// The API's memory guard stops it before Redis is full. When another client of the same Redis takes the last
// bytes anyway (and the API's receipts have expired, so nothing frees memory by chance), the worker and the
// syncer start on a Redis that refuses every denyoom write.
func TestFullRedisRecoversAndCountsExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a private Redis")
	}
	tests := []struct {
		name                string
		impressions, hits   int  // per batch
		anotherTakesTheRest bool // after the API stopped, another client writes until Redis refuses writes
	}{
		{"the guard leaves room", 100, 30, false},
		{"another client takes the last bytes", 100, 30, true},
		{"hits only, another client takes the last bytes", 0, 100, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fullRedisRecovers(t, tt.impressions, tt.hits, tt.anotherTakesTheRest)
		})
	}
}

func fullRedisRecovers(t *testing.T, impressions, hits int, anotherTakesTheRest bool) {
	rs := testkit.StartRedisServer(t, testkit.RedisServerOptions{MaxMemory: "20mb"})
	db, dbCfg := testkit.MariaDB(t)
	const prefix = "full:"
	common := append(rs.Env(), "REDIS_KEY_PREFIX="+prefix, "DB_NAME="+dbCfg.Name, "LOG_LEVEL=warn",
		"ADMIN_ADDR=127.0.0.1:0")
	httpAddr := testkit.FreeAddr(t)
	testkit.Spawn(t, testkit.Binary(t, "api"), append(common, "HTTP_ADDR="+httpAddr, "NEW_PATHS_PER_MINUTE=0", "REDIS_MEMORY_GUARD=0.85", "REDIS_MEMORY_GUARD_INTERVAL=50ms")...)
	book := newAnswered()
	c := &loadClient{base: "http://" + httpAddr, http: &http.Client{Timeout: 10 * time.Second}, book: book}
	testkit.WaitServing(t, c.base+"/", 15*time.Second)

	// 1. Fill: four clients until each has been refused 20 times in a row.
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for refusedInARow := 0; refusedInARow < 20; {
				var code int
				var err error
				if g == 0 && impressions > 0 {
					code, err = c.impression(int64(refusedInARow%7 + 100))
				} else {
					code, err = c.batch(impressions, hits)
				}
				if err != nil {
					t.Error(err)
					return
				}
				if code == http.StatusOK {
					refusedInARow = 0
				} else {
					refusedInARow++
				}
			}
		})
	}
	wg.Wait()
	require.False(t, t.Failed())
	rc := rs.Client()
	defer func() { _ = rc.Close() }()
	ctx := context.Background()
	used, maxmemory := memoryUse(t, rc)
	t.Logf("full: %d requests accepted, %d refused; redis: used_memory %d of maxmemory %d", book.accepted, book.refused, used, maxmemory)
	require.Positive(t, book.refused)
	require.Less(t, used, maxmemory, "the API stops accepting before Redis is full, leaving room to the components that free memory")
	if anotherTakesTheRest {
		require.Eventually(t, func() bool {
			keys, _, err := rc.Scan(ctx, 0, prefix+"adly:receipt:*", 1000).Result()
			return err == nil && len(keys) == 0
		}, 10*time.Second, 100*time.Millisecond, "the API's receipts expire")
		rs.Fill(rc, "another:", 512)
		t.Logf("another client took the rest; redis: %s", memory(t, rc))
	}

	// 2. Only now the worker and the syncer start, on the full Redis.
	testkit.Spawn(t, testkit.Binary(t, "impression-worker"), append(common, "BLOCK=200ms", "TRIM_INTERVAL=1s")...)
	testkit.Spawn(t, testkit.Binary(t, "path-syncer"), append(common, "SYNC_INTERVAL=300ms", "SYNC_LOCK_TTL=5s")...)
	names := keyspace.NewNames(prefix)
	if anotherTakesTheRest {
		// The other client goes on taking every byte that is freed, so nothing frees memory by chance: the
		// worker must still come up and consume everything, and the syncer move every counter, on a Redis
		// that refuses writes.
		stop := keepFull(t, rc, "another:more:")
		if impressions > 0 {
			require.Eventually(t, func() bool { return consumedAll(ctx, rc, prefix) }, 30*time.Second, 100*time.Millisecond,
				"the worker consumes everything while Redis stays full; %s", streamState(t, rc, prefix))
		} else {
			require.Eventually(t, func() bool { return syncedAll(ctx, rc, names) }, 30*time.Second, 100*time.Millisecond,
				"the syncer moves every hit counter to MariaDB while Redis stays full")
		}
		t.Logf("worked through a full Redis; redis: %s", memory(t, rc))
		stop()
		if impressions == 0 {
			// Hit counters are small: what the syncer frees is less than the other client took, and memory
			// held by someone else is not adly's to free. The other client lets go of it; from here on the
			// API must accept again by itself.
			for {
				keys, _, err := rc.Scan(ctx, 0, "another:*", 5000).Result()
				require.NoError(t, err)
				if len(keys) == 0 {
					break
				}
				require.NoError(t, rc.Del(ctx, keys...).Err())
			}
		}
	}

	// 3. The API accepts again by itself.
	deadline := time.Now().Add(60 * time.Second)
	for {
		code, err := c.impression(200)
		require.NoError(t, err)
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the API never accepted again within 60s; redis: %s; %s", memory(t, rc), streamState(t, rc, prefix))
		}
		time.Sleep(200 * time.Millisecond) // a poll with its own deadline, which reports Redis's state
	}
	t.Logf("accepting again; redis: %s", memory(t, rc))
	for range 20 {
		for {
			code, err := c.batch(3*impressions, 50)
			require.NoError(t, err)
			if code == http.StatusOK {
				break
			}
			time.Sleep(200 * time.Millisecond) // near the guard a request may still be refused: retry it
		}
	}

	// 4. Everything drains: the group delivered and acknowledged every entry, no hit counter or staged
	// chunk is left in Redis.
	require.Eventually(t, func() bool { return consumedAll(ctx, rc, prefix) }, 60*time.Second, 100*time.Millisecond, "the worker consumed everything; %s", streamState(t, rc, prefix))
	require.Eventually(t, func() bool { return syncedAll(ctx, rc, names) }, 60*time.Second, 100*time.Millisecond, "the syncer moved every hit counter to MariaDB")

	// 5. Exactly what was answered 200.
	gotImpressions := map[adDate]int64{}
	rows, err := db.QueryContext(ctx, "SELECT ad_id, DATE_FORMAT(date, '%Y-%m-%d'), impressions FROM ad_daily_impressions")
	require.NoError(t, err)
	for rows.Next() {
		var k adDate
		var n int64
		require.NoError(t, rows.Scan(&k.ad, &k.date, &n))
		gotImpressions[k] = n
	}
	require.NoError(t, rows.Err())
	require.Equal(t, book.impressions, gotImpressions, "ad_daily_impressions holds exactly the impressions answered 200")
	gotHits := map[string]int64{}
	rows, err = db.QueryContext(ctx, "SELECT path, hit_count FROM path_counters")
	require.NoError(t, err)
	for rows.Next() {
		var p string
		var n int64
		require.NoError(t, rows.Scan(&p, &n))
		gotHits[p] = n
	}
	require.NoError(t, rows.Err())
	require.Equal(t, len(book.hits), len(gotHits), "path_counters holds exactly the paths answered 200")
	require.Equal(t, book.hits, gotHits)
	t.Logf("%d requests accepted, %d refused; %d (ad_id, date) keys and %d paths counted exactly; redis: %s",
		book.accepted, book.refused, len(gotImpressions), len(gotHits), memory(t, rc))
}

// consumedAll reports whether the impression group delivered and acknowledged every entry ever added.
func consumedAll(ctx context.Context, c *redis.Client, prefix string) bool {
	stream := keyspace.NewNames(prefix).ImpressionsStream()
	info, err := c.XInfoStream(ctx, stream).Result()
	if err != nil {
		return false
	}
	groups, err := c.XInfoGroups(ctx, stream).Result()
	return err == nil && len(groups) == 1 && groups[0].Pending == 0 && groups[0].LastDeliveredID == info.LastGeneratedID
}

// syncedAll reports whether no hit counter and no staged sync chunk is left in Redis.
func syncedAll(ctx context.Context, c *redis.Client, names keyspace.Names) bool {
	keys, err := c.Keys(ctx, names.HitKeyPattern()).Result()
	pending, perr := c.SCard(ctx, names.SyncPending()).Result()
	return err == nil && perr == nil && len(keys) == 0 && pending == 0
}

// keepFull writes small strings under prefix, as fast as Redis takes them, until the returned stop is called.
func keepFull(t *testing.T, c *redis.Client, prefix string) (stop func()) {
	t.Helper()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			if err := c.Set(context.Background(), prefix+strconv.Itoa(i), "x", 0).Err(); err != nil {
				if !redis.HasErrorPrefix(err, "OOM") {
					t.Errorf("keeping redis full: %v", err)
					return
				}
				time.Sleep(time.Millisecond) // refused: try again soon, to take every byte that is freed
			}
		}
	})
	var once sync.Once
	stop = func() { once.Do(func() { close(done); wg.Wait() }) }
	t.Cleanup(stop)
	return stop
}

func memory(t *testing.T, c *redis.Client) string {
	t.Helper()
	info, err := c.Info(context.Background(), "memory").Result()
	if err != nil {
		return err.Error()
	}
	var out []string
	for _, line := range strings.Split(info, "\r\n") {
		if strings.HasPrefix(line, "used_memory:") || strings.HasPrefix(line, "maxmemory:") {
			out = append(out, line)
		}
	}
	return strings.Join(out, " ")
}

func memoryUse(t *testing.T, c *redis.Client) (used, maxmemory int64) {
	t.Helper()
	info, err := c.Info(context.Background(), "memory").Result()
	require.NoError(t, err)
	for _, line := range strings.Split(info, "\r\n") {
		k, v, _ := strings.Cut(line, ":")
		switch k {
		case "used_memory":
			used, err = strconv.ParseInt(v, 10, 64)
		case "maxmemory":
			maxmemory, err = strconv.ParseInt(v, 10, 64)
		}
		require.NoError(t, err)
	}
	require.Positive(t, maxmemory)
	return used, maxmemory
}

func streamState(t *testing.T, c *redis.Client, prefix string) string {
	t.Helper()
	ctx := context.Background()
	stream := keyspace.NewNames(prefix).ImpressionsStream()
	n, err := c.XLen(ctx, stream).Result()
	groups, gerr := c.XInfoGroups(ctx, stream).Result()
	return fmt.Sprintf("stream length %d (%v), groups %+v (%v)", n, err, groups, gerr)
}
