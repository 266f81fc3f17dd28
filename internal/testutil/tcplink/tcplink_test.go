package tcplink

import (
	"bufio"
	"net"
	"testing"
	"time"
)

// echo serves lines back on 127.0.0.1 until the test ends.
func echo(t *testing.T) string {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					c.Write([]byte(line))
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// roundTrip sends a line on c and says whether it came back.
func roundTrip(c net.Conn) bool {
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && line == "ping\n"
}

func TestCutAndRestore(t *testing.T) {
	l, addr := New(t, echo(t))
	c, err := net.Dial("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !roundTrip(c) {
		t.Fatal("no echo through the link")
	}
	l.SetCut(true)
	if roundTrip(c) {
		t.Error("an open connection still carries bytes after the cut")
	}
	if c2, err := net.Dial("tcp4", addr); err == nil {
		if roundTrip(c2) {
			t.Error("a new connection carries bytes while the link is cut")
		}
		c2.Close()
	}
	l.SetCut(false)
	c3, err := net.Dial("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()
	if !roundTrip(c3) {
		t.Error("no echo through the restored link")
	}
}
