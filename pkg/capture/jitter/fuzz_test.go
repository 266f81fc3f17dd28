package jitter

import (
	"slices"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// FuzzBuffer feeds a stream of packets, reordered, dropped, duplicated and delayed as data says, and checks the
// buffer's promises: the output's extended sequence numbers strictly increase; every packet is released exactly
// once unless it arrived after a later one had been released (then it is counted late); released + lost spans
// the output exactly; timestamps extend consistently across the 2^32 wrap; a gap is given up no sooner than the
// latency after the packet behind it arrived; and every pushed packet is accounted for in Stats.
func FuzzBuffer(f *testing.F) {
	f.Add([]byte{0xff, 0xf0, 0xff, 0xff, 0xf0, 0x00, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x13, 0x03, 0x2c, 0x40, 0x00, 0xc7, 0x04, 0x3b, 0x80})
	f.Add([]byte{0xff, 0xfe, 0xff, 0xff, 0xfc, 0x40, 0xff, 0x3f, 0x7b, 0x83, 0xc0, 0x15, 0x23, 0x38, 0xe1, 0x02, 0x55})
	seed := []byte{0xfe, 0x00, 0xff, 0xff, 0x00, 0x00}
	for i := range 300 {
		seed = append(seed, byte(i*37+i>>3))
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 7 {
			return
		}
		seq0 := uint16(data[0])<<8 | uint16(data[1])
		ts0 := uint32(data[2])<<24 | uint32(data[3])<<16 | uint32(data[4])<<8 | uint32(data[5])
		ops := data[6:]
		if len(ops) > 400 {
			ops = ops[:400]
		}
		// Each op byte: bits 0-1 == 3 drops the packet; bit 2 sends it twice; bits 3-5 delay it behind up to 7
		// later packets; bits 6-7 pick the wait before it arrives (0, 5, 20 or 300 ms).
		type arrival struct {
			key, idx int
			wait     time.Duration
		}
		var order []arrival
		for i, op := range ops {
			if op&3 == 3 {
				continue
			}
			wait := [4]time.Duration{0, 5 * time.Millisecond, 20 * time.Millisecond, 300 * time.Millisecond}[op>>6]
			key := 16 * (i + int(op>>3&7))
			order = append(order, arrival{key, i, wait})
			if op&4 != 0 {
				order = append(order, arrival{key + 16*3 + 1, i, 0})
			}
		}
		slices.SortStableFunc(order, func(a, b arrival) int { return a.key - b.key })

		const latency = 100 * time.Millisecond
		b := New(WithLatency(latency))
		var outs []Out
		released := map[int]int{} // index -> times released
		passed := map[int]bool{}  // index -> a later one had been released when it first arrived
		seen := map[int]bool{}    // index -> pushed
		lastIdx := -1
		wantDup, wantLate := uint64(0), uint64(0)
		drain := func(now time.Time) {
			for {
				o, ok := b.Pop(now)
				if !ok {
					return
				}
				idx := int(o.Payload[0])<<8 | int(o.Payload[1])
				if len(o.Payload) != 2+idx%7 || (len(o.Payload) > 2 && o.Payload[2] != byte(idx)) {
					t.Fatalf("payload %v for packet %d", o.Payload, idx)
				}
				if o.Lost > 0 && now.Before(o.Arrival.Add(latency)) {
					t.Fatalf("packet %d released at %v after a gap, before its arrival %v plus the latency", idx, now, o.Arrival)
				}
				released[idx]++
				lastIdx = idx
				kept := slices.Clone(o.Payload)
				b.Release(o) // pooled payloads go back as a writer returns them
				o.Payload = kept
				outs = append(outs, o)
			}
		}
		p := &rtp.Packet{}
		buf := make([]byte, 0, 16)
		now := t0
		for _, a := range order {
			now = now.Add(a.wait)
			switch {
			case released[a.idx] > 0:
				wantDup++
			case lastIdx >= a.idx:
				wantLate++
			case seen[a.idx]:
				wantDup++ // still held
			}
			if !seen[a.idx] {
				seen[a.idx] = true
				passed[a.idx] = lastIdx >= a.idx
			}
			buf = buf[:0]
			buf = append(buf, byte(a.idx>>8), byte(a.idx))
			for range a.idx % 7 {
				buf = append(buf, byte(a.idx))
			}
			p.SequenceNumber = seq0 + uint16(a.idx)
			p.Timestamp = ts0 + uint32(a.idx)*960
			p.Payload = buf
			b.Push(p, now)
			clear(buf[:cap(buf)]) // the caller reuses its buffer
			drain(now)
		}
		drain(now.Add(time.Hour))

		lost := 0
		for i, o := range outs {
			idx := int(o.Payload[0])<<8 | int(o.Payload[1])
			if uint16(o.Seq) != seq0+uint16(idx) || uint32(o.TS) != ts0+uint32(idx)*960 {
				t.Fatalf("out %d: seq %d ts %d do not match the wire", i, o.Seq, o.TS)
			}
			if i > 0 {
				if o.Seq <= outs[i-1].Seq {
					t.Fatalf("out %d: seq %d after %d", i, o.Seq, outs[i-1].Seq)
				}
				if o.TS-outs[0].TS != (o.Seq-outs[0].Seq)*960 || o.TSDelta != int64(o.TS-outs[i-1].TS) {
					t.Fatalf("out %d: ts %d delta %d inconsistent with seq %d", i, o.TS, o.TSDelta, o.Seq)
				}
				lost += o.Lost
			} else if o.Lost != 0 || o.TSDelta != 0 {
				t.Fatalf("first out reports lost %d delta %d", o.Lost, o.TSDelta)
			}
			if o.Reset {
				t.Fatalf("out %d: reset in a single stream", i)
			}
		}
		if len(outs) > 0 {
			if span := int(outs[len(outs)-1].Seq-outs[0].Seq) + 1; lost+len(outs) != span {
				t.Fatalf("lost %d + released %d != span %d", lost, len(outs), span)
			}
		}
		for idx := range seen {
			switch n := released[idx]; {
			case n > 1:
				t.Fatalf("packet %d released %d times", idx, n)
			case n == 0 && !passed[idx]:
				t.Fatalf("packet %d arrived before any later one was released, yet was not released", idx)
			case n == 1 && passed[idx]:
				t.Fatalf("packet %d released after a later one", idx)
			}
		}
		st := b.Stats()
		if st.Received != uint64(len(order)) || st.Released != uint64(len(outs)) || st.Lost != uint64(lost) ||
			st.Duplicates != wantDup || st.Late != wantLate || st.Overflow+st.Strays+st.Resets != 0 {
			t.Fatalf("stats %+v for %d pushed, %d released, %d lost, %d duplicates, %d late",
				st, len(order), len(outs), lost, wantDup, wantLate)
		}
	})
}

// FuzzBufferAnyInput pushes arbitrary sequence numbers and timestamps (jumps, restarts, strays, wraps) through a
// small window and checks what must hold for any input: no panic, strictly increasing extended sequence numbers
// whose low bits are the wire value, the payload that was pushed with each, Lost and Reset consistent with
// Stats, and every received packet accounted for.
func FuzzBufferAnyInput(f *testing.F) {
	f.Add(byte(8), []byte{1, 0, 0, 1, 0, 0, 0x80, 0x90, 0x00, 1, 0, 0, 0xff, 0, 3})
	f.Add(byte(3), []byte{0x80, 0xff, 0xfe, 1, 0, 0, 1, 0, 0, 5, 0, 1, 0xfe, 0, 2, 0x80, 0x12, 0x34, 0x80, 0x12, 0x35})
	f.Add(byte(200), []byte{0x7f, 0, 1, 0x7f, 0, 1, 0x7f, 0, 1, 0x80, 0, 0, 1, 0, 0x40})
	f.Fuzz(func(t *testing.T, window byte, data []byte) {
		b := New(WithMaxPackets(int(window)), WithLatency(50*time.Millisecond), WithMaxDropout(500))
		var seq uint16
		var ts uint32
		now := t0
		var outs []Out
		drain := func(now time.Time) {
			for {
				o, ok := b.Pop(now)
				if !ok {
					return
				}
				if len(o.Payload) != 6 || uint16(o.Payload[0])<<8|uint16(o.Payload[1]) != uint16(o.Seq) ||
					uint32(o.Payload[2])<<24|uint32(o.Payload[3])<<16|uint32(o.Payload[4])<<8|uint32(o.Payload[5]) != uint32(o.TS) {
					t.Fatalf("payload %v released as seq %d ts %d", o.Payload, o.Seq, o.TS)
				}
				if n := len(outs); n > 0 && o.Seq <= outs[n-1].Seq {
					t.Fatalf("seq %d after %d", o.Seq, outs[n-1].Seq)
				}
				b.Release(o)
				o.Payload = nil
				outs = append(outs, o)
			}
		}
		p := &rtp.Packet{}
		buf := make([]byte, 6)
		for i := 0; i+3 <= len(data) && i < 3*2000; i += 3 {
			// Three bytes per packet: a signed sequence step (0x80: jump to the next two bytes), a timestamp step
			// in frames, and a wait in milliseconds.
			if data[i] == 0x80 {
				seq = uint16(data[i+1])<<8 | uint16(data[i+2])
			} else {
				seq += uint16(int8(data[i]))
			}
			ts += uint32(int8(data[i+1])) * 960
			now = now.Add(time.Duration(data[i+2]) * time.Millisecond)
			buf[0], buf[1], buf[2], buf[3], buf[4], buf[5] = byte(seq>>8), byte(seq), byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
			p.SequenceNumber, p.Timestamp, p.Payload = seq, ts, buf
			b.Push(p, now)
			drain(now)
			_ = b.Missing(now, nil)
		}
		drain(now.Add(time.Hour))
		if d, ok := b.Deadline(); ok {
			t.Fatalf("a drained buffer has a deadline %v", d)
		}
		st := b.Stats()
		lost, resets := 0, uint64(0)
		for _, o := range outs {
			lost += o.Lost
			if o.Reset {
				resets++
				if o.Lost != 0 || o.TSDelta != 0 {
					t.Fatalf("a Reset reports lost %d delta %d", o.Lost, o.TSDelta)
				}
			}
		}
		pending := uint64(0)
		if b.cand.valid {
			pending = 1
		}
		if st.Released != uint64(len(outs)) || st.Lost != uint64(lost) || resets > st.Resets ||
			st.Received != st.Released+st.Duplicates+st.Late+st.Overflow+st.Strays+pending {
			t.Fatalf("stats %+v for %d released, %d lost, %d resets seen", st, len(outs), lost, resets)
		}
	})
}
