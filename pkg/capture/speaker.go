package capture

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/spacecast/spacecast/pkg/ogg"
)

// track is one speaker's file and what feeds it: the ingest of their current source, the file
// (once they are first recorded), and their voice in the live mix. A speaker whose source ends and
// comes back (a reconnect, a republish) continues in the same track.
type track struct {
	identity string
	channels int

	// on is the consent gate's verdict: packets are kept. Written under Recorder.mu, read per packet.
	on atomic.Bool

	// mu guards in, the contents of file, and voice.level: the reader goroutines push, the timer
	// loop pops and writes, the status line reads.
	mu sync.Mutex
	in ingest
	// file is nil until the speaker is first recorded; set under Recorder.mu and mu both.
	file  *trackFile
	voice *voice // the timer loop's, but for level
}

func newTrack(clock *sessionClock, latency time.Duration, src Source) (*track, error) {
	v, err := newVoice(src.Channels)
	if err != nil {
		return nil, err
	}
	return &track{identity: src.Participant, channels: src.Channels, in: newIngest(clock, latency, src.ID), voice: v}, nil
}

// id is the track file's id ("" without a file). Called with mu or Recorder.mu held.
func (t *track) id() string {
	if t.file == nil {
		return ""
	}
	return t.file.id
}

// write puts one frame into the file and the live mix, whose rings keep nothing before floor.
// Called with t.mu held, by the timer loop.
func (t *track) write(f frame, floor int64) error {
	n, err := ogg.PacketSamples(f.Payload)
	if err != nil || n == 0 {
		t.file.lost++ // not an Opus packet: as good as lost
		return nil
	}
	if err := t.file.write(f, n); err != nil {
		return err
	}
	// The mix takes the packet where the file's timeline put it: placement noise within the
	// tolerance neither tears nor doubles the mix.
	at := t.file.tw.Placed()
	if f.Lost > 0 {
		t.voice.conceal(f.Payload, f.Lost, n, at, floor)
	}
	if err := t.voice.decode(f.Payload, at, floor); err != nil {
		t.file.lost++
	}
	return nil
}

// AddTrack starts recording a source; it returns at once and reads the source until it ends.
// A speaker whose earlier source ended (a reconnect, a republish) continues in the same file.
func (r *Recorder) AddTrack(src Source) error {
	if src.Channels != 2 {
		src.Channels = 1
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return fmt.Errorf("capture: recorder closed")
	}
	if !r.roster.in(src.Participant) {
		r.joinLocked(Participant{Identity: src.Participant})
	}
	var t *track
	replaced, again, gen := false, false, 0
	for _, c := range r.tracks {
		if c.identity != src.Participant {
			continue
		}
		c.mu.Lock()
		ok, rep, ag, g := c.in.claim(src.ID)
		c.mu.Unlock()
		if ok {
			t, replaced, again, gen = c, rep, ag, g
			break
		}
	}
	if t == nil {
		var err error
		if t, err = newTrack(&r.clock, r.opts.Latency, src); err != nil {
			r.mu.Unlock()
			r.fail(err)
			return err
		}
		r.tracks = append(r.tracks, t) // its first source's claim: gen 0
	}
	if err := r.gateLocked(t); err != nil {
		r.mu.Unlock()
		r.fail(err)
		return err
	}
	name := r.roster.name(src.Participant)
	id := t.id()
	pending := r.gate.takeEvents()
	r.mu.Unlock()
	r.emitAll(pending)
	if replaced {
		r.emit(Event{Type: EventSpeakerLeft, Identity: t.identity, Track: id})
	}
	if !again { // the same stream signalled again is no new speaker
		r.emit(Event{Type: EventSpeakerJoined, Identity: src.Participant, Name: name, Track: id})
	}

	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.readRTP(t, src, gen)
	}()
	if src.ReadRTCP != nil {
		go r.readRTCP(t, src)
	}
	return nil
}

// readRTP is a source's reader goroutine: it parses packets until the source ends.
func (r *Recorder) readRTP(t *track, src Source, gen int) {
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	for {
		n, err := src.ReadRTP(buf)
		if err != nil {
			break
		}
		if pkt.Unmarshal(buf[:n]) != nil || (src.PayloadType != 0 && pkt.PayloadType != src.PayloadType) || len(pkt.Payload) == 0 {
			continue
		}
		r.push(t, &pkt, r.now())
	}
	t.mu.Lock()
	t.in.sourceEnded(gen)
	t.mu.Unlock()
}

// push hands one packet to its track's ingest, or drops it on arrival when its speaker is not
// being recorded: it never reaches the file or the mix.
func (r *Recorder) push(t *track, pkt *rtp.Packet, arrival time.Time) {
	if !t.on.Load() {
		return
	}
	t.mu.Lock()
	t.in.push(pkt, arrival)
	t.mu.Unlock()
}

// readRTCP is a source's RTCP reader goroutine.
func (r *Recorder) readRTCP(t *track, src Source) {
	buf := make([]byte, 1500)
	for {
		n, err := src.ReadRTCP(buf)
		if err != nil {
			return
		}
		r.rtcp(t, buf[:n], r.ticks(r.now()))
	}
}

// rtcp takes one compound RTCP packet that arrived at tick arrival: its sender reports.
func (r *Recorder) rtcp(t *track, b []byte, arrival int64) {
	pkts, err := rtcp.Unmarshal(b)
	if err != nil {
		return
	}
	for _, p := range pkts {
		sr, ok := p.(*rtcp.SenderReport)
		if !ok {
			continue
		}
		r.clock.observeNTP(arrival - ntpTicks(sr.NTPTime))
		t.mu.Lock()
		t.in.senderReport(sr)
		t.mu.Unlock()
	}
}
