package demo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v3"

	"github.com/spacecast/spacecast"
	"github.com/spacecast/spacecast/pkg/ogg"
	"github.com/spacecast/spacecast/pkg/room/rtc"
	"github.com/spacecast/spacecast/pkg/room/whep/whepserver"
	"github.com/spacecast/spacecast/pkg/session"
)

// RoomOptions configures StartRoom.
type RoomOptions struct {
	// Session is the demo session folder (manifest.json and tracks/). Nil plays the bundled one,
	// spacecast.DemoSession.
	Session fs.FS
	// Length shortens the room (see Script); 0 plays the whole session (about 110 s).
	Length time.Duration
	// Addr is where the WHEP endpoint listens, a loopback address (default 127.0.0.1:0, a free port).
	Addr string
	// BearerToken, when set, is required from viewers.
	BearerToken string
	// RTC is where media flows; the zero value is loopback only.
	RTC rtc.Options
}

// Play is what the room played of a stint.
type Play struct {
	Stint
	// Start is the wall-clock time the stint's first RTP packet was due: every packet of the stint
	// is sent at Start plus its offset in the stint. FirstSample is the file's media sample at the
	// start of that packet (at most FromSample: packets are whole, and the file's first packet
	// starts pre-skip samples before media sample 0). Late is how much after Start the first packet
	// actually left.
	Start       time.Time
	FirstSample int64
	Late        time.Duration
	// Sent is how many samples were sent, from FirstSample; End is when the last packet was sent.
	Sent int64
	End  time.Time
	// FirstTimestamp is the RTP timestamp of the first packet (the speaker's RTP clock runs on
	// through pauses: a pause is a timestamp jump with sequence numbers contiguous).
	FirstTimestamp uint32
}

// At returns the wall-clock time the file's media sample plays in this stint.
func (p Play) At(sample int64) time.Time {
	return p.Start.Add(session.Duration(sample - p.FirstSample))
}

// Room is a running demo room.
type Room struct {
	url      string
	stints   []Stint
	speakers []Speaker
	length   time.Duration
	files    fs.FS
	tracks   map[string]*webrtc.TrackLocalStaticRTP
	srv      *whepserver.Server
	hs       *http.Server

	startOnce sync.Once
	started   chan struct{}
	done      chan struct{}
	stop      chan struct{}
	stopOnce  sync.Once

	mu      sync.Mutex
	startAt time.Time
	plays   []Play
	err     error
}

// StartRoom starts the room's WHEP endpoint; the speakers start talking half a second after the
// first viewer's media connection is up, and the room ends (every viewer gets an RTCP BYE, new offers 404) when
// the script has played or ctx ends.
func StartRoom(ctx context.Context, o RoomOptions) (*Room, error) {
	if o.Session == nil {
		sub, err := fs.Sub(spacecast.DemoSession, "testdata/demo/session")
		if err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		o.Session = sub
	}
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if len(o.RTC.Interfaces) == 0 {
		o.RTC.Loopback = true
	}
	host, _, err := net.SplitHostPort(o.Addr)
	if err != nil {
		return nil, fmt.Errorf("demo: listen address %q: %v (use 127.0.0.1:PORT)", o.Addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("demo: listen address %q is not a loopback address: the demo room stays on this machine (use 127.0.0.1:PORT)", o.Addr)
	}
	stints, speakers, length, err := Script(o.Session, o.Length)
	if err != nil {
		return nil, err
	}
	r := &Room{stints: stints, speakers: speakers, length: length, files: o.Session,
		tracks:  map[string]*webrtc.TrackLocalStaticRTP{},
		started: make(chan struct{}), done: make(chan struct{}), stop: make(chan struct{})}
	var locals []webrtc.TrackLocal
	for _, s := range speakers {
		tr, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, s.Identity+"-mic", s.Identity)
		if err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		r.tracks[s.Identity] = tr
		locals = append(locals, tr)
	}
	r.srv, err = whepserver.New(whepserver.Options{Tracks: locals, BearerToken: o.BearerToken, RTC: o.RTC,
		OnConnect: func(string) { r.startOnce.Do(func() { close(r.started) }) }})
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	const path = "/whep/demo"
	mux := http.NewServeMux()
	mux.Handle(path, r.srv)
	mux.Handle(path+"/", r.srv)
	r.hs = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	r.url = "http://" + l.Addr().String() + path
	go r.hs.Serve(l)
	go r.run(ctx)
	return r, nil
}

// URL is the WHEP endpoint: spacecast record URL records the room.
func (r *Room) URL() string { return r.url }

// Script is what the room will play.
func (r *Room) Script() []Stint { return append([]Stint(nil), r.stints...) }

// Speakers are the people in the room; their identities are their tracks' stream ids.
func (r *Room) Speakers() []Speaker { return append([]Speaker(nil), r.speakers...) }

// Length is how long the room talks from StartedAt.
func (r *Room) Length() time.Duration { return r.length }

// StartedAt is the time the script counts from (zero before Started is closed).
func (r *Room) StartedAt() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.startAt
}

// Started is closed when the first viewer is connected and the speakers start.
func (r *Room) Started() <-chan struct{} { return r.started }

// Done is closed when the room has ended.
func (r *Room) Done() <-chan struct{} { return r.done }

// Plays returns what was played so far, in the order the stints started.
func (r *Room) Plays() []Play {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Play(nil), r.plays...)
}

// Err is the error that stopped a speaker (an unreadable file), once Done is closed.
func (r *Room) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Close ends the room and stops its endpoint.
func (r *Room) Close() error {
	r.stopOnce.Do(func() { close(r.stop) })
	<-r.done
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return r.hs.Shutdown(ctx)
}

func (r *Room) run(ctx context.Context) {
	defer close(r.done)
	defer r.srv.Close()
	select {
	case <-r.started:
	case <-r.stop:
		return
	case <-ctx.Done():
		return
	}
	// Half a second of room tone first: a recorder that just joined is reading by then, so the
	// first words are not stamped with the time they sat in its receive buffer.
	start := time.Now().Add(leadIn)
	r.mu.Lock()
	r.startAt = start
	r.mu.Unlock()
	quit := make(chan struct{})
	var wg sync.WaitGroup
	for _, sp := range r.speakers {
		var mine []Stint
		for _, s := range r.stints {
			if s.Speaker == sp.Identity {
				mine = append(mine, s)
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.speak(start, r.tracks[sp.Identity], mine, quit); err != nil {
				r.mu.Lock()
				r.err = errors.Join(r.err, err)
				r.mu.Unlock()
			}
		}()
	}
	ended := make(chan struct{})
	go func() {
		wg.Wait()
		close(ended)
	}()
	select {
	case <-ended:
		wait := time.Until(start.Add(r.length))
		select {
		case <-time.After(wait):
		case <-r.stop:
		case <-ctx.Done():
		}
	case <-r.stop:
	case <-ctx.Done():
	}
	close(quit)
	<-ended
}

// leadIn is how long after the first viewer connects the speakers start.
const leadIn = 500 * time.Millisecond

// speaker is one voice's RTP state: sequence numbers run on across its stints and the timestamp
// follows the wall clock through pauses, as a muted microphone forwarded by an SFU would.
type speaker struct {
	track  *webrtc.TrackLocalStaticRTP
	seq    uint16
	tsBase uint32
	origin time.Time // wall-clock time of timestamp tsBase
	begun  bool
}

func (r *Room) speak(start time.Time, tr *webrtc.TrackLocalStaticRTP, stints []Stint, quit <-chan struct{}) error {
	sp := &speaker{track: tr, seq: uint16(rand.Uint32()), tsBase: rand.Uint32()}
	for _, s := range stints {
		if err := r.play(sp, start.Add(s.At), s, quit); err != nil {
			if errors.Is(err, errQuit) {
				return nil
			}
			return err
		}
	}
	return nil
}

var errQuit = errors.New("room ended")

// play sends one stint's packets at real time from at.
func (r *Room) play(sp *speaker, at time.Time, s Stint, quit <-chan struct{}) error {
	f, err := r.files.Open(s.File)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer f.Close()
	rd, err := ogg.NewOpusReader(f)
	if err != nil {
		return fmt.Errorf("demo: %s: %w", s.File, err)
	}
	preSkip := int64(rd.Head().PreSkip)
	if !sp.begun {
		sp.begun, sp.origin = true, at
	}
	ts0 := sp.tsBase + uint32(session.Ticks(at.Sub(sp.origin)))
	var raw, first int64 // raw: samples of the file before this packet, pre-skip included
	started := false
	idx := -1
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for {
		pkt, _, err := rd.ReadPacket()
		if err != nil {
			break // end of the file: the stint is over
		}
		n, err := ogg.PacketSamples(pkt)
		if err != nil {
			return fmt.Errorf("demo: %s: %w", s.File, err)
		}
		pos := raw - preSkip // media sample at the start of this packet
		raw += int64(n)
		if raw-preSkip <= s.FromSample {
			continue // before the stint
		}
		if !started {
			started, first = true, pos
		}
		if pos >= s.FromSample+s.Samples {
			break
		}
		off := pos - first
		timer.Reset(time.Until(at.Add(session.Duration(off))))
		select {
		case <-timer.C:
		case <-quit:
			return errQuit
		}
		p := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: rtc.OpusPayloadType, SequenceNumber: sp.seq,
			Timestamp: ts0 + uint32(off), Marker: off == 0}, Payload: pkt}
		// An error here is one viewer's connection closing under the write: the others still hear.
		_ = sp.track.WriteRTP(p)
		now := time.Now()
		sp.seq++
		r.mu.Lock()
		if idx < 0 {
			idx = len(r.plays)
			r.plays = append(r.plays, Play{Stint: s, Start: at, Late: now.Sub(at), FirstSample: pos, FirstTimestamp: p.Timestamp})
		}
		r.plays[idx].Sent = off + int64(n)
		r.plays[idx].End = now
		r.mu.Unlock()
	}
	return nil
}
