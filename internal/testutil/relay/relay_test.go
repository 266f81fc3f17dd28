package relay

import (
	"bytes"
	"encoding/binary"
	"math"
	"net"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
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
	deadline := time.Now().Add(10 * time.Second) // a hang guard: a loaded machine may take seconds
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

// TestReorderLastPacket: a held packet with nothing after it is still sent, and not before the hold
// ended (TestTiming checks on a fake clock that it leaves exactly then).
func TestReorderLastPacket(t *testing.T) {
	r, client, server := setup(t, Faults{Reorder: 1}, false)
	client.send(t, r.Addr(), 1, 0)
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

// tracer records what the relay sent, as it tells Relay.trace.
type tracer struct {
	mu   sync.Mutex
	sent []sent
}

func trace(r *Relay) *tracer {
	tr := &tracer{}
	fn := func(s sent) {
		tr.mu.Lock()
		tr.sent = append(tr.sent, s)
		tr.mu.Unlock()
	}
	r.trace.Store(&fn)
	return tr
}

func (tr *tracer) log() []sent {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return slices.Clone(tr.sent)
}

// quartiles returns the 25, 50 and 75 % quantiles, the 95 % one and the largest of ds.
func quartiles(ds []time.Duration) [5]time.Duration {
	s := slices.Sorted(slices.Values(ds))
	q := func(p float64) time.Duration { return s[int(p*float64(len(s)-1))] }
	return [5]time.Duration{q(0.25), q(0.5), q(0.75), q(0.95), s[len(s)-1]}
}

// checkUniform fails unless the delays lie in [lo, lo+spread) with quartiles near a uniform
// draw's: within 4 standard deviations of a quantile p of n draws (spread·√(p(1−p)/n): 0.6 ms for
// a quartile, 0.7 ms for the median of 200 draws over 20 ms), so about any seed passes, and a seeded
// run passes or fails every time.
func checkUniform(t *testing.T, what string, delays []time.Duration, lo, spread time.Duration) {
	t.Helper()
	for i, d := range delays {
		if d < lo || d >= lo+spread {
			t.Errorf("%s: delay %d is %v, outside [%v, %v)", what, i, d, lo, lo+spread)
		}
	}
	q := quartiles(delays)
	for i, p := range []float64{0.25, 0.5, 0.75} {
		want := lo + time.Duration(p*float64(spread))
		tol := time.Duration(4 * float64(spread) * math.Sqrt(p*(1-p)/float64(len(delays))))
		if q[i] < want-tol || q[i] > want+tol {
			t.Errorf("%s: %.0f %% quantile of the delays %v, want %v ± %v", what, 100*p, q[i], want, tol)
		}
	}
}

// TestDelayJitter: over real sockets, each packet gets a delay drawn uniformly from 20 ms + [0, 20
// ms), arrives no sooner than that after it was sent, and packets 5 ms apart overtake each other,
// arriving in the order the relay sent them. What the machine adds to the trips (its scheduling
// latency, which load lengthens without bound) is reported, not judged: TestTiming judges when the
// relay sends each packet, on a fake clock.
func TestDelayJitter(t *testing.T) {
	const n, ms = 200, time.Millisecond
	r, client, server := setup(t, Faults{Delay: 20 * ms, Jitter: 20 * ms, Seed: 4}, false)
	tr := trace(r)
	client.send(t, r.Addr(), n, 5*ms)
	got := settle(t, r, up, n, server)
	log := tr.log()
	if len(got) != n || len(log) != n {
		t.Fatalf("%d of %d arrived, the relay sent %d", len(got), n, len(log))
	}
	bySeq := map[uint32]sent{}
	var delays, late []time.Duration
	order := make([]uint32, len(log))
	for i, s := range log {
		seq := binary.BigEndian.Uint32(s.pkt)
		bySeq[seq], order[i] = s, seq
		delays = append(delays, s.delay)
		late = append(late, s.out.Sub(s.due))
	}
	checkUniform(t, "delay 20 ms + jitter 20 ms", delays, 20*ms, 20*ms)
	var excess []time.Duration
	for _, a := range got {
		s, ok := bySeq[a.seq]
		if !ok {
			t.Fatalf("packet %d arrived but the relay never sent it", a.seq)
		}
		if a.trip < s.delay {
			t.Errorf("packet %d arrived %v after it was sent, before its %v delay", a.seq, a.trip, s.delay)
		}
		excess = append(excess, a.trip-s.delay)
	}
	if s := seqs(got); !slices.Equal(s, order) {
		t.Errorf("packets arrived in another order than the relay sent them")
	} else if inversions(s) == 0 {
		t.Errorf("no packet overtook another with 20 ms jitter and 5 ms spacing")
	}
	qd, qe, ql := quartiles(delays), quartiles(excess), quartiles(late)
	t.Logf("delays drawn: quartiles %v %v %v; %d packets overtaken", qd[0], qd[1], qd[2], inversions(seqs(got)))
	t.Logf("trip beyond the delay (the machine): quartiles %v %v %v, 95 %% %v, max %v; of it, relay sends after their due time: quartiles %v %v %v, 95 %% %v, max %v",
		qe[0], qe[1], qe[2], qe[3], qe[4], ql[0], ql[1], ql[2], ql[3], ql[4])
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

// departure is a packet the relay sent on the fake clock, counted from the first packet's arrival.
type departure struct {
	seq     uint32
	arrived time.Duration
	left    time.Duration
	delay   time.Duration // drawn for it, as the relay traced it
}

// onFakeClock runs packets through the relay's faults and scheduler, without sockets, on
// testing/synctest's fake clock: n packets arrive gap apart on the first flow's client → server
// stream (that of the real tests with the same seed), and it returns what left, in order, once
// nothing more is due. Time passes only when every goroutine waits, so each departure's time is
// exactly what the relay decided, whatever the machine's load.
func onFakeClock(t *testing.T, f Faults, n int, gap time.Duration) []departure {
	var deps []departure
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		r := &Relay{}
		r.faults.Store(&f)
		tr := trace(r)
		r.sched.start()
		arrived := map[uint32]time.Duration{}
		var mu sync.Mutex
		var left []departure
		d := &dirState{send: func(b []byte) error {
			mu.Lock()
			defer mu.Unlock()
			left = append(left, departure{seq: binary.BigEndian.Uint32(b), left: time.Since(start)})
			return nil
		}}
		for i := range n {
			pkt := make([]byte, pktSize)
			binary.BigEndian.PutUint32(pkt, uint32(i))
			arrived[uint32(i)] = time.Since(start)
			r.process(d, up, pkt, time.Now())
			time.Sleep(gap)
		}
		time.Sleep(time.Second) // longer than any delay and hold
		synctest.Wait()
		r.sched.stop()
		log := tr.log()
		if len(log) != len(left) {
			t.Fatalf("%d packets left, %d traced", len(left), len(log))
		}
		for i := range left {
			left[i].arrived = arrived[left[i].seq]
			left[i].delay = log[i].delay
		}
		deps = left
	})
	return deps
}

// TestTiming judges when the relay sends each packet, on a fake clock, so exactly: what the
// relay decides, apart from what a machine adds (TestDelayJitter measures that over sockets).
func TestTiming(t *testing.T) {
	const ms = time.Millisecond
	t.Run("without faults every packet leaves the moment it arrives, in order", func(t *testing.T) {
		deps := onFakeClock(t, Faults{}, 50, 5*ms)
		for i, d := range deps {
			if d.seq != uint32(i) || d.left != d.arrived {
				t.Errorf("departure %d: packet %d arrived at %v, left at %v", i, d.seq, d.arrived, d.left)
			}
		}
	})
	t.Run("each packet leaves exactly its own drawn delay after it arrived, the delays spread uniformly over the jitter, and packets 5 ms apart overtake each other", func(t *testing.T) {
		deps := onFakeClock(t, Faults{Delay: 20 * ms, Jitter: 20 * ms, Seed: 4}, 200, 5*ms)
		if len(deps) != 200 {
			t.Fatalf("%d of 200 packets left", len(deps))
		}
		var delays []time.Duration
		for i, d := range deps {
			delays = append(delays, d.delay)
			if d.left-d.arrived != d.delay {
				t.Errorf("packet %d arrived at %v and left at %v, want exactly its delay %v later", d.seq, d.arrived, d.left, d.delay)
			}
			if i > 0 && d.left < deps[i-1].left {
				t.Errorf("packet %d left at %v, after packet %d due at %v", d.seq, d.left, deps[i-1].seq, deps[i-1].left)
			}
		}
		checkUniform(t, "delay 20 ms + jitter 20 ms", delays, 20*ms, 20*ms)
		if late := inversions(departureSeqs(deps)); late == 0 {
			t.Error("no packet overtook another with 20 ms jitter and 5 ms spacing")
		}
	})
	t.Run("a held packet with nothing after it leaves when the hold ends, after its delay", func(t *testing.T) {
		deps := onFakeClock(t, Faults{Reorder: 1, Delay: 3 * ms}, 1, 0)
		if len(deps) != 1 || deps[0].left != reorderHold+3*ms {
			t.Errorf("departures %+v, want packet 0 at %v", deps, reorderHold+3*ms)
		}
	})
	t.Run("a held packet leaves after the next one, its delay counted from the next one's arrival", func(t *testing.T) {
		deps := onFakeClock(t, Faults{Reorder: 0.5, Delay: 2 * ms, Seed: 2}, 200, 5*ms)
		if len(deps) != 200 {
			t.Fatalf("%d of 200 packets left", len(deps))
		}
		held := 0
		for i, d := range deps {
			switch {
			case d.left == d.arrived+2*ms:
			case i > 0 && d.left == deps[i-1].arrived+2*ms && d.seq+1 == deps[i-1].seq:
				held++
			case d.seq == 199 && d.left == d.arrived+reorderHold+2*ms: // nothing came after it
			default:
				t.Errorf("packet %d arrived at %v, left at %v, departure %d", d.seq, d.arrived, d.left, i)
			}
		}
		within(t, "held", held, 200, 0.5/1.5, 5)
	})
	t.Run("both copies of a duplicated packet leave together after its delay", func(t *testing.T) {
		deps := onFakeClock(t, Faults{Duplicate: 1, Delay: 7 * ms}, 20, ms)
		if len(deps) != 40 {
			t.Fatalf("%d departures of 20 packets duplicated", len(deps))
		}
		for i, d := range deps {
			if d.seq != uint32(i/2) || d.left != d.arrived+7*ms {
				t.Errorf("departure %d: packet %d arrived at %v, left at %v", i, d.seq, d.arrived, d.left)
			}
		}
	})
}

func departureSeqs(deps []departure) []uint32 {
	out := make([]uint32, len(deps))
	for i, d := range deps {
		out[i] = d.seq
	}
	return out
}
