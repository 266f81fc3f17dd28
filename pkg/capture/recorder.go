package capture

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/spacecast/spacecast/pkg/capture/jitter"
	"github.com/spacecast/spacecast/pkg/codec/opus"
	"github.com/spacecast/spacecast/pkg/ogg"
	"github.com/spacecast/spacecast/pkg/session"
)

// Options configures a Recorder.
type Options struct {
	// Dir is the session folder to create. It must not exist or be empty.
	Dir string
	// Retain sets the manifest's delete_after to the start plus Retain (0: no date).
	Retain time.Duration
	Room   session.Room
	// Latency is how long the jitter buffer waits for a missing packet (reordered or being
	// retransmitted after a NACK) before giving it up. Default 200 ms.
	Latency time.Duration
	// MixDelay is how far behind real time the live mix runs. Default Latency + 300 ms.
	MixDelay time.Duration
	// SyncInterval is how often track files are flushed and synced and the manifest rewritten.
	// Default 1 s: a crash loses at most this plus one packet of any track.
	SyncInterval time.Duration
	// OnEvent receives events (joined speakers, gaps, …), one at a time, from the recorder's goroutines.
	OnEvent func(Event)
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
	// Consent says whom to record: Policy "announced" (the default) or "assume" records everyone
	// but Exclude; "opt-in" records only Allow and those who signal consent (SetConsent), from
	// that moment until they withdraw it. Events is ignored: the recorder keeps the ledger.
	Consent session.Consent

	// manual leaves pumping to the caller (benchmarks drive a simulated clock).
	manual bool
}

// Recorder writes a session folder as a room runs: one Ogg Opus file per speaker with the packets
// as received, a live mix, and the manifest, rewritten atomically every SyncInterval. Adapters call
// Join, Leave, AddTrack and BeginGap; Close finalizes the session.
type Recorder struct {
	opts  Options
	dir   string
	start time.Time
	now   func() time.Time

	mu        sync.Mutex // guards the fields below
	man       *session.Manifest
	tracks    []*track
	people    map[string]*person
	order     []string // identities in order of first appearance
	closed    bool
	mediaSeen bool
	gate      gate
	pending   []Event // consent events to emit once r.mu is released
	nfiles    int     // track files opened

	ntpOffset atomic.Int64 // session ticks minus NTP ticks, smallest seen
	haveNTP   atomic.Bool

	evmu sync.Mutex // serialises OnEvent

	mix     *mixer
	mixFile *os.File
	silence []byte

	stop    chan struct{}
	done    chan struct{}
	failed  chan struct{}
	errOnce sync.Once
	err     error
	bad     atomic.Bool    // err is set
	wg      sync.WaitGroup // readers
}

type person struct {
	p        Participant
	presence []session.Interval
	in       bool
}

// track is one file: a speaker's audio, possibly from several sources one after another.
type track struct {
	id       string // empty until the track's file is opened (the speaker is recorded)
	identity string
	rel      string
	file     *os.File // nil until the speaker is first recorded
	tw       *TrackWriter
	channels int
	mi       int // index in Manifest.Tracks; -1 without a file
	samples  int64

	// on says whether packets are kept (the consent gate); written under r.mu, read per packet.
	on atomic.Bool

	pmu     sync.Mutex // guards streams, ended and the stats below (readers push, the loop pops)
	streams map[uint32]*stream
	active  bool // a source feeds this track
	ended   bool // the source ended; drain and release
	source  string
	stats   TrackStats
	sumSq   float64
	nSq     int
	// fresh: recording resumed; the next packet starts new jitter buffers (the old ones drain
	// what they hold in retired), so the skipped packets are neither loss nor concealed.
	fresh    bool
	retired  []*stream
	offAt    int64 // session tick recording of this file stopped (-1: it runs)
	offCause string
	offGaps  []session.Gap

	// Loop goroutine only.
	dec      *opus.Decoder
	pcm      []float32
	mono     []float32
	ring     *ring
	ssrcs    []uint32
	gaps     []session.Gap
	lastEnd  int64
	lastSSRC uint32
}

type stream struct {
	ssrc uint32
	jb   *jitter.Buffer
	pl   placer
}

// TrackStats is a live view of one track for a status line.
type TrackStats struct {
	ID, Identity, Name string
	Active             bool
	// Level is the RMS level of the last 100 ms in dBFS (-inf for silence).
	Level    float64
	Received uint64 // packets written
	Lost     uint64 // packets given up after the jitter buffer's wait
	Bytes    int64
}

// Stats is a live view of the whole recording.
type Stats struct {
	Elapsed  time.Duration
	Tracks   []TrackStats
	Bytes    int64
	Speakers int
}

// ErrExists says the session folder already holds files.
var ErrExists = errors.New("session folder exists and is not empty")

// ErrPolicy says the consent policy is not one the recorder knows.
var ErrPolicy = errors.New("unknown consent policy")

// Create makes the session folder and starts the recorder's clock: session tick 0 is now.
func Create(opts Options) (*Recorder, error) {
	if opts.Latency <= 0 {
		opts.Latency = 200 * time.Millisecond
	}
	if opts.MixDelay <= 0 {
		opts.MixDelay = opts.Latency + 300*time.Millisecond
	}
	if opts.SyncInterval <= 0 {
		opts.SyncInterval = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if entries, err := os.ReadDir(opts.Dir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("%s: %w: choose another folder or remove it", opts.Dir, ErrExists)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("capture: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(opts.Dir, "tracks"), 0o755); err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	r := &Recorder{
		opts:   opts,
		dir:    opts.Dir,
		now:    opts.Now,
		people: map[string]*person{},
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
		failed: make(chan struct{}),
	}
	r.start = r.now()
	room := opts.Room
	room.URL = session.RedactURL(room.URL) // the manifest keeps no credentials, whoever calls
	r.man = &session.Manifest{
		Format:    session.FormatName,
		Version:   session.Version,
		ID:        newID(),
		Room:      room,
		StartedAt: r.start.UTC().Truncate(time.Millisecond),
		ClockRate: session.ClockRate,
		Mix:       &session.MixFile{File: "mix.opus", Channels: 1},
	}
	if opts.Retain > 0 {
		r.man.DeleteAfter = r.man.StartedAt.Add(opts.Retain)
	}
	var err error
	if r.gate, err = newGate(opts.Consent); err != nil {
		return nil, err
	}
	r.man.Consent = &session.Consent{Policy: r.gate.policy, Allow: opts.Consent.Allow, Exclude: opts.Consent.Exclude,
		Events: []session.ConsentEvent{}}
	if r.silence, err = silencePacket(); err != nil {
		return nil, err
	}
	if r.mixFile, err = os.Create(filepath.Join(r.dir, "mix.opus")); err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	if r.mix, err = newMixer(r.mixFile); err != nil {
		r.mixFile.Close()
		return nil, err
	}
	if err := r.saveLocked(); err != nil {
		r.mixFile.Close()
		return nil, err
	}
	if opts.manual {
		close(r.done)
	} else {
		go r.loop()
	}
	return r, nil
}

// Dir is the session folder.
func (r *Recorder) Dir() string { return r.dir }

// Start is the wall-clock time of session tick 0.
func (r *Recorder) Start() time.Time { return r.start }

// Failed is closed when the recorder hit an error it cannot record through (the disk filled):
// call Close, which reports the error, and stop.
func (r *Recorder) Failed() <-chan struct{} { return r.failed }

func (r *Recorder) fail(err error) {
	r.errOnce.Do(func() {
		r.err = err
		r.bad.Store(true)
		close(r.failed)
		r.emit(Event{Type: "error", Message: err.Error()})
	})
}

// ticks is the session tick of wall-clock time t.
func (r *Recorder) ticks(t time.Time) int64 { return session.Ticks(t.Sub(r.start)) }

func (r *Recorder) emit(e Event) {
	if r.opts.OnEvent == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = r.now()
	}
	e.At = session.Duration(r.ticks(e.Time)).Seconds()
	r.evmu.Lock()
	defer r.evmu.Unlock()
	r.opts.OnEvent(e)
}

// Join records that a participant is in the room (again).
func (r *Recorder) Join(p Participant) {
	r.mu.Lock()
	joined := r.joinLocked(p)
	pending := r.takePendingLocked()
	r.mu.Unlock()
	if joined {
		r.emit(Event{Type: "participant-joined", Identity: p.Identity, Name: p.Name})
	}
	r.emitAll(pending)
}

func (r *Recorder) joinLocked(p Participant) bool {
	ps := r.people[p.Identity]
	if ps == nil {
		ps = &person{p: p}
		r.people[p.Identity] = ps
		r.order = append(r.order, p.Identity)
		r.firstSeenLocked(p.Identity)
	}
	if p.Name != "" {
		ps.p.Name = p.Name
	}
	if ps.in {
		return false
	}
	ps.in = true
	now := r.ticks(r.now())
	ps.presence = append(ps.presence, session.Interval{StartTicks: now, EndTicks: now})
	return true
}

// Leave records that a participant left the room.
func (r *Recorder) Leave(identity string) {
	r.mu.Lock()
	ps := r.people[identity]
	left := ps != nil && ps.in
	if left {
		ps.in = false
		ps.presence[len(ps.presence)-1].EndTicks = r.ticks(r.now())
	}
	r.mu.Unlock()
	if left {
		r.emit(Event{Type: "participant-left", Identity: identity})
	}
}

// BeginGap marks the start of a stretch where the recorder itself hears nothing (reconnecting,
// paused); calling the returned function ends it and records it in the manifest. The gap starts
// at since when that is earlier (the adapter noticed a dead network only after it went quiet), and
// never before the session.
func (r *Recorder) BeginGap(cause string, since time.Time) (end func()) {
	start := r.now()
	if !since.IsZero() && since.Before(start) {
		start = since
	}
	if start.Before(r.start) {
		start = r.start
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			g := session.Gap{StartTicks: r.ticks(start), DurationTicks: r.ticks(r.now()) - r.ticks(start), Cause: cause}
			r.mu.Lock()
			r.man.Gaps = append(r.man.Gaps, g)
			r.mu.Unlock()
			r.emit(Event{Type: "gap", Time: start, Cause: cause, Duration: session.Duration(g.DurationTicks).Seconds()})
		})
	}
}

// Speakers is the number of tracks a source feeds right now.
func (r *Recorder) Speakers() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, t := range r.tracks {
		t.pmu.Lock()
		if t.active {
			n++
		}
		t.pmu.Unlock()
	}
	return n
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
	if r.people[src.Participant] == nil || !r.people[src.Participant].in {
		r.joinLocked(Participant{Identity: src.Participant})
	}
	var t *track
	var left *track // whose ended source this one replaces before the loop noticed
	for _, c := range r.tracks {
		c.pmu.Lock()
		// A track is free once its source ended, whether or not the loop has retired it yet: a
		// reconnect's new source may come within the loop's tick of the old one's end.
		free := c.identity == src.Participant && (!c.active || c.ended)
		if free {
			if c.ended { // the loop's part: what the old source left in its jitter buffers drains
				for _, s := range c.streams {
					c.retired = append(c.retired, s)
				}
				c.streams, c.ended = map[uint32]*stream{}, false
				if c.active {
					left = c
				}
			}
			c.active, c.source = true, src.ID
		}
		c.pmu.Unlock()
		if free {
			t = c
			break
		}
	}
	if t == nil {
		var err error
		if t, err = r.newTrackLocked(src); err != nil {
			r.mu.Unlock()
			r.fail(err)
			return err
		}
		r.tracks = append(r.tracks, t)
	}
	if err := r.gateLocked(t); err != nil {
		r.mu.Unlock()
		r.fail(err)
		return err
	}
	name := r.people[src.Participant].p.Name
	id := t.id
	pending := r.takePendingLocked()
	r.mu.Unlock()
	r.emitAll(pending)
	if left != nil {
		r.emit(Event{Type: "speaker-left", Identity: left.identity, Track: id})
	}
	r.emit(Event{Type: "speaker-joined", Identity: src.Participant, Name: name, Track: id})

	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.readRTP(t, src)
	}()
	if src.ReadRTCP != nil {
		go r.readRTCP(t, src)
	}
	return nil
}

// newTrackLocked makes a track for a new source. Its file is opened only once its speaker is
// recorded (openLocked): a person never recorded has no file at all.
func (r *Recorder) newTrackLocked(src Source) (*track, error) {
	dec, err := opus.NewDecoder(src.Channels)
	if err != nil {
		return nil, err
	}
	t := &track{
		identity: src.Participant, channels: src.Channels, mi: -1, offAt: -1,
		streams: map[uint32]*stream{}, active: true, source: src.ID, stats: TrackStats{Level: math.Inf(-1)},
		dec: dec, pcm: make([]float32, 5760*src.Channels), mono: make([]float32, 5760), ring: new(ring),
		lastEnd: -1,
	}
	return t, nil
}

// openLocked creates the track's file and its manifest entry.
func (r *Recorder) openLocked(t *track) error {
	id := fmt.Sprintf("t%d", r.nfiles+1)
	rel := fmt.Sprintf("tracks/%s-%s.opus", id, slug(t.identity))
	f, err := os.Create(filepath.Join(r.dir, filepath.FromSlash(rel)))
	if err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	tw, err := NewTrackWriter(f, t.channels, []TrackOption{WithSilence(r.silence, 30*time.Second)},
		ogg.WithMaxPageDuration(r.opts.SyncInterval))
	if err != nil {
		f.Close()
		return err
	}
	r.nfiles++
	t.pmu.Lock()
	t.id, t.rel, t.file, t.tw, t.mi = id, rel, f, tw, len(r.man.Tracks)
	t.pmu.Unlock()
	r.man.Tracks = append(r.man.Tracks, session.Track{
		ID: id, Participant: t.identity, File: rel, Codec: "opus", Channels: t.channels,
		Timeline: []session.Anchor{{}},
	})
	return nil
}

func (r *Recorder) readRTP(t *track, src Source) {
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
	t.pmu.Lock()
	t.ended = true
	t.pmu.Unlock()
}

// push hands one packet to its stream's jitter buffer, or drops it on arrival when its speaker is
// not being recorded: it never reaches the file or the mix.
func (r *Recorder) push(t *track, pkt *rtp.Packet, arrival time.Time) {
	if !t.on.Load() {
		return
	}
	t.pmu.Lock()
	if t.fresh {
		t.restartStreamsLocked(r.opts.Latency)
	}
	t.streamLocked(pkt.SSRC, r.opts.Latency).jb.Push(pkt, arrival)
	t.pmu.Unlock()
}

func (t *track) streamLocked(ssrc uint32, latency time.Duration) *stream {
	s := t.streams[ssrc]
	if s == nil {
		s = &stream{ssrc: ssrc, jb: jitter.New(jitter.WithLatency(latency))}
		t.streams[ssrc] = s
	}
	return s
}

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
		r.observeNTP(arrival - ntpTicks(sr.NTPTime))
		// Only for a stream this track carries: a server may send one compound packet with the
		// reports of every stream it sends, and a report before a stream's first packet is
		// followed by another within seconds.
		t.pmu.Lock()
		if st := t.streams[sr.SSRC]; st != nil {
			st.pl.senderReport(sr)
		}
		t.pmu.Unlock()
	}
}

// observeNTP keeps the smallest arrival-minus-NTP offset seen: the report that travelled fastest.
// A report that arrives late (queued before its track was read, a slow path) only ever has a
// larger offset and changes nothing, so one outlier cannot move every speaker.
func (r *Recorder) observeNTP(off int64) {
	for {
		cur := r.ntpOffset.Load()
		if r.haveNTP.Load() && cur <= off {
			return
		}
		if r.ntpOffset.CompareAndSwap(cur, off) {
			r.haveNTP.Store(true)
			return
		}
	}
}

// loopInterval is how often the timer loop pops, mixes and (every SyncInterval) syncs.
const loopInterval = 10 * time.Millisecond

// stallTicks is for how many ticks after a stall of the timer loop it decides nothing by the time
// that passed during the stall. A tick more than two intervals late means the whole process was
// held up (a loaded machine, a long GC pause), the readers with it, and what arrived meanwhile
// still waits in their sockets: the jitter buffers' waits ran out during the stall without the
// readers having had a turn. So for this many ticks the loop pops as of the stall's start,
// releasing packets in sequence but giving up none a reader is about to deliver (a retransmission).
// Two ticks are at least one full interval for the readers to catch up; counted in ticks, not in
// time, so a simulated clock that stands still cannot hold the loop back for ever.
const stallTicks = 2

// loopClock is the timer loop's own state.
type loopClock struct {
	last     time.Time // when the loop last ran
	frozen   time.Time // the time it pops as of while hold > 0
	hold     int       // ticks left that pop as of frozen
	lastSync time.Time
}

// loop pops packets in order, writes them and the live mix, and syncs the session to disk.
func (r *Recorder) loop() {
	defer close(r.done)
	tick := time.NewTicker(loopInterval)
	defer tick.Stop()
	now := r.now()
	c := loopClock{last: now, lastSync: now}
	for {
		select {
		case <-r.stop:
			return
		case <-tick.C:
		}
		r.step(&c, r.now())
	}
}

// step is one tick of the timer loop at now.
func (r *Recorder) step(c *loopClock, now time.Time) {
	if now.Sub(c.last) > 2*loopInterval {
		c.frozen, c.hold = c.last.Add(loopInterval), stallTicks
	}
	c.last = now
	at := now
	if c.hold > 0 {
		at, c.hold = c.frozen, c.hold-1
	}
	r.pump(at, false)
	if err := r.mix.mixUntil(r.ticks(at)-session.Ticks(r.opts.MixDelay), r.rings()); err != nil {
		r.fail(err)
	}
	if now.Sub(c.lastSync) >= r.opts.SyncInterval {
		c.lastSync = now
		if err := r.sync(); err != nil {
			r.fail(err)
		}
	}
}

func (r *Recorder) snapshot() []*track {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*track(nil), r.tracks...)
}

func (r *Recorder) rings() []*ring {
	ts := r.snapshot()
	rs := make([]*ring, len(ts))
	for i, t := range ts {
		rs[i] = t.ring
	}
	return rs
}

// pump writes every packet the jitter buffers release by now; drain releases everything.
func (r *Recorder) pump(now time.Time, drain bool) {
	for _, t := range r.snapshot() {
		t.pmu.Lock()
		ended := t.ended
		at := now
		if drain || ended {
			at = now.Add(time.Hour)
		}
		for _, s := range t.retired { // what was received before recording stopped
			r.popAll(t, s, now.Add(time.Hour))
		}
		t.retired = nil
		for _, s := range t.streams {
			r.popAll(t, s, at)
		}
		left := ended && t.active
		if ended {
			t.active, t.ended, t.streams = false, false, map[uint32]*stream{}
		}
		t.pmu.Unlock()
		if left {
			r.emit(Event{Type: "speaker-left", Identity: t.identity, Track: t.id})
		}
	}
}

// popAll writes every packet s releases by at. Called with t.pmu held.
func (r *Recorder) popAll(t *track, s *stream, at time.Time) {
	for {
		out, ok := s.jb.Pop(at)
		if !ok {
			return
		}
		if !r.bad.Load() && t.tw != nil {
			if err := r.write(t, s, out); err != nil {
				r.fail(err)
			}
		}
		s.jb.Release(out)
	}
}

// write puts one released packet into the track's file and the mix. Called with t.pmu held.
func (r *Recorder) write(t *track, s *stream, out jitter.Out) error {
	if out.Reset {
		s.pl.reset()
	}
	at := s.pl.place(out.TS, r.ticks(out.Arrival), r.ntpOffset.Load(), r.haveNTP.Load())
	n, err := ogg.PacketSamples(out.Payload)
	if err != nil || n == 0 {
		t.stats.Lost++ // not an Opus packet: as good as lost
		return nil
	}
	if len(t.ssrcs) == 0 || t.ssrcs[len(t.ssrcs)-1] != s.ssrc {
		t.ssrcs = appendUnique(t.ssrcs, s.ssrc)
	}
	write := t.tw.WritePacket
	if !out.Reset && out.Lost == 0 && out.TSDelta > 0 && out.TSDelta <= int64(n) && t.lastSSRC == s.ssrc {
		write = t.tw.WriteContiguous
	}
	t.lastSSRC = s.ssrc
	if err := write(out.Payload, at); err != nil {
		return fmt.Errorf("track %s (%s): %w", t.id, t.identity, err)
	}
	if out.Lost > 0 {
		t.stats.Lost += uint64(out.Lost)
		t.lost(t.tw.Placed(), out, n, r.mix.pos)
	}
	// The mix takes the packet where the file's timeline put it: placement noise within the
	// tolerance neither tears nor doubles the mix.
	if err := t.decode(out.Payload, t.tw.Placed(), r.mix.pos); err != nil {
		t.stats.Lost++
	}
	t.stats.Received++
	t.stats.Bytes += int64(len(out.Payload))
	t.lastEnd = max(t.lastEnd, at+int64(n))
	return nil
}

// lost records a loss right before the packet the file's timeline put at tick at, and conceals
// it in the mix: forward error correction from this packet for the last lost frame, concealment
// for the ones before. Each gap is as long as the packets lost, so the gaps add up to the loss; a
// gap that would overlap the one before (the timeline moved back) continues it instead.
func (t *track) lost(at int64, out jitter.Out, n int, floor int64) {
	dur := int64(out.Lost) * int64(n)
	start := at - dur
	if k := len(t.gaps) - 1; k >= 0 && t.gaps[k].Cause == "loss" && t.gaps[k].StartTicks+t.gaps[k].DurationTicks > start {
		t.gaps[k].DurationTicks += dur
	} else {
		t.gaps = append(t.gaps, session.Gap{StartTicks: start, DurationTicks: dur, Cause: "loss"})
	}
	conceal := min(out.Lost, 5) // longer losses fade to silence anyway
	for i := conceal; i >= 1; i-- {
		pcm := t.pcm[:n*t.channels]
		var err error
		if i == 1 {
			err = t.dec.DecodeFEC(out.Payload, pcm)
		} else {
			err = t.dec.DecodePLC(pcm, n)
		}
		if err != nil {
			return
		}
		t.toRing(pcm, at-int64(i)*int64(n), floor)
	}
}

func (t *track) decode(pkt []byte, at int64, floor int64) error {
	got, err := t.dec.Decode(pkt, t.pcm)
	if err != nil {
		return err
	}
	t.toRing(t.pcm[:got*t.channels], at, floor)
	return nil
}

// toRing downmixes decoded audio into the track's ring and keeps the level meter.
func (t *track) toRing(pcm []float32, at int64, floor int64) {
	frames := len(pcm) / t.channels
	mono := t.mono[:frames]
	if t.channels == 2 {
		for i := range mono {
			mono[i] = (pcm[2*i] + pcm[2*i+1]) / 2
		}
	} else {
		copy(mono, pcm)
	}
	for _, s := range mono {
		t.sumSq += float64(s) * float64(s)
	}
	t.nSq += frames
	if t.nSq >= 4800 {
		t.stats.Level = 10 * math.Log10(t.sumSq/float64(t.nSq))
		t.sumSq, t.nSq = 0, 0
	}
	t.ring.write(at, mono, floor)
}

func appendUnique(s []uint32, v uint32) []uint32 {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// sync flushes every file to disk and rewrites the manifest to match.
func (r *Recorder) sync() error {
	for _, t := range r.snapshot() {
		t.pmu.Lock()
		if t.tw == nil {
			t.pmu.Unlock()
			continue
		}
		err := t.tw.Flush()
		t.pmu.Unlock()
		if err == nil {
			err = t.file.Sync()
		}
		if err != nil {
			return fmt.Errorf("track %s (%s): %w", t.id, t.identity, err)
		}
	}
	if err := r.mix.w.Flush(); err != nil {
		return err
	}
	if err := r.mixFile.Sync(); err != nil {
		return fmt.Errorf("mix: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.saveLocked()
}

// saveLocked brings the manifest up to date and writes it atomically.
func (r *Recorder) saveLocked() error {
	now := r.ticks(r.now())
	m := r.man
	m.Participants = m.Participants[:0]
	for _, id := range r.order {
		ps := r.people[id]
		pres := append([]session.Interval(nil), ps.presence...)
		if ps.in && len(pres) > 0 {
			pres[len(pres)-1].EndTicks = now
		}
		m.Participants = append(m.Participants, session.Participant{Identity: id, Name: ps.p.Name, Presence: pres})
	}
	dur := r.mix.pos
	for _, t := range r.tracks {
		t.pmu.Lock()
		if t.tw == nil {
			t.pmu.Unlock()
			continue
		}
		mt := &m.Tracks[t.mi]
		mt.Timeline = t.tw.Timeline()
		if len(mt.Timeline) == 0 {
			mt.Timeline = []session.Anchor{{}}
		}
		mt.SSRCs = append(mt.SSRCs[:0], t.ssrcs...)
		mt.Gaps = t.allGapsLocked(mt.Gaps[:0], now)
		mt.Samples = t.samples
		if t.lastEnd > dur {
			dur = t.lastEnd
		}
		t.pmu.Unlock()
	}
	for _, g := range m.Gaps { // a room-wide gap at the end (a lost server) is part of the session
		dur = max(dur, g.StartTicks+g.DurationTicks)
	}
	m.DurationTicks = dur
	b, err := m.Marshal()
	if err != nil {
		return err
	}
	if err := session.WriteFileAtomic(filepath.Join(r.dir, session.ManifestName), b, 0o644); err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	return nil
}

// Stats is a snapshot for a status line.
func (r *Recorder) Stats() Stats {
	st := Stats{Elapsed: r.now().Sub(r.start)}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range r.tracks {
		t.pmu.Lock()
		if t.tw == nil { // not recorded: not shown
			t.pmu.Unlock()
			continue
		}
		ts := t.stats
		ts.ID, ts.Identity, ts.Active = t.id, t.identity, t.active
		t.pmu.Unlock()
		if ps := r.people[t.identity]; ps != nil {
			ts.Name = ps.p.Name
		}
		if ts.Active {
			st.Speakers++
		}
		st.Bytes += ts.Bytes
		st.Tracks = append(st.Tracks, ts)
	}
	return st
}

// Close stops recording: what the jitter buffers hold is written, every file is closed, the mix
// ends where the last speaker ended, and the manifest is saved finalized. Adapters must have
// stopped delivering (their sources return errors) first. It returns the error that made the
// recorder fail, if one did.
func (r *Recorder) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return r.err
	}
	r.closed = true
	r.mu.Unlock()
	close(r.stop)
	<-r.done
	r.pump(r.now(), true)
	r.endPause()

	var errs []error
	if r.err != nil {
		errs = append(errs, r.err)
	}
	end := r.mix.pos
	for _, t := range r.snapshot() {
		end = max(end, t.lastEnd)
	}
	end = max(end, r.ticks(r.now())-session.Ticks(r.opts.MixDelay))
	if !r.bad.Load() {
		if err := r.mix.mixUntil((end+mixFrame-1)/mixFrame*mixFrame, r.rings()); err != nil {
			errs = append(errs, err)
		}
	}
	if err := r.mix.w.Close(); err != nil {
		errs = append(errs, fmt.Errorf("mix: %w", err))
	}
	errs = append(errs, r.mixFile.Sync(), r.mixFile.Close())
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range r.tracks {
		if t.tw == nil {
			continue
		}
		if err := t.tw.Close(); err != nil {
			errs = append(errs, fmt.Errorf("track %s: %w", t.id, err))
		}
		errs = append(errs, t.file.Sync(), t.file.Close())
		t.pmu.Lock()
		t.samples = t.tw.Samples()
		t.pmu.Unlock()
	}
	for _, ps := range r.people {
		if ps.in {
			ps.in = false
			ps.presence[len(ps.presence)-1].EndTicks = r.ticks(r.now())
		}
	}
	if err := errors.Join(errs...); err != nil {
		// Leave the manifest of the last sync: it matches what is on disk (`spacecast recover`
		// finishes the job once there is room).
		r.emit(Event{Type: "stopped", Message: err.Error()})
		return err
	}
	r.man.Finalized = true
	r.man.EndedAt = r.now().UTC().Truncate(time.Millisecond)
	if err := r.saveLocked(); err != nil {
		return err
	}
	r.emit(Event{Type: "stopped"})
	return nil
}

// silencePacket is a 20 ms Opus packet that decodes to silence, for filling DTX and mute in files.
func silencePacket() ([]byte, error) {
	pkt, err := opus.SilencePacket()
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	return pkt, nil
}

func slug(s string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
			b.WriteRune(c)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
		if b.Len() >= 40 {
			break
		}
	}
	out := strings.Trim(b.String(), "-")
	if out == "" {
		return "speaker"
	}
	return out
}

func newID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
