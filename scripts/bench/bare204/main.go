// Command bare204 is the benchmark's ceiling: a Go HTTP server whose only handler answers 204, so wrk
// measures what HTTP alone costs on the machine. It is never deployed.
package main

import (
	"log"
	"net/http"
	"os"
)

func main() {
	addr := "127.0.0.1:18204"
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	log.Fatal(http.ListenAndServe(addr, h))
}
