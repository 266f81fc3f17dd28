// Package tcplink is a TCP link for tests that a test cuts and restores: a client cut off from a
// server (an object store, NATS) without either of them knowing, and back.
//
// While cut, the link closes every connection it carries at the next bytes that pass and refuses
// new ones, so the client sees its requests fail; restored, new connections pass again. It
// listens on 127.0.0.1 only.
package tcplink

import (
	"net"
	"sync"
	"testing"
)

// Link forwards connections to one target. Its methods are safe for concurrent use.
type Link struct {
	mu  sync.Mutex
	cut bool
}

// New listens on 127.0.0.1 and forwards each connection to target (HOST:PORT) until the test
// ends; it returns the link and the address to dial instead of target.
func New(t testing.TB, target string) (*Link, string) {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	l := &Link{}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if l.IsCut() {
				c.Close()
				continue
			}
			s, err := net.Dial("tcp4", target)
			if err != nil {
				c.Close()
				continue
			}
			go l.pipe(c, s)
			go l.pipe(s, c)
		}
	}()
	return l, ln.Addr().String()
}

// SetCut cuts the link (true) or restores it (false).
func (l *Link) SetCut(cut bool) { l.mu.Lock(); l.cut = cut; l.mu.Unlock() }

// IsCut says whether the link is cut.
func (l *Link) IsCut() bool { l.mu.Lock(); defer l.mu.Unlock(); return l.cut }

// pipe copies from to to; once the link is cut it drops what it read and closes both.
func (l *Link) pipe(from, to net.Conn) {
	defer from.Close()
	defer to.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := from.Read(buf)
		if l.IsCut() {
			return
		}
		if n > 0 {
			if _, werr := to.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
