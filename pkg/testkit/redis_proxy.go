package testkit

import (
	"bytes"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Proxy forwards TCP connections to a real Redis. SetDelay holds every chunk the client sends for a while
// (a slow or paused Redis, from the client's point of view); SetDown cuts every connection and refuses new
// ones (Redis gone); CutReplies cuts connections when Redis answers, so a command runs but its reply never
// arrives (Redis or the network failing right after a write).
type Proxy struct {
	addr    string
	target  string
	delay   atomic.Int64
	down    atomic.Bool
	cut     atomic.Int64
	mu      sync.Mutex // guards ln, stopped, conns and pattern
	pattern []byte
	ln      net.Listener
	stopped bool
	conns   map[net.Conn]struct{}
}

// NewProxy starts a proxy to target on a loopback port; it stops when the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &Proxy{ln: ln, addr: ln.Addr().String(), target: target, conns: map[net.Conn]struct{}{}}
	go p.accept(ln)
	t.Cleanup(func() {
		p.mu.Lock()
		p.stopped = true
		_ = p.ln.Close()
		p.mu.Unlock()
		p.closeAll()
	})
	return p
}

// Addr is where clients connect.
func (p *Proxy) Addr() string { return p.addr }

// Port is the proxy's port.
func (p *Proxy) Port() int {
	_, port, _ := net.SplitHostPort(p.addr)
	n, _ := strconv.Atoi(port)
	return n
}

// SetDelay delays what clients send to Redis by d (0: none).
func (p *Proxy) SetDelay(d time.Duration) { p.SetDelayMatching("", d) }

// SetDelayMatching delays by d only what clients send that contains pattern (a key name): other commands go
// through at once, as when one write is stuck in the network while Redis itself is fine.
func (p *Proxy) SetDelayMatching(pattern string, d time.Duration) {
	p.mu.Lock()
	p.pattern = []byte(pattern)
	p.mu.Unlock()
	p.delay.Store(int64(d))
}

func (p *Proxy) delayFor(chunk []byte) time.Duration {
	d := time.Duration(p.delay.Load())
	if d == 0 {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.pattern) > 0 && !bytes.Contains(chunk, p.pattern) {
		return 0
	}
	return d
}

// SetDown cuts all connections and, while down, stops listening, so connecting fails at once (connection
// refused), as with a stopped Redis. Up again, it listens on the same address.
func (p *Proxy) SetDown(down bool) {
	if p.down.Swap(down) == down {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	if down {
		_ = p.ln.Close()
		for c := range p.conns {
			_ = c.Close()
		}
		clear(p.conns)
		return
	}
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		panic(fmt.Sprintf("proxy: listen again on %s: %v", p.addr, err))
	}
	p.ln = ln
	go p.accept(ln)
}

// CutReplies makes the proxy close the connection instead of forwarding the next n replies from Redis
// (0: forward them all again).
func (p *Proxy) CutReplies(n int64) { p.cut.Store(n) }

func (p *Proxy) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}

func (p *Proxy) track(c net.Conn) {
	p.mu.Lock()
	p.conns[c] = struct{}{}
	p.mu.Unlock()
}

func (p *Proxy) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		if p.down.Load() { // accepted just before the listener closed
			_ = c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.track(c)
		p.track(up)
		go p.pipe(up, c, true)
		go p.pipe(c, up, false)
	}
}

func (p *Proxy) pipe(dst, src net.Conn, delayed bool) {
	defer func() { _ = dst.Close(); _ = src.Close() }()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !delayed && p.cut.Load() > 0 && p.cut.Add(-1) >= 0 {
			return // a reply: drop it and close both sides
		}
		if n > 0 {
			if d := p.delayFor(buf[:n]); delayed && d > 0 {
				time.Sleep(d)
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
