package relay

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"net"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Packets carry a sequence number and the time they were sent (nanoseconds since the test's base).
const pktSize = 100

type arrival struct {
	seq  uint32
	trip time.Duration // send → receive
	from string
}

// endpoint is a UDP socket on 127.0.0.1 that records what arrives and can echo it.
type endpoint struct {
	conn *net.UDPConn
	base time.Time
	echo bool

	mu   sync.Mutex
	got  []arrival
	raw  [][]byte
	done chan struct{}
}

func newEndpoint(t *testing.T, base time.Time, echo bool) *endpoint {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadBuffer(1 << 20)
	e := &endpoint{conn: c, base: base, echo: echo, done: make(chan struct{})}
	go func() {
		defer close(e.done)
		b := make([]byte, 2048)
		for {
			n, from, err := c.ReadFromUDP(b)
			if err != nil {
				return
			}
			now := time.Since(e.base)
			if n < 12 {
				continue
			}
			e.mu.Lock()
			e.got = append(e.got, arrival{
				seq:  binary.BigEndian.Uint32(b),
				trip: now - time.Duration(binary.BigEndian.Uint64(b[4:])),
				from: from.String(),
			})
			e.raw = append(e.raw, append([]byte(nil), b[:n]...))
			e.mu.Unlock()
			if e.echo {
				c.WriteToUDP(b[:n], from)
			}
		}
	}()
	t.Cleanup(func() { c.Close(); <-e.done })
	return e
}

func (e *endpoint) addr() string { return e.conn.LocalAddr().String() }

func (e *endpoint) arrivals() []arrival {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.got)
}

// send sends n numbered packets from e to addr, one every gap.
func (e *endpoint) send(t *testing.T, to *net.UDPAddr, n int, gap time.Duration) {
	t.Helper()
	b := make([]byte, pktSize)
	next := time.Now()
	for i := range n {
		binary.BigEndian.PutUint32(b, uint32(i))
		binary.BigEndian.PutUint64(b[4:], uint64(time.Since(e.base)))
		if _, err := e.conn.WriteToUDP(b, to); err != nil {
			t.Fatalf("send packet %d: %v", i, err)
		}
		next = next.Add(gap)
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		}
	}
}

// settle waits until the relay has taken wantIn packets going one way and the receivers together
// hold as many as the relay says it sent, and returns what the first receiver holds.
func settle(t *testing.T, r *Relay, dir int, wantIn int, es ...*endpoint) []arrival {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		st := r.Stats()
		c := st.ToServer
		if dir == down {
			c = st.ToClient
		}
		total := 0
		for _, e := range es {
			total += len(e.arrivals())
		}
		if c.In == uint64(wantIn) && uint64(total) == c.Out && c.In+c.Duplicated == c.Out+c.Lost+c.Errors && r.sched.pending() == 0 {
			return es[0].arrivals()
		}
		if time.Now().After(deadline) {
			t.Fatalf("relay and receivers never agreed: want %d in, receivers have %d, relay counted %+v", wantIn, total, c)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *scheduler) pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.q)
}

// setup returns a relay in front of a server endpoint and a client endpoint.
func setup(t *testing.T, f Faults, echo bool) (r *Relay, client, server *endpoint) {
	t.Helper()
	base := time.Now()
	server = newEndpoint(t, base, echo)
	client = newEndpoint(t, base, false)
	r, err := New("127.0.0.1:0", server.addr(), f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return r, client, server
}

func seqs(a []arrival) []uint32 {
	out := make([]uint32, len(a))
	for i, x := range a {
		out[i] = x.seq
	}
	return out
}

// inversions counts packets that arrive after a packet numbered higher.
func inversions(s []uint32) int {
	n := 0
	var top uint32
	for i, v := range s {
		if i > 0 && v < top {
			n++
		}
		top = max(top, v)
	}
	return n
}

// within fails unless got is within k standard deviations of a binomial count.
func within(t *testing.T, what string, got, n int, p, k float64) {
	t.Helper()
	mean := float64(n) * p
	sd := math.Sqrt(float64(n) * p * (1 - p))
	if math.Abs(float64(got)-mean) > k*sd {
		t.Errorf("%s: %d of %d, want %.0f ± %.0f", what, got, n, mean, k*sd)
	}
}

// TestPassThrough: without faults every packet arrives once, in order, both ways, and the server
// sees the relay's address, not the client's.
func TestPassThrough(t *testing.T) {
	r, client, server := setup(t, Faults{}, true)
	client.send(t, r.Addr(), 300, 100*time.Microsecond)
	got := settle(t, r, up, 300, server)
	back := settle(t, r, down, 300, client)
	for name, a := range map[string][]arrival{"server": got, "client": back} {
		if s := seqs(a); len(s) != 300 || inversions(s) != 0 || s[299] != 299 {
			t.Errorf("%s got %d packets with %d out of order", name, len(s), inversions(s))
		}
	}
	if got[0].from == client.addr() {
		t.Errorf("server sees the client's own address %s", got[0].from)
	}
	if back[0].from != r.Addr().String() {
		t.Errorf("client hears from %s, want the relay %s", back[0].from, r.Addr())
	}
	if st := r.Stats(); st.Flows != 1 || st.ToServer.In != 300 || st.ToClient.Out != 300 {
		t.Errorf("stats %+v", st)
	}
}

// TestLoss: a quarter of the packets one way are dropped, the other way none, and the relay's
// count matches what the receiver missed.
func TestLoss(t *testing.T) {
	const n = 2000
	r, client, server := setup(t, Faults{Loss: 0.25, Direction: ToServer, Seed: 1}, true)
	client.send(t, r.Addr(), n, 100*time.Microsecond)
	got := settle(t, r, up, n, server)
	back := settle(t, r, down, len(got), client)
	st := r.Stats()
	within(t, "delivered", len(got), n, 0.75, 5)
	if int(st.ToServer.Lost) != n-len(got) {
		t.Errorf("relay counted %d lost, receiver missed %d", st.ToServer.Lost, n-len(got))
	}
	if len(back) != len(got) || st.ToClient.Lost != 0 {
		t.Errorf("faults leaked into the other direction: %d echoed, %d returned, %d lost", len(got), len(back), st.ToClient.Lost)
	}
}

// TestSeed: the same seed drops the same packets, another seed others.
func TestSeed(t *testing.T) {
	run := func(seed int64) []uint32 {
		r, client, server := setup(t, Faults{Loss: 0.3, Seed: seed}, false)
		client.send(t, r.Addr(), 500, 50*time.Microsecond)
		s := seqs(settle(t, r, up, 500, server))
		slices.Sort(s)
		return s
	}
	a, b, c := run(7), run(7), run(8)
	if !slices.Equal(a, b) {
		t.Errorf("seed 7 twice delivered different packets (%d and %d)", len(a), len(b))
	}
	if slices.Equal(a, c) {
		t.Errorf("seeds 7 and 8 delivered the same %d packets", len(a))
	}
}

// TestReorder: held-back packets arrive after the next one; nothing is lost, and the receiver sees
// exactly as many late packets as the relay says it reordered.
func TestReorder(t *testing.T) {
	const n = 1000
	r, client, server := setup(t, Faults{Reorder: 0.1, Seed: 2}, false)
	client.send(t, r.Addr(), n, 100*time.Microsecond)
	s := seqs(settle(t, r, up, n, server))
	late := inversions(s)
	if st := r.Stats(); int(st.ToServer.Reordered) != late {
		t.Errorf("relay counted %d reordered, receiver saw %d late", st.ToServer.Reordered, late)
	}
	// A packet arriving while another is held is never held itself: the rate is p/(1+p).
	within(t, "reordered", late, n, 0.1/1.1, 5)
	slices.Sort(s)
	for i, v := range s {
		if v != uint32(i) {
			t.Fatalf("after sorting, packet %d is %d: lost or duplicated", i, v)
		}
	}
}

// TestReorderLastPacket: a held packet with nothing after it is still sent.
func TestReorderLastPacket(t *testing.T) {
	r, client, server := setup(t, Faults{Reorder: 1}, false)
	client.send(t, r.Addr(), 1, 0)
	time.Sleep(reorderHold / 2)
	if n := len(server.arrivals()); n != 0 {
		t.Fatalf("held packet sent after %v, before the hold ended", reorderHold/2)
	}
	if got := settle(t, r, up, 1, server); len(got) != 1 || got[0].trip < reorderHold {
		t.Errorf("got %+v, want the packet after %v", got, reorderHold)
	}
}

// TestDuplicate: duplicated packets arrive twice, byte for byte.
func TestDuplicate(t *testing.T) {
	const n = 1000
	r, client, server := setup(t, Faults{Duplicate: 0.2, Seed: 3}, false)
	client.send(t, r.Addr(), n, 100*time.Microsecond)
	got := settle(t, r, up, n, server)
	count := map[uint32]int{}
	for _, a := range got {
		count[a.seq]++
	}
	dups := 0
	for seq := range uint32(n) {
		switch count[seq] {
		case 1:
		case 2:
			dups++
		default:
			t.Errorf("packet %d arrived %d times", seq, count[seq])
		}
	}
	if st := r.Stats(); int(st.ToServer.Duplicated) != dups || len(got) != n+dups {
		t.Errorf("relay counted %d duplicated, receiver saw %d in %d packets", st.ToServer.Duplicated, dups, len(got))
	}
	within(t, "duplicated", dups, n, 0.2, 5)
	server.mu.Lock()
	defer server.mu.Unlock()
	seen := map[uint32][]byte{}
	for _, b := range server.raw {
		seq := binary.BigEndian.Uint32(b)
		if prev, ok := seen[seq]; ok && !bytes.Equal(prev, b) {
			t.Errorf("the copies of packet %d differ", seq)
		}
		seen[seq] = b
	}
}

// TestDelayJitter measures trips: never shorter than the delay, spread uniformly over the jitter
// (quartiles near 25, 30 and 35 ms for 20 ms + up to 20 ms), letting packets 5 ms apart overtake
// each other; without faults the trip is short. A loaded machine can only lengthen trips, so a
// measurement spoilt that way is repeated, up to three times.
func TestDelayJitter(t *testing.T) {
	measure := func(f Faults) (trips []time.Duration, late int) {
		r, client, server := setup(t, f, false)
		client.send(t, r.Addr(), 200, 5*time.Millisecond)
		got := settle(t, r, up, 200, server)
		if len(got) != 200 {
			t.Fatalf("%d of 200 arrived", len(got))
		}
		for _, a := range got {
			trips = append(trips, a.trip)
		}
		slices.Sort(trips)
		return trips, inversions(seqs(got))
	}
	q := func(trips []time.Duration, p float64) time.Duration { return trips[int(p*float64(len(trips)-1))] }
	const ms = time.Millisecond
	var problems []string
	for attempt := 1; attempt <= 3; attempt++ {
		problems = nil
		base, late0 := measure(Faults{})
		if q(base, 0.5) > 2*ms || late0 != 0 {
			problems = append(problems, fmt.Sprintf("without faults: median trip %v, %d late", q(base, 0.5), late0))
		}
		trips, late := measure(Faults{Delay: 20 * ms, Jitter: 20 * ms, Seed: 4})
		q25, q50, q75, q95 := q(trips, 0.25), q(trips, 0.5), q(trips, 0.75), q(trips, 0.95)
		t.Logf("attempt %d, delay 20 ms + jitter 20 ms: trips %v..%v, quartiles %v %v %v, 95%% %v, %d late",
			attempt, trips[0], trips[len(trips)-1], q25, q50, q75, q95, late)
		if trips[0] < 20*ms {
			t.Fatalf("a packet arrived after %v, before the 20 ms delay", trips[0])
		}
		for _, c := range []struct {
			name      string
			got, want time.Duration
		}{{"first quartile", q25, 25 * ms}, {"median", q50, 30 * ms}, {"third quartile", q75, 35 * ms}} {
			if c.got < c.want-2500*time.Microsecond || c.got > c.want+2500*time.Microsecond {
				problems = append(problems, fmt.Sprintf("%s trip %v, want %v ± 2.5 ms", c.name, c.got, c.want))
			}
		}
		if q95 > 45*ms {
			problems = append(problems, fmt.Sprintf("95%% of trips within %v, want within 40 ms + 5 ms", q95))
		}
		if late == 0 {
			problems = append(problems, "no packet overtook another with 20 ms jitter and 5 ms spacing")
		}
		if len(problems) == 0 {
			return
		}
	}
	t.Error(strings.Join(problems, "; "))
}

// TestSetFaults: a blackhole and back, while the flow stays.
func TestSetFaults(t *testing.T) {
	r, client, server := setup(t, Faults{Loss: 1}, false)
	client.send(t, r.Addr(), 50, 100*time.Microsecond)
	if got := settle(t, r, up, 50, server); len(got) != 0 {
		t.Fatalf("%d packets crossed a relay losing all", len(got))
	}
	if err := r.SetFaults(Faults{}); err != nil {
		t.Fatal(err)
	}
	client.send(t, r.Addr(), 50, 100*time.Microsecond)
	if got := settle(t, r, up, 100, server); len(got) != 50 {
		t.Fatalf("%d of 50 packets crossed after the loss ended", len(got))
	}
	if st := r.Stats(); st.ToServer.Lost != 50 || st.Flows != 1 {
		t.Errorf("stats %+v", st)
	}
	if err := r.SetFaults(Faults{Duplicate: 2}); err == nil {
		t.Error("SetFaults accepted Duplicate 2")
	}
}

// TestFlows: two clients get two upstream addresses, and answers go back to the right client.
func TestFlows(t *testing.T) {
	r, a, server := setup(t, Faults{}, true)
	b := newEndpoint(t, a.base, false)
	a.send(t, r.Addr(), 20, 100*time.Microsecond)
	b.send(t, r.Addr(), 30, 100*time.Microsecond)
	got := settle(t, r, up, 50, server)
	settle(t, r, down, 50, a, b)
	from := map[string]int{}
	for _, x := range got {
		from[x.from]++
	}
	if len(from) != 2 {
		t.Fatalf("server saw sources %v, want 2", from)
	}
	if na, nb := len(a.arrivals()), len(b.arrivals()); na != 20 || nb != 30 {
		t.Errorf("echoes: a got %d (want 20), b got %d (want 30)", na, nb)
	}
	if st := r.Stats(); st.Flows != 2 {
		t.Errorf("flows %d, want 2", st.Flows)
	}
}

// TestUpstreamDown: while nothing listens upstream the flow survives, and later packets get through.
func TestUpstreamDown(t *testing.T) {
	base := time.Now()
	hole, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	addr := hole.LocalAddr().(*net.UDPAddr)
	hole.Close()
	r, err := New("127.0.0.1:0", addr.String(), Faults{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	client := newEndpoint(t, base, false)
	client.send(t, r.Addr(), 5, time.Millisecond) // refused: ICMP port unreachable
	time.Sleep(20 * time.Millisecond)
	server, err := net.ListenUDP("udp4", addr)
	if err != nil {
		t.Fatalf("listen again on %s (taken meanwhile?): %v", addr, err)
	}
	defer server.Close()
	client.send(t, r.Addr(), 1, 0)
	server.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, _, err := server.ReadFrom(make([]byte, 2048)); err != nil {
		t.Fatalf("no packet after the server came back: %v", err)
	}
}

func TestNewErrors(t *testing.T) {
	cases := []struct {
		name             string
		listen, upstream string
		f                Faults
		want             string
	}{
		{"a loss above one is refused", "127.0.0.1:0", "127.0.0.1:9", Faults{Loss: 1.5}, "Faults.Loss 1.5"},
		{"a negative reorder is refused", "127.0.0.1:0", "127.0.0.1:9", Faults{Reorder: -0.1}, "Faults.Reorder -0.1"},
		{"NaN is not a probability", "127.0.0.1:0", "127.0.0.1:9", Faults{Duplicate: math.NaN()}, "Faults.Duplicate NaN"},
		{"a negative jitter is refused", "127.0.0.1:0", "127.0.0.1:9", Faults{Jitter: -time.Millisecond}, "must not be negative"},
		{"an unknown direction is refused", "127.0.0.1:0", "127.0.0.1:9", Faults{Direction: 7}, "Faults.Direction 7"},
		{"a listen address without a port is refused", "127.0.0.1", "127.0.0.1:9", Faults{}, `listen address "127.0.0.1"`},
		{"an upstream without a port is refused", "127.0.0.1:0", "127.0.0.1:0", Faults{}, `upstream address "127.0.0.1:0"`},
		{"an unspecified upstream is refused", "127.0.0.1:0", "0.0.0.0:9", Faults{}, `upstream address "0.0.0.0:9"`},
	}
	for _, c := range cases {
		r, err := New(c.listen, c.upstream, c.f)
		if err == nil {
			r.Close()
			t.Errorf("%s: New succeeded", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not name %q", c.name, err, c.want)
		}
	}
}

// TestClose: Close is idempotent and ends the relay's goroutines.
func TestClose(t *testing.T) {
	before := runtime.NumGoroutine()
	base := time.Now()
	server := newEndpoint(t, base, true)
	client := newEndpoint(t, base, false)
	r, err := New("127.0.0.1:0", server.addr(), Faults{Delay: time.Millisecond, Reorder: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	client.send(t, r.Addr(), 20, 100*time.Microsecond)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	deadline := time.Now().Add(time.Second)
	for runtime.NumGoroutine() > before+2 { // the two endpoints' readers
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after Close, %d before", runtime.NumGoroutine(), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestCloseDropsHeld: a packet held back for reordering when the relay closes is dropped: its
// hold does not end in a send (nor a failed one) after Close returned.
func TestCloseDropsHeld(t *testing.T) {
	r, client, _ := setup(t, Faults{Reorder: 1}, false)
	client.send(t, r.Addr(), 1, 0)
	for deadline := time.Now().Add(10 * time.Second); r.Stats().ToServer.In != 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the relay never read the packet")
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * reorderHold)
	if st := r.Stats().ToServer; st.Out != 0 || st.Errors != 0 {
		t.Errorf("after Close the held packet was still sent: %+v", st)
	}
}

// TestNewConn relays from a socket made by the caller.
func TestNewConn(t *testing.T) {
	base := time.Now()
	server := newEndpoint(t, base, false)
	client := newEndpoint(t, base, false)
	ln, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewConn(ln, server.addr(), Faults{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Addr().String() != ln.LocalAddr().String() {
		t.Errorf("Addr %s, want the socket's %s", r.Addr(), ln.LocalAddr())
	}
	client.send(t, r.Addr(), 10, 100*time.Microsecond)
	if got := settle(t, r, up, 10, server); len(got) != 10 {
		t.Errorf("%d of 10 arrived", len(got))
	}
	if _, err := NewConn(ln, "127.0.0.1", Faults{}); err == nil || !strings.Contains(err.Error(), `upstream address "127.0.0.1"`) {
		t.Errorf("NewConn with an upstream without a port: %v", err)
	}
}
