package jitter

import (
	"slices"
	"testing"
	"time"

	"github.com/pion/rtp"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func ms(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }

// in is one packet pushed at a time in milliseconds after t0.
type in struct {
	seq uint16
	ts  uint32
	at  int
}

// got is the part of an Out a case checks.
type got struct {
	Seq     uint64
	TS      uint64
	Lost    int
	TSDelta int64
	Reset   bool
}

// s and ts give the extended values of the first stream (cycle 1, see seq.go).
func s(seq uint16) uint64 { return 1<<16 | uint64(seq) }
func ts(t uint32) uint64  { return 1<<32 | uint64(t) }

// run pushes each packet, draining Pop at its arrival time, then drains Pop ten seconds after the last. Each
// payload is the wire sequence number, written into one reused slice as pion does, to catch a kept reference.
func run(t *testing.T, b *Buffer, ins []in) []got {
	t.Helper()
	var outs []got
	drain := func(now time.Time) {
		for {
			o, ok := b.Pop(now)
			if !ok {
				return
			}
			if len(o.Payload) != 2 || uint16(o.Payload[0])<<8|uint16(o.Payload[1]) != uint16(o.Seq) {
				t.Fatalf("payload %v released for seq %d", o.Payload, uint16(o.Seq))
			}
			outs = append(outs, got{o.Seq, o.TS, o.Lost, o.TSDelta, o.Reset})
			b.Release(o)
		}
	}
	buf := make([]byte, 2)
	p := &rtp.Packet{}
	last := 0
	for _, x := range ins {
		buf[0], buf[1] = byte(x.seq>>8), byte(x.seq)
		p.SequenceNumber, p.Timestamp, p.Payload = x.seq, x.ts, buf
		b.Push(p, ms(x.at))
		buf[0], buf[1] = 0xde, 0xad // the caller reuses its buffer
		drain(ms(x.at))
		last = x.at
	}
	drain(ms(last + 10000))
	return outs
}

func TestBuffer(t *testing.T) {
	const f = 960 // one 20 ms Opus frame at 48 kHz
	tests := []struct {
		name  string
		opts  []Option
		ins   []in
		want  []got
		stats Stats
	}{
		{
			name:  "packets in order come out in order, each 960 ticks after the one before",
			ins:   []in{{1, 0, 0}, {2, f, 20}, {3, 2 * f, 40}},
			want:  []got{{s(1), ts(0), 0, 0, false}, {s(2), ts(f), 0, f, false}, {s(3), ts(2 * f), 0, f, false}},
			stats: Stats{Received: 3, Released: 3},
		},
		{
			name:  "a reordered packet is put back in its place",
			ins:   []in{{1, 0, 0}, {3, 2 * f, 20}, {2, f, 30}, {4, 3 * f, 60}},
			want:  []got{{s(1), ts(0), 0, 0, false}, {s(2), ts(f), 0, f, false}, {s(3), ts(2 * f), 0, f, false}, {s(4), ts(3 * f), 0, f, false}},
			stats: Stats{Received: 4, Released: 4},
		},
		{
			name:  "duplicates, whether still held or already released, are dropped and counted",
			ins:   []in{{1, 0, 0}, {1, 0, 5}, {2, f, 20}, {3, 2 * f, 300}, {2, f, 310}},
			want:  []got{{s(1), ts(0), 0, 0, false}, {s(2), ts(f), 0, f, false}, {s(3), ts(2 * f), 0, f, false}},
			stats: Stats{Received: 5, Released: 3, Duplicates: 2},
		},
		{
			name:  "the sequence number wraps at 65535 into the next cycle",
			ins:   []in{{65534, 0, 0}, {0, 2 * f, 20}, {65535, f, 25}, {1, 3 * f, 60}},
			want:  []got{{s(65534), ts(0), 0, 0, false}, {s(65535), ts(f), 0, f, false}, {2 << 16, ts(2 * f), 0, f, false}, {2<<16 | 1, ts(3 * f), 0, f, false}},
			stats: Stats{Received: 4, Released: 4},
		},
		{
			name:  "the timestamp wraps at 2^32 into the next cycle, and the delta stays one frame",
			ins:   []in{{1, 1<<32 - f, 0}, {2, 0, 20}, {3, f, 40}},
			want:  []got{{s(1), ts(1<<32 - f), 0, 0, false}, {s(2), 2 << 32, 0, f, false}, {s(3), 2<<32 | f, 0, f, false}},
			stats: Stats{Received: 3, Released: 3},
		},
		{
			name:  "a packet arriving after it was given up is dropped and counted late",
			ins:   []in{{1, 0, 0}, {3, 2 * f, 20}, {4, 3 * f, 300}, {2, f, 310}},
			want:  []got{{s(1), ts(0), 0, 0, false}, {s(3), ts(2 * f), 1, 2 * f, false}, {s(4), ts(3 * f), 0, f, false}},
			stats: Stats{Received: 4, Released: 3, Late: 1, Lost: 1},
		},
		{
			name:  "a missing packet is waited for the latency after the next arrives, and no longer",
			opts:  []Option{WithLatency(50 * time.Millisecond)},
			ins:   []in{{1, 0, 0}, {3, 2 * f, 100}, {4, 3 * f, 149}, {2, f, 149}, {6, 5 * f, 160}, {7, 6 * f, 210}, {5, 4 * f, 211}},
			want:  []got{{s(1), ts(0), 0, 0, false}, {s(2), ts(f), 0, f, false}, {s(3), ts(2 * f), 0, f, false}, {s(4), ts(3 * f), 0, f, false}, {s(6), ts(5 * f), 1, 2 * f, false}, {s(7), ts(6 * f), 0, f, false}},
			stats: Stats{Received: 7, Released: 6, Late: 1, Lost: 1},
		},
		{
			name:  "a burst of ten lost packets is reported once, on the packet after it",
			ins:   []in{{1, 0, 0}, {12, 11 * f, 220}, {13, 12 * f, 240}},
			want:  []got{{s(1), ts(0), 0, 0, false}, {s(12), ts(11 * f), 10, 11 * f, false}, {s(13), ts(12 * f), 0, f, false}},
			stats: Stats{Received: 3, Released: 3, Lost: 10},
		},
		{
			name:  "DTX: contiguous sequence numbers with a one-second timestamp jump are no loss",
			ins:   []in{{1, 0, 0}, {2, f, 20}, {3, f + 48000, 1020}},
			want:  []got{{s(1), ts(0), 0, 0, false}, {s(2), ts(f), 0, f, false}, {s(3), ts(f + 48000), 0, 48000, false}},
			stats: Stats{Received: 3, Released: 3},
		},
		{
			name:  "a first packet that is not the lowest is held, so earlier ones arriving just after are not late",
			ins:   []in{{5, 4 * f, 0}, {4, 3 * f, 10}, {3, 2 * f, 20}, {6, 5 * f, 30}},
			want:  []got{{s(3), ts(2 * f), 0, 0, false}, {s(4), ts(3 * f), 0, f, false}, {s(5), ts(4 * f), 0, f, false}, {s(6), ts(5 * f), 0, f, false}},
			stats: Stats{Received: 4, Released: 4},
		},
		{
			name:  "a packet reordered before the first across the sequence wrap sorts first, in cycle 0",
			ins:   []in{{0, f, 0}, {65535, 0, 10}},
			want:  []got{{65535, ts(0), 0, 0, false}, {s(0), ts(f), 0, f, false}},
			stats: Stats{Received: 2, Released: 2},
		},
		{
			name:  "a sender restart (a huge jump confirmed by a second packet) is a Reset, not 30000 lost",
			ins:   []in{{1, 0, 0}, {2, f, 20}, {30002, 777, 500}, {30003, 777 + f, 520}},
			want:  []got{{s(1), ts(0), 0, 0, false}, {s(2), ts(f), 0, f, false}, {3<<16 | 30002, 3<<32 | 777, 0, 0, true}, {3<<16 | 30003, 3<<32 | (777 + f), 0, f, false}},
			stats: Stats{Received: 4, Released: 4, Resets: 1},
		},
		{
			name:  "a restart to lower sequence numbers is a Reset too",
			ins:   []in{{1000, 0, 0}, {1001, f, 20}, {5, 0, 500}, {6, f, 520}},
			want:  []got{{s(1000), ts(0), 0, 0, false}, {s(1001), ts(f), 0, f, false}, {3<<16 | 5, 3 << 32, 0, 0, true}, {3<<16 | 6, 3<<32 | f, 0, f, false}},
			stats: Stats{Received: 4, Released: 4, Resets: 1},
		},
		{
			name:  "a restart while the old stream waits on a gap releases the old packets first, without waiting",
			ins:   []in{{1, 0, 0}, {3, 2 * f, 20}, {40000, 5, 40}, {40001, 5 + f, 60}},
			want:  []got{{s(1), ts(0), 0, 0, false}, {s(3), ts(2 * f), 1, 2 * f, false}, {3<<16 | 40000, 3<<32 | 5, 0, 0, true}, {3<<16 | 40001, 3<<32 | (5 + f), 0, f, false}},
			stats: Stats{Received: 4, Released: 4, Lost: 1, Resets: 1},
		},
		{
			name:  "a lone packet far outside the sequence is a stray once another replaces it",
			ins:   []in{{1, 0, 0}, {40000, 0, 10}, {2, f, 20}, {20000, 0, 30}, {3, 2 * f, 40}},
			want:  []got{{s(1), ts(0), 0, 0, false}, {s(2), ts(f), 0, f, false}, {s(3), ts(2 * f), 0, f, false}},
			stats: Stats{Received: 5, Released: 3, Strays: 1},
		},
		{
			name:  "a window of 4 pushes the oldest held packet out, counted as overflow",
			opts:  []Option{WithMaxPackets(4)},
			ins:   []in{{1, 0, 0}, {3, 2 * f, 10}, {4, 3 * f, 20}, {5, 4 * f, 30}, {6, 5 * f, 40}},
			want:  []got{{s(3), ts(2 * f), 0, 0, false}, {s(4), ts(3 * f), 0, f, false}, {s(5), ts(4 * f), 0, f, false}, {s(6), ts(5 * f), 0, f, false}},
			stats: Stats{Received: 5, Released: 4, Overflow: 1},
		},
		{
			name:  "a jump longer than the window but within MAX_DROPOUT is counted as loss exactly",
			opts:  []Option{WithMaxPackets(16)},
			ins:   []in{{1, 0, 0}, {2, f, 220}, {1002, 1001 * f, 240}},
			want:  []got{{s(1), ts(0), 0, 0, false}, {s(2), ts(f), 0, f, false}, {s(1002), ts(1001 * f), 999, 1000 * f, false}},
			stats: Stats{Received: 3, Released: 3, Lost: 999},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := New(tt.opts...)
			outs := run(t, b, tt.ins)
			if !slices.Equal(outs, tt.want) {
				t.Errorf("released\n%+v\nwant\n%+v", outs, tt.want)
			}
			st := b.Stats()
			st.Jitter = 0
			pending := uint64(0)
			if b.cand.valid {
				pending = 1
			}
			if st.Received != st.Released+st.Duplicates+st.Late+st.Overflow+st.Strays+pending {
				t.Errorf("stats %+v do not account for every packet received", st)
			}
			if st != tt.stats {
				t.Errorf("stats %+v, want %+v", st, tt.stats)
			}
		})
	}
}

func TestMissing(t *testing.T) {
	tests := []struct {
		name string
		ins  []in
		now  int
		want []uint16
	}{
		{"a gap of two is worth a NACK while it is waited for", []in{{1, 0, 0}, {2, 0, 20}, {5, 0, 80}}, 100, []uint16{3, 4}},
		{"a gap is no longer worth a NACK once its wait has run out", []in{{1, 0, 0}, {2, 0, 20}, {5, 0, 80}}, 280, nil},
		{"two gaps, one expired and one not, give only the fresh one", []in{{1, 0, 0}, {3, 0, 10}, {6, 0, 250}}, 260, []uint16{4, 5}},
		{"gaps across the wrap give wire numbers", []in{{65533, 0, 0}, {1, 0, 20}}, 30, []uint16{65534, 65535, 0}},
		{"a gap during the start hold is NACKed too", []in{{10, 0, 0}, {12, 0, 10}}, 20, []uint16{11}},
		{"nothing missing, nothing to NACK", []in{{1, 0, 0}, {2, 0, 20}}, 30, nil},
	}
	for _, tt := range tests {
		b := New()
		p := &rtp.Packet{Payload: []byte{0, 0}}
		for _, x := range tt.ins {
			p.SequenceNumber, p.Timestamp = x.seq, x.ts
			b.Push(p, ms(x.at))
			for {
				o, ok := b.Pop(ms(x.at))
				if !ok {
					break
				}
				b.Release(o)
			}
		}
		if got := b.Missing(ms(tt.now), nil); !slices.Equal(got, tt.want) {
			t.Errorf("%s: Missing = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestDeadline(t *testing.T) {
	b := New()
	if _, ok := b.Deadline(); ok {
		t.Fatal("an empty buffer has a deadline")
	}
	p := &rtp.Packet{Payload: []byte{1}}
	p.SequenceNumber = 1
	b.Push(p, ms(0))
	if d, _ := b.Deadline(); !d.Equal(ms(200)) {
		t.Errorf("the first packet's deadline is %v, want the end of the start hold %v", d, ms(200))
	}
	if _, ok := b.Pop(ms(199)); ok {
		t.Error("released during the start hold")
	}
	if _, ok := b.Pop(ms(200)); !ok {
		t.Error("not released at the end of the start hold")
	}
	p.SequenceNumber = 3
	b.Push(p, ms(210))
	if d, _ := b.Deadline(); !d.Equal(ms(410)) {
		t.Errorf("a gap's deadline is %v, want the latency after the packet behind it %v", d, ms(410))
	}
	if _, ok := b.Pop(ms(409)); ok {
		t.Error("gap given up before its deadline")
	}
	if o, ok := b.Pop(ms(410)); !ok || o.Lost != 1 {
		t.Errorf("at the deadline got %+v, %v; want seq 3 after one lost", o, ok)
	}
	if _, ok := b.Deadline(); ok {
		t.Error("a drained buffer has a deadline")
	}
}

func TestPushKeepsNothingOfTheCaller(t *testing.T) {
	b := New()
	payload := []byte{1, 2, 3}
	p := &rtp.Packet{Header: rtp.Header{SequenceNumber: 7, Timestamp: 9}, Payload: payload}
	before := *p
	b.Push(p, ms(0))
	if p.SequenceNumber != before.SequenceNumber || p.Timestamp != before.Timestamp || &p.Payload[0] != &payload[0] ||
		!slices.Equal(payload, []byte{1, 2, 3}) {
		t.Fatal("Push changed the caller's packet")
	}
	payload[0] = 99
	o, _ := b.Pop(ms(1000))
	if !slices.Equal(o.Payload, []byte{1, 2, 3}) {
		t.Errorf("payload %v, want the bytes as pushed", o.Payload)
	}
	b.Push(nil, ms(1)) // ignored
}

func TestJitter(t *testing.T) {
	// Packets every 20 ms arriving alternately 0 and 4 ms late: |D| = 4 ms each step, so J tends to 4 ms.
	b := New()
	p := &rtp.Packet{Payload: []byte{0}}
	for i := range 500 {
		p.SequenceNumber, p.Timestamp = uint16(i), uint32(i*960)
		b.Push(p, ms(i*20+4*(i%2)))
	}
	if j := b.Stats().Jitter; j < 3900*time.Microsecond || j > 4100*time.Microsecond {
		t.Errorf("jitter %v, want 4ms", j)
	}
}

func TestSteadyStateAllocatesNothing(t *testing.T) {
	b := New()
	p := &rtp.Packet{Payload: make([]byte, 80)}
	var seq uint16
	step := func() {
		// A pair swapped on the wire, as reordering does.
		for _, d := range []uint16{1, 0} {
			p.SequenceNumber, p.Timestamp = seq+d, uint32(seq+d)*960
			b.Push(p, ms(int(seq)))
		}
		seq += 2
		for {
			o, ok := b.Pop(ms(int(seq) + 1000))
			if !ok {
				break
			}
			b.Release(o)
		}
	}
	for range 100 {
		step()
	}
	if n := testing.AllocsPerRun(1000, step); n != 0 {
		t.Errorf("%v allocations per push+pop, want 0", n)
	}
}

func BenchmarkPushPop(b *testing.B) {
	buf := New()
	p := &rtp.Packet{Payload: make([]byte, 80)}
	now := t0
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p.SequenceNumber, p.Timestamp = uint16(i), uint32(i)*960
		now = now.Add(20 * time.Millisecond)
		buf.Push(p, now)
		for {
			o, ok := buf.Pop(now.Add(time.Second))
			if !ok {
				break
			}
			buf.Release(o)
		}
	}
}
