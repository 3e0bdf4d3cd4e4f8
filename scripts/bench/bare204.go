package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"
)

// serveBare204 is the ceiling of mode api: a Go HTTP server whose only handler answers 204, so wrk measures
// what HTTP alone costs on the machine. It runs as a process of its own, as the API does, and exits 0 when
// ctx ends (SIGTERM).
func serveBare204(ctx context.Context, addr string) int {
	if addr == "" {
		addr = "127.0.0.1:18204"
	}
	srv := &http.Server{Addr: addr, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(os.Stderr, "bare204: %v\n", err)
		return 1
	}
	return 0
}
