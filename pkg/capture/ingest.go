package capture

import (
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/spacecast/spacecast/pkg/capture/jitter"
)

// ingest turns one track's RTP packets into Opus frames placed on the session clock: a jitter
// buffer per stream (SSRC) puts the packets in order and gives up a missing one after its wait,
// and the stream's placer with the session clock says where each frame lands (clock.go).
//
// It also knows the source feeding the track: whether one does, and whether it ended and waits to
// be drained. It has no lock: its track's lock serialises the reader goroutines that push and the
// timer loop that pops.
type ingest struct {
	clock   *sessionClock
	latency time.Duration // the jitter buffers' wait for a missing packet
	streams map[uint32]*stream
	// retired streams belong to a source that ended or to the stretch before recording resumed:
	// the next pop drains what they hold, whatever its wait.
	retired []*stream
	// fresh: recording resumed; the next packet starts new jitter buffers (the old ones drain in
	// retired), so the packets skipped meanwhile are neither loss nor concealed.
	fresh  bool
	source string // the adapter's name for the source
	gen    int    // counts the sources that claimed the track: only the current one's end counts
	active bool   // a source feeds this track
	ended  bool   // the source ended; drain and release
}

// stream is one SSRC of a track: its jitter buffer and its placement on the session clock.
type stream struct {
	ssrc uint32
	jb   *jitter.Buffer
	pl   placer
}

// frame is one packet released in order and placed on the session clock.
type frame struct {
	jitter.Out
	ssrc uint32
	at   int64 // session tick of its first sample
}

func newIngest(clock *sessionClock, latency time.Duration, source string) ingest {
	return ingest{clock: clock, latency: latency, streams: map[uint32]*stream{}, source: source, active: true}
}

// push hands one packet to its stream's jitter buffer.
func (in *ingest) push(pkt *rtp.Packet, arrival time.Time) {
	if in.fresh {
		in.restartStreams()
	}
	in.stream(pkt.SSRC).jb.Push(pkt, arrival)
}

func (in *ingest) stream(ssrc uint32) *stream {
	s := in.streams[ssrc]
	if s == nil {
		s = &stream{ssrc: ssrc, jb: jitter.New(jitter.WithLatency(in.latency))}
		in.streams[ssrc] = s
	}
	return s
}

// senderReport takes a sender report for one of the track's streams. A report for a stream the
// track does not carry is ignored: a server may send one compound packet with the reports of
// every stream it sends, and a report before a stream's first packet is followed by another
// within seconds.
func (in *ingest) senderReport(sr *rtcp.SenderReport) {
	if s := in.streams[sr.SSRC]; s != nil {
		s.pl.senderReport(sr)
	}
}

// pop hands write every frame the jitter buffers release by now, in order per stream; drain
// releases everything. A source that ended is drained and let go: left says it was still
// active, and its speaker has left.
func (in *ingest) pop(now time.Time, drain bool, write func(frame)) (left bool) {
	at := now
	if drain || in.ended {
		at = now.Add(time.Hour)
	}
	for _, s := range in.retired { // what was received before recording stopped, or from an ended source
		in.popStream(s, now.Add(time.Hour), write)
	}
	in.retired = nil
	for _, s := range in.streams {
		in.popStream(s, at, write)
	}
	if in.ended {
		left = in.active
		in.active, in.ended, in.streams = false, false, map[uint32]*stream{}
	}
	return left
}

func (in *ingest) popStream(s *stream, at time.Time, write func(frame)) {
	for {
		out, ok := s.jb.Pop(at)
		if !ok {
			return
		}
		if out.Reset {
			s.pl.reset()
		}
		write(frame{Out: out, ssrc: s.ssrc, at: in.clock.place(&s.pl, out.TS, out.Arrival)})
		s.jb.Release(out)
	}
}

// claim gives the track to a new source when it is free: no source feeds it, or its source ended,
// whether or not the loop has drained it yet (a reconnect's new source may come within a tick of
// the old one's end: what the old one left drains in the next pop). replaced says the ended
// source was still active: its speaker-left is due now.
//
// A source the adapter names as the live one (the same ID: a LiveKit track SID, a Janus feed/mid,
// a WHEP mid) is the same stream signalled again — Janus renegotiates a subscription as its
// publisher goes — and takes the track over as it is (again): its streams go on, and the old
// reader's end no longer ends the track. gen is the claim's, for sourceEnded.
func (in *ingest) claim(source string) (ok, replaced, again bool, gen int) {
	if in.active && !in.ended {
		if source == "" || source != in.source {
			return false, false, false, 0
		}
		in.gen++
		return true, false, true, in.gen
	}
	if in.ended {
		for _, s := range in.streams {
			in.retired = append(in.retired, s)
		}
		in.streams, in.ended = map[uint32]*stream{}, false
		replaced = in.active
	}
	in.active, in.source = true, source
	in.gen++
	return true, replaced, false, in.gen
}

// sourceEnded says the reader of claim gen saw its source's end: the next pop drains it. The end
// of a source another claim has taken over from changes nothing.
func (in *ingest) sourceEnded(gen int) {
	if gen == in.gen {
		in.ended = true
	}
}

// restart says recording resumes after a stretch it did not: the next packet restarts the streams.
func (in *ingest) restart() { in.fresh = true }

// restartStreams gives every stream a new jitter buffer after a stretch that was not recorded:
// the packets dropped meanwhile are not loss, and must not be concealed (forward error correction
// would bring back audio from the stretch). The old buffers drain in the next pop.
func (in *ingest) restartStreams() {
	in.fresh = false
	fresh := make(map[uint32]*stream, len(in.streams))
	for ssrc, s := range in.streams {
		in.retired = append(in.retired, s)
		n := &stream{ssrc: ssrc, jb: jitter.New(jitter.WithLatency(in.latency)), pl: s.pl}
		n.pl.reset()
		fresh[ssrc] = n
	}
	in.streams = fresh
}
