package capture

import (
	"fmt"
	"time"

	"github.com/spacecast/spacecast/pkg/session"
)

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

// loop is the timer loop: it pops packets in order, writes them and the live mix, and syncs the
// session to disk.
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
	first := r.pump(at, false)
	if err := r.mixTo(at); err != nil {
		r.fail(err)
	}
	// A speaker's first audio is synced at once rather than up to SyncInterval later: it is on
	// disk (and in the manifest) the moment it is written, for a recorder that dies in its first
	// second and for whoever waits for a room's first audio.
	if first || now.Sub(c.lastSync) >= r.opts.SyncInterval {
		c.lastSync = now
		if err := r.sync(); err != nil {
			r.fail(err)
		}
	}
}

// snapshot is the tracks so far.
func (r *Recorder) snapshot() []*track {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*track(nil), r.tracks...)
}

func (r *Recorder) rings() []*ring {
	ts := r.snapshot()
	rs := make([]*ring, len(ts))
	for i, t := range ts {
		rs[i] = t.voice.ring
	}
	return rs
}

// pump writes every packet the jitter buffers release by now into the files and the mix; drain
// releases everything. first reports that a track file got its first packet.
func (r *Recorder) pump(now time.Time, drain bool) (first bool) {
	floor := r.mix.pos
	for _, t := range r.snapshot() {
		var failed error
		t.mu.Lock()
		empty := t.file == nil || t.file.received == 0
		left := t.in.pop(now, drain, func(f frame) {
			if failed != nil || r.bad.Load() || t.file == nil {
				return
			}
			failed = t.write(f, floor)
		})
		id := t.id()
		first = first || empty && t.file != nil && t.file.received > 0
		t.mu.Unlock()
		if failed != nil {
			r.fail(failed)
		}
		if left {
			r.emit(Event{Type: EventSpeakerLeft, Identity: t.identity, Track: id})
		}
	}
	return first
}

// mixTo mixes what the rings hold up to MixDelay before at.
func (r *Recorder) mixTo(at time.Time) error {
	return r.mix.mixUntil(r.ticks(at)-session.Ticks(r.opts.MixDelay), r.rings())
}

// sync flushes every file to disk and rewrites the manifest to match.
func (r *Recorder) sync() error {
	for _, t := range r.snapshot() {
		t.mu.Lock()
		f := t.file
		var err error
		if f != nil {
			err = f.tw.Flush()
		}
		t.mu.Unlock()
		if f == nil {
			continue
		}
		if err == nil {
			err = f.f.Sync()
		}
		if err != nil {
			return fmt.Errorf("track %s (%s): %w", f.id, f.identity, err)
		}
	}
	if err := r.mix.sync(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.saveLocked()
}

// saveLocked brings the manifest up to date and writes it atomically.
func (r *Recorder) saveLocked() error {
	now := r.ticks(r.now())
	m := r.w.man
	m.Participants = r.roster.participants(m.Participants[:0], now)
	m.Consent.Events = r.gate.ledger
	end := r.mix.pos
	for _, t := range r.tracks {
		t.mu.Lock()
		if t.file != nil {
			t.file.entry(&m.Tracks[t.file.mi], now)
			end = max(end, t.file.lastEnd)
		}
		t.mu.Unlock()
	}
	return r.w.save(end)
}
