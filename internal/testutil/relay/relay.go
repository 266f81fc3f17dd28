// Package relay is a UDP relay for tests: it sits between clients and one server and loses,
// reorders, duplicates and delays packets on purpose (the kernel here has no netem). Every client
// address gets its own upstream socket, as behind a NAT, so the server sees the relay as the peer
// and WebRTC's ICE connects through it with peer-reflexive candidates. The faults are drawn from
// seeded random streams (one per client and direction): the same packets give the same faults.
package relay

import (
	"container/heap"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Direction says which way faults apply.
type Direction int

const (
	Both     Direction = iota // client → server and server → client
	ToServer                  // client → server only
	ToClient                  // server → client only (what a recorder receives)
)

// reorderHold is how long a packet held back for reordering waits for a later one; when none comes
// it is sent anyway (and not counted as reordered).
const reorderHold = 50 * time.Millisecond

// Faults describes what the relay does to each packet. The zero value forwards everything at once.
type Faults struct {
	Loss      float64       // probability a packet is dropped
	Reorder   float64       // probability a packet is held back and sent right after the next one
	Duplicate float64       // probability a packet is sent twice
	Delay     time.Duration // added to every packet's trip
	// Jitter adds a delay drawn uniformly from [0, Jitter) to each packet; packets closer together
	// than the spread overtake each other, as on a real network.
	Jitter    time.Duration
	Direction Direction // which way the faults apply (zero: both)
	Seed      int64     // seeds the random streams; changing it in SetFaults restarts them
}

func (f Faults) validate() error {
	for _, p := range []struct {
		name string
		v    float64
	}{{"Loss", f.Loss}, {"Reorder", f.Reorder}, {"Duplicate", f.Duplicate}} {
		if !(p.v >= 0 && p.v <= 1) {
			return fmt.Errorf("relay: Faults.%s %v is not a probability (use 0 to 1)", p.name, p.v)
		}
	}
	if f.Delay < 0 || f.Jitter < 0 {
		return fmt.Errorf("relay: Faults.Delay %v and Jitter %v must not be negative", f.Delay, f.Jitter)
	}
	if f.Direction < Both || f.Direction > ToClient {
		return fmt.Errorf("relay: Faults.Direction %d is not Both, ToServer or ToClient", f.Direction)
	}
	return nil
}

func (f *Faults) applies(dir int) bool {
	return f.Direction == Both || int(f.Direction) == dir+1
}

// Counters count one direction's packets.
type Counters struct {
	In         uint64 // received
	Out        uint64 // sent, duplicates included
	Lost       uint64 // dropped on purpose
	Reordered  uint64 // sent after a packet that arrived later
	Duplicated uint64 // extra copies sent
	Errors     uint64 // sends that failed (the peer gone, the relay closed)
}

// Stats is a snapshot of the relay's counters.
type Stats struct {
	ToServer, ToClient Counters
	Flows              int // client addresses seen
}

// the two directions, as indexes
const (
	up   = 0 // client → server
	down = 1 // server → client
)

type counters struct {
	in, out, lost, reordered, duplicated, errors atomic.Uint64
}

func (c *counters) snapshot() Counters {
	return Counters{c.in.Load(), c.out.Load(), c.lost.Load(), c.reordered.Load(), c.duplicated.Load(), c.errors.Load()}
}

// Relay forwards UDP between clients and one upstream address. Its methods are safe for concurrent use.
type Relay struct {
	ln       *net.UDPConn
	upstream *net.UDPAddr
	faults   atomic.Pointer[Faults]
	counts   [2]counters
	sched    scheduler
	trace    atomic.Pointer[func(sent)] // set only by this package's tests

	mu     sync.Mutex
	flows  map[netip.AddrPort]*flow
	closed bool

	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

type flow struct {
	client netip.AddrPort
	up     *net.UDPConn
	dirs   [2]dirState
}

// dirState is one direction of one flow. Its reader goroutine and the hold timer share it.
type dirState struct {
	mu   sync.Mutex
	idx  uint64 // stream number: 2×flow index + direction
	rng  *rand.Rand
	seed int64
	held *heldPacket
	send func([]byte) error
}

type heldPacket struct {
	pkt   []byte
	delay time.Duration
	dup   bool
	timer *time.Timer
}

// sent is one copy of a packet the relay sent, as told to Relay.trace: what the relay decided for
// it (delay, due) beside what the machine made of it (out, usually a little after due).
type sent struct {
	pkt   []byte
	delay time.Duration // the delay drawn for it (Faults.Delay + its share of Faults.Jitter)
	due   time.Time     // when it was due out: delay after the relay read it, or after a hold ended
	out   time.Time     // when the write to the socket returned
}

// New listens on listenAddr (e.g. "127.0.0.1:0") and relays to upstreamAddr with the given faults.
func New(listenAddr, upstreamAddr string, f Faults) (*Relay, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	la, err := net.ResolveUDPAddr("udp", listenAddr)
	if err != nil {
		return nil, fmt.Errorf("relay: listen address %q: %w (use IP:PORT)", listenAddr, err)
	}
	if _, err := upstream(upstreamAddr); err != nil {
		return nil, err
	}
	ln, err := net.ListenUDP("udp", la)
	if err != nil {
		return nil, fmt.Errorf("relay: listen on %s: %w", listenAddr, err)
	}
	r, err := NewConn(ln, upstreamAddr, f)
	if err != nil {
		return nil, errors.Join(err, ln.Close())
	}
	return r, nil
}

// NewConn relays what arrives on ln (which it then owns) to upstreamAddr: for a socket made
// elsewhere, such as in a test's client network namespace (netns.NS.InClient), while the upstream
// sockets are made in the calling process's namespace.
func NewConn(ln *net.UDPConn, upstreamAddr string, f Faults) (*Relay, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	ua, err := upstream(upstreamAddr)
	if err != nil {
		return nil, err
	}
	ln.SetReadBuffer(1 << 20)
	ln.SetWriteBuffer(1 << 20)
	r := &Relay{ln: ln, upstream: ua, flows: map[netip.AddrPort]*flow{}}
	r.faults.Store(&f)
	r.sched.start()
	r.wg.Add(1)
	go r.readClients()
	return r, nil
}

func upstream(addr string) (*net.UDPAddr, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("relay: upstream address %q: %w (use IP:PORT)", addr, err)
	}
	if ua.Port == 0 || ua.IP == nil || ua.IP.IsUnspecified() {
		return nil, fmt.Errorf("relay: upstream address %q names no host and port to send to (use IP:PORT)", addr)
	}
	return ua, nil
}

// Addr is where clients send to.
func (r *Relay) Addr() *net.UDPAddr { return r.ln.LocalAddr().(*net.UDPAddr) }

// SetFaults changes the faults for packets from now on. A packet held back for reordering is
// still released by the next one.
func (r *Relay) SetFaults(f Faults) error {
	if err := f.validate(); err != nil {
		return err
	}
	r.faults.Store(&f)
	return nil
}

// Stats returns the counters so far.
func (r *Relay) Stats() Stats {
	r.mu.Lock()
	n := len(r.flows)
	r.mu.Unlock()
	return Stats{ToServer: r.counts[up].snapshot(), ToClient: r.counts[down].snapshot(), Flows: n}
}

// Close stops relaying and closes every socket. Packets still delayed are dropped. It may be
// called more than once.
func (r *Relay) Close() error {
	r.closeOnce.Do(func() {
		r.mu.Lock()
		r.closed = true
		errs := []error{r.ln.Close()}
		for _, fl := range r.flows {
			errs = append(errs, fl.up.Close())
			for i := range fl.dirs {
				d := &fl.dirs[i]
				d.mu.Lock()
				if d.held != nil {
					d.held.timer.Stop() // its callback, if already running, finds nothing held
					d.held = nil
				}
				d.mu.Unlock()
			}
		}
		r.mu.Unlock()
		r.sched.stop()
		r.wg.Wait()
		r.closeErr = errors.Join(errs...)
	})
	return r.closeErr
}

func (r *Relay) readClients() {
	defer r.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, from, err := r.ln.ReadFromUDPAddrPort(buf)
		in := time.Now()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue // ICMP errors reported on the socket: the client will retry or is gone
		}
		fl := r.flow(from)
		if fl == nil {
			return
		}
		r.process(&fl.dirs[up], up, append([]byte(nil), buf[:n]...), in)
	}
}

// flow returns the client's flow, opening its upstream socket on first sight; nil once closed.
func (r *Relay) flow(client netip.AddrPort) *flow {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	if fl := r.flows[client]; fl != nil {
		return fl
	}
	// A connected socket: the kernel picks the source address by route, and only the upstream's
	// packets are delivered to it.
	c, err := net.DialUDP("udp", nil, r.upstream)
	if err != nil {
		r.counts[up].errors.Add(1)
		return &flow{} // unreachable: the packet is counted as an error and dropped
	}
	c.SetReadBuffer(1 << 20)
	c.SetWriteBuffer(1 << 20)
	idx := uint64(len(r.flows))
	fl := &flow{client: client, up: c}
	fl.dirs[up] = dirState{idx: 2 * idx, send: func(b []byte) error { _, err := c.Write(b); return err }}
	fl.dirs[down] = dirState{idx: 2*idx + 1, send: func(b []byte) error { _, err := r.ln.WriteToUDPAddrPort(b, client); return err }}
	r.flows[client] = fl
	r.wg.Add(1)
	go r.readUpstream(fl)
	return fl
}

func (r *Relay) readUpstream(fl *flow) {
	defer r.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, err := fl.up.Read(buf)
		in := time.Now()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue // ECONNREFUSED while the server is down: keep the flow for when it is back
		}
		r.process(&fl.dirs[down], down, append([]byte(nil), buf[:n]...), in)
	}
}

// process applies the faults to one packet of one direction, read at in; its delay counts from in.
func (r *Relay) process(d *dirState, dir int, pkt []byte, in time.Time) {
	if d.send == nil {
		return
	}
	c := &r.counts[dir]
	c.in.Add(1)
	f := r.faults.Load()
	d.mu.Lock()
	defer d.mu.Unlock()
	if !f.applies(dir) {
		r.release(d, dir, false, in)
		r.emit(d, dir, pkt, in, 0, false)
		return
	}
	if d.rng == nil || d.seed != f.Seed {
		d.rng = rand.New(rand.NewPCG(uint64(f.Seed), d.idx))
		d.seed = f.Seed
	}
	// Four draws per packet whatever happens, so one fault's pattern does not depend on the others.
	uLoss, uDup, uReorder, uJitter := d.rng.Float64(), d.rng.Float64(), d.rng.Float64(), d.rng.Float64()
	if uLoss < f.Loss {
		c.lost.Add(1)
		return
	}
	delay := f.Delay + time.Duration(uJitter*float64(f.Jitter))
	dup := uDup < f.Duplicate
	if d.held != nil {
		r.emit(d, dir, pkt, in, delay, dup)
		r.release(d, dir, true, in)
		return
	}
	if uReorder < f.Reorder {
		h := &heldPacket{pkt: pkt, delay: delay, dup: dup}
		h.timer = time.AfterFunc(reorderHold, func() {
			d.mu.Lock()
			defer d.mu.Unlock()
			if d.held == h {
				r.release(d, dir, false, time.Now())
			}
		})
		d.held = h
		return
	}
	r.emit(d, dir, pkt, in, delay, dup)
}

// release sends the held packet, if any, its delay counting from now; reordered says a later
// packet went first. d.mu is held.
func (r *Relay) release(d *dirState, dir int, reordered bool, now time.Time) {
	h := d.held
	if h == nil {
		return
	}
	d.held = nil
	h.timer.Stop()
	if reordered {
		r.counts[dir].reordered.Add(1)
	}
	r.emit(d, dir, h.pkt, now, h.delay, h.dup)
}

// emit sends pkt (twice when dup) delay after from: when it was read, or when it stopped being held.
func (r *Relay) emit(d *dirState, dir int, pkt []byte, from time.Time, delay time.Duration, dup bool) {
	c := &r.counts[dir]
	n := 1
	if dup {
		n = 2
		c.duplicated.Add(1)
	}
	due := from.Add(delay)
	send := func(b []byte) {
		if err := d.send(b); err != nil {
			c.errors.Add(1)
			return
		}
		if tr := r.trace.Load(); tr != nil { // before counting it, so a test that sees it counted sees it traced
			(*tr)(sent{pkt: b, delay: delay, due: due, out: time.Now()})
		}
		c.out.Add(1)
	}
	for range n {
		if delay <= 0 {
			send(pkt)
		} else {
			r.sched.at(due, pkt, send)
		}
	}
}

// scheduler sends delayed packets at their time, in time order (ties in arrival order).
type scheduler struct {
	mu    sync.Mutex
	q     queue
	seq   uint64
	wake  chan struct{}
	done  chan struct{}
	ended chan struct{}
}

type item struct {
	at   time.Time
	seq  uint64
	pkt  []byte
	send func([]byte)
}

type queue []item

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	if q[i].at.Equal(q[j].at) {
		return q[i].seq < q[j].seq
	}
	return q[i].at.Before(q[j].at)
}
func (q queue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)   { *q = append(*q, x.(item)) }
func (q *queue) Pop() any {
	old := *q
	it := old[len(old)-1]
	*q = old[:len(old)-1]
	return it
}

func (s *scheduler) start() {
	s.wake = make(chan struct{}, 1)
	s.done = make(chan struct{})
	s.ended = make(chan struct{})
	go s.run()
}

func (s *scheduler) stop() {
	close(s.done)
	<-s.ended
}

func (s *scheduler) at(t time.Time, pkt []byte, send func([]byte)) {
	s.mu.Lock()
	s.seq++
	heap.Push(&s.q, item{at: t, seq: s.seq, pkt: pkt, send: send})
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *scheduler) run() {
	defer close(s.ended)
	timer := time.NewTimer(time.Duration(math.MaxInt64))
	defer timer.Stop()
	for {
		s.mu.Lock()
		for len(s.q) > 0 && !time.Now().Before(s.q[0].at) {
			it := heap.Pop(&s.q).(item)
			s.mu.Unlock()
			it.send(it.pkt)
			s.mu.Lock()
		}
		next := time.Duration(math.MaxInt64)
		if len(s.q) > 0 {
			next = time.Until(s.q[0].at)
		}
		s.mu.Unlock()
		timer.Reset(next)
		select {
		case <-s.done:
			return
		case <-s.wake:
		case <-timer.C:
		}
	}
}
