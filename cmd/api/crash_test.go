package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"adly/pkg/proctest"
)

// privateRedis runs a redis-server of its own on a free port, with an append-only file fsynced before every
// reply (appendfsync always), so that what it acknowledged survives a SIGKILL and nothing else decides what
// a restart finds.
type privateRedis struct {
	t    *testing.T
	bin  string
	dir  string
	port int
	cmd  *exec.Cmd
}

func startPrivateRedis(t *testing.T) *privateRedis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	require.NoError(t, err, "this test runs a redis-server of its own (Debian package redis-server)")
	_, port, _ := net.SplitHostPort(proctest.FreeAddr(t))
	r := &privateRedis{t: t, bin: bin, dir: t.TempDir()}
	r.port, _ = strconv.Atoi(port)
	r.start()
	t.Cleanup(func() {
		if r.cmd != nil {
			_ = r.cmd.Process.Kill()
			_ = r.cmd.Wait()
		}
	})
	return r
}

func (r *privateRedis) start() {
	r.t.Helper()
	r.cmd = exec.Command(r.bin, "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--dir", r.dir,
		"--appendonly", "yes", "--appendfsync", "always", "--save", "", "--maxmemory-policy", "noeviction")
	r.cmd.Stdout, r.cmd.Stderr = io.Discard, io.Discard
	require.NoError(r.t, r.cmd.Start())
	c := r.client()
	defer c.Close()
	require.Eventually(r.t, func() bool { return c.Ping(context.Background()).Err() == nil },
		10*time.Second, 20*time.Millisecond, "redis-server starts")
}

func (r *privateRedis) kill() {
	r.t.Helper()
	require.NoError(r.t, r.cmd.Process.Signal(os.Kill))
	_ = r.cmd.Wait()
	r.cmd = nil
}

func (r *privateRedis) client() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(r.port), MaxRetries: -1})
}

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
	rs := startPrivateRedis(t)
	bin := proctest.Binary(t, "api")
	httpAddr, adminAddr := proctest.FreeAddr(t), proctest.FreeAddr(t)
	api := exec.Command(bin)
	api.Env = append(os.Environ(), "HTTP_ADDR="+httpAddr, "ADMIN_ADDR="+adminAddr, "REDIS_HOST=127.0.0.1",
		"REDIS_PORT="+strconv.Itoa(rs.port), "REDIS_KEY_PREFIX=crash:", "LOG_LEVEL=error")
	api.Stdout, api.Stderr = io.Discard, io.Discard
	require.NoError(t, api.Start())
	t.Cleanup(func() { _ = api.Process.Kill(); _ = api.Wait() })
	proctest.WaitReady(t, adminAddr, 10*time.Second)

	var (
		mu      sync.Mutex
		answers = map[int64]answer{}
		next    atomic.Int64
		stop    = make(chan struct{})
		clients sync.WaitGroup
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
			}
		})
	}
	for range 3 {
		time.Sleep(time.Duration(400+rand.IntN(600)) * time.Millisecond)
		rs.kill()
		time.Sleep(time.Duration(100+rand.IntN(300)) * time.Millisecond)
		rs.start()
	}
	time.Sleep(1500 * time.Millisecond) // writes flow again
	close(stop)
	clients.Wait()

	c := rs.client()
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
