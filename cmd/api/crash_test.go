package main

import (
	"adly/pkg/testkit"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// What the API answered for one impression, each with its own ad_id.
type answer struct {
	status   int
	streamID string
	err      string
}

// Redis is killed with SIGKILL three times while 16 clients send impressions, and restarted from its
// append-only file. Afterwards every impression the API answered 200 for is in the stream once, under the ID
// it was given; every one answered with a plain error is not there; only an answer that says the write was
// not confirmed may go either way. Nothing else is in the stream.
func TestAnswersStayTruthfulWhenRedisIsKilled(t *testing.T) {
	rs := testkit.StartRedisServer(t, testkit.RedisServerOptions{AOF: true})
	bin := testkit.Binary(t, "api")
	httpAddr, adminAddr := testkit.FreeAddr(t), testkit.FreeAddr(t)
	testkit.Start(t, testkit.Command(bin, append(rs.Env(), "HTTP_ADDR="+httpAddr, "ADMIN_ADDR="+adminAddr,
		"REDIS_KEY_PREFIX=crash:", "LOG_LEVEL=error")))
	testkit.WaitReady(t, adminAddr, 10*time.Second)

	var (
		mu       sync.Mutex
		answers  = map[int64]answer{}
		next     atomic.Int64
		accepted atomic.Int64 // answers 200
		stop     = make(chan struct{})
		clients  sync.WaitGroup
	)
	httpc := &http.Client{Timeout: 5 * time.Second}
	for range 16 {
		clients.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				id := next.Add(1)
				a := answer{}
				resp, err := httpc.Get(fmt.Sprintf("http://%s/track/impression?ad_id=%d", httpAddr, id))
				if err != nil {
					a.err = err.Error() // the API itself stays up, so this is not expected
				} else {
					var body struct {
						StreamID string `json:"stream_id"`
						Error    string `json:"error"`
					}
					_ = json.NewDecoder(resp.Body).Decode(&body)
					_ = resp.Body.Close()
					a = answer{status: resp.StatusCode, streamID: body.StreamID, err: body.Error}
				}
				mu.Lock()
				answers[id] = a
				mu.Unlock()
				if a.status == http.StatusOK {
					accepted.Add(1)
				}
			}
		})
	}
	for range 3 {
		time.Sleep(time.Duration(400+rand.IntN(600)) * time.Millisecond) // random moments to kill at, not gates
		rs.Kill()
		time.Sleep(time.Duration(100+rand.IntN(300)) * time.Millisecond) // Redis stays down a while
		rs.Start()
	}
	after := accepted.Load()
	testkit.Wait(t, 30*time.Second, func() bool { return accepted.Load() >= after+100 }, "writes flow again")
	close(stop)
	clients.Wait()

	c := rs.Client()
	defer c.Close()
	entries, err := c.XRange(context.Background(), "crash:impressions_stream", "-", "+").Result()
	require.NoError(t, err)
	stored := map[int64]string{}
	for _, e := range entries {
		id, err := strconv.ParseInt(fmt.Sprint(e.Values["ad_id"]), 10, 64)
		require.NoError(t, err)
		if _, dup := stored[id]; dup {
			t.Fatalf("ad_id %d stored twice", id)
		}
		stored[id] = e.ID
	}

	var ok, refused, unconfirmed int
	for id, a := range answers {
		switch {
		case a.status == http.StatusOK:
			ok++
			if stored[id] != a.streamID {
				t.Fatalf("ad_id %d was answered 200 with ID %s, but the stream holds %q", id, a.streamID, stored[id])
			}
		case a.status == http.StatusServiceUnavailable && strings.Contains(a.err, "did not confirm"):
			unconfirmed++ // either way
		case a.status == http.StatusServiceUnavailable:
			refused++
			if _, ok := stored[id]; ok {
				t.Fatalf("ad_id %d was answered 503 (%s) but is stored", id, a.err)
			}
		default:
			t.Fatalf("ad_id %d: unexpected answer %+v", id, a)
		}
	}
	for id := range stored {
		if _, ok := answers[id]; !ok {
			t.Fatalf("ad_id %d is stored but was never sent", id)
		}
	}
	t.Logf("%d requests: %d stored (200), %d refused (503), %d unconfirmed; %d entries in the stream",
		len(answers), ok, refused, unconfirmed, len(entries))
	require.Positive(t, ok)
	require.Positive(t, refused, "the kills must have refused some requests")
	require.Less(t, unconfirmed, 16*3+1, "at most the requests in flight at each kill")
}
