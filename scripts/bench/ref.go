package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"adly/pkg/config"
	"adly/pkg/redisconn"
)

const (
	refStream   = "ref_stream" // under the run's key prefix
	refQueue    = 4096         // requests waiting for the flusher
	refMaxFlush = 1024         // XADDs per pipeline at most
)

// refEnv is what the reference server reads: the Redis the API writes to.
type refEnv struct {
	config.Redis
}

func (e *refEnv) Validate() error { return checkRedis(e.Redis) }

// refWrite is one request waiting for Redis to confirm its XADD.
type refWrite struct{ done chan error }

// serveRef is the confirmed-write reference of mode api: the least a server can do to answer only once Redis
// has stored the event. Each request hands one XADD <prefix>ref_stream * ad_id 123 ts <now> to one greedy
// flusher goroutine, which takes every request queued, sends their XADDs in one pipeline and wakes each when
// Redis answered; the request then answers 204 (503 if Redis failed). No validation, no receipt, no metrics:
// what the API costs beyond this is what its own features cost. It exits 0 when ctx ends (SIGTERM).
func serveRef(ctx context.Context, addr, prefix string) int {
	var e refEnv
	if err := config.Load(&e); err != nil {
		fmt.Fprintf(os.Stderr, "ref: %v\n", err)
		return 2
	}
	client := redisconn.NewClient(e.Redis, redisconn.ClientOptions{NoRetries: true})
	defer func() { _ = client.Close() }()
	queue := make(chan *refWrite, refQueue)
	go flushRef(ctx, client, prefix+refStream, queue)
	srv := &http.Server{Addr: addr, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		req := &refWrite{done: make(chan error, 1)}
		queue <- req
		if err := <-req.done; err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(os.Stderr, "ref: %v\n", err)
		return 1
	}
	return 0
}

// flushRef is the reference's one writer: it blocks for a first request, takes whatever else is queued
// without waiting, and sends them as one pipeline. Requests that arrive meanwhile form the next pipeline.
func flushRef(ctx context.Context, client redis.UniversalClient, stream string, queue <-chan *refWrite) {
	batch := make([]*refWrite, 0, refMaxFlush)
	cmds := make([]*redis.StringCmd, 0, refMaxFlush)
	wctx := context.WithoutCancel(ctx) // requests in hand at shutdown are still answered
	for {
		select {
		case <-ctx.Done():
			return
		case req := <-queue:
			batch = append(batch[:0], req)
		}
	drain:
		for len(batch) < refMaxFlush {
			select {
			case req := <-queue:
				batch = append(batch, req)
			default:
				break drain
			}
		}
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		pipe := client.Pipeline()
		cmds = cmds[:0]
		for range batch {
			cmds = append(cmds, pipe.XAdd(wctx, &redis.XAddArgs{Stream: stream, Values: []any{"ad_id", "123", "ts", ts}}))
		}
		_, _ = pipe.Exec(wctx)
		for i, req := range batch {
			req.done <- cmds[i].Err()
		}
	}
}
