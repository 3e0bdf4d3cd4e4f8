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

// Proxy forwards TCP connections to a real server (Redis or MariaDB). SetDelay holds every chunk the client
// sends for a while (a slow or paused server, from the client's point of view); SetDown cuts every connection
// and refuses new ones (server gone); CutReplies cuts connections when the server answers, so a command runs
// but its reply never arrives (the server or the network failing right after a write). Settle waits until
// every held chunk has reached the server and been answered, so a test can look at what a late write did
// without sleeping.
type Proxy struct {
	addr    string
	target  string
	delay   atomic.Int64
	down    atomic.Bool
	cut     atomic.Int64
	held    atomic.Int64  // delayed chunks not yet answered by the server (nor their connection closed)
	stop    chan struct{} // closed when the test ends: held chunks are dropped
	mu      sync.Mutex    // guards ln, stopped, conns, pattern and watches
	pattern []byte
	watches []*watch
	ln      net.Listener
	stopped bool
	conns   map[net.Conn]struct{}
}

// watch counts a pattern in what clients send.
type watch struct {
	pattern []byte
	n       atomic.Int64
}

// link is one client connection and its connection to the server.
type link struct {
	client, server net.Conn
	awaiting       atomic.Int64 // held chunks sent to the server on this link and not yet answered
}

// NewProxy starts a proxy to target on a loopback port; it stops when the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &Proxy{ln: ln, addr: ln.Addr().String(), target: target, conns: map[net.Conn]struct{}{},
		stop: make(chan struct{})}
	go p.accept(ln)
	t.Cleanup(func() {
		p.mu.Lock()
		p.stopped = true
		close(p.stop)
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

// Settle waits until every chunk the proxy held (SetDelay) has been written to the server and answered by
// it, or its connection closed, failing the test after timeout. Once it returns, a held write has run (or
// been refused) and other clients see its outcome.
func (p *Proxy) Settle(t testing.TB, timeout time.Duration) {
	t.Helper()
	Wait(t, timeout, func() bool { return p.held.Load() == 0 }, "the proxy's held writes reach %s and are answered", p.target)
}

// Watch counts, from now on, how often pattern (a key name) occurs in what clients send, so a test can wait
// until its requests have reached the server's door; the returned func reads the count. Loopback clients
// write a command at once, so a key is not split across two reads in practice.
func (p *Proxy) Watch(pattern string) func() int64 {
	w := &watch{pattern: []byte(pattern)}
	p.mu.Lock()
	p.watches = append(p.watches, w)
	p.mu.Unlock()
	return w.n.Load
}

func (p *Proxy) count(chunk []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, w := range p.watches {
		w.n.Add(int64(bytes.Count(chunk, w.pattern)))
	}
}

// Held is the number of chunks held by the proxy or sent to the server and not yet answered.
func (p *Proxy) Held() int64 { return p.held.Load() }

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
		l := &link{client: c, server: up}
		go p.requests(l)
		go p.replies(l)
	}
}

// settle forgets the link's held chunks: they were answered, or will never be.
func (p *Proxy) settle(l *link) { p.held.Add(-l.awaiting.Swap(0)) }

// requests forwards what the client sends, holding it for the delay. When the client goes away while a held
// chunk awaits its answer, only the server's write side is closed, so that replies sees the answer (or the
// server closing) and Settle knows the chunk ran.
func (p *Proxy) requests(l *link) {
	buf := make([]byte, 32<<10)
	for {
		n, err := l.client.Read(buf)
		if n > 0 {
			p.count(buf[:n])
			d := p.delayFor(buf[:n])
			if d > 0 {
				p.held.Add(1)
				select {
				case <-time.After(d):
				case <-p.stop:
				}
			}
			_, werr := l.server.Write(buf[:n])
			if d > 0 && werr == nil {
				l.awaiting.Add(1) // sent: replies settles it when the server answers
			} else if d > 0 {
				p.held.Add(-1)
			}
			if werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	if tcp, ok := l.server.(*net.TCPConn); ok && l.awaiting.Load() > 0 {
		_ = tcp.CloseWrite()
		_ = l.client.Close()
		return
	}
	_ = l.server.Close()
	_ = l.client.Close()
}

// replies forwards what the server answers, or cuts the link instead (CutReplies).
func (p *Proxy) replies(l *link) {
	defer func() { p.settle(l); _ = l.server.Close(); _ = l.client.Close() }()
	buf := make([]byte, 32<<10)
	for {
		n, err := l.server.Read(buf)
		if n > 0 {
			p.settle(l)
			if p.cut.Load() > 0 && p.cut.Add(-1) >= 0 {
				return // a reply: drop it and close both sides
			}
			if _, werr := l.client.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
