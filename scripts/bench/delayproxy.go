package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// delayProxy forwards TCP connections from a loopback port to a server, holding every chunk the client sends
// for delay before passing it on: each request of a request–response protocol (MariaDB's) then waits one
// delay, the round trip to a database in another zone or region. Answers pass at once. A chunk is held from
// the moment it was read, so requests pipelined on one connection are not delayed one after another.
type delayProxy struct {
	ln     net.Listener
	target string
	delay  time.Duration
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
}

// startDelayProxy listens on 127.0.0.1 (a free port) and forwards to target until close.
func startDelayProxy(target string, delay time.Duration) (*delayProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("delay proxy: %w", err)
	}
	p := &delayProxy{ln: ln, target: target, delay: delay, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Port is the port the proxy listens on.
func (p *delayProxy) Port() int { return p.ln.Addr().(*net.TCPAddr).Port }

func (p *delayProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.track(c, s)
		p.wg.Add(2)
		go func() { defer p.wg.Done(); p.forward(s, c) }()
		go func() {
			defer p.wg.Done()
			_, _ = io.Copy(c, s)
			_ = c.Close()
			_ = s.Close()
			p.untrack(c, s)
		}()
	}
}

func (p *delayProxy) track(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
}

func (p *delayProxy) untrack(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		delete(p.conns, c)
	}
}

type heldChunk struct {
	data []byte
	at   time.Time
}

// forward copies from client to server, each chunk no sooner than delay after it was read.
func (p *delayProxy) forward(server, client net.Conn) {
	defer func() { _ = server.Close(); _ = client.Close() }()
	chunks := make(chan heldChunk, 1024)
	go func() {
		defer close(chunks)
		for {
			buf := make([]byte, 32<<10)
			n, err := client.Read(buf)
			if n > 0 {
				chunks <- heldChunk{data: buf[:n], at: time.Now()}
			}
			if err != nil {
				return
			}
		}
	}()
	for ch := range chunks {
		time.Sleep(time.Until(ch.at.Add(p.delay)))
		if _, err := server.Write(ch.data); err != nil {
			return
		}
	}
}

// close stops listening and closes every connection.
func (p *delayProxy) close() error {
	err := p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// measureRoundTrip is the median time of n "SELECT 1" round trips through the proxy, in the run's report.
func measureRoundTrip(ctx context.Context, ping func(context.Context) error, n int) (time.Duration, error) {
	ds := make([]float64, 0, n)
	for range n {
		start := time.Now()
		if err := ping(ctx); err != nil {
			return 0, err
		}
		ds = append(ds, float64(time.Since(start)))
	}
	return time.Duration(median(ds)), nil
}
