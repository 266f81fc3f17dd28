package capture

import "time"

// The Recorder's consent calls: each changes the gate under the Recorder's lock, brings every
// track in line with it, and emits the ledger's events once the lock is released.

// SetConsent takes a person's own signal: given true from the moment they consent, false from
// the moment they withdraw. Under "opt-in" it starts or stops their recording; under the other
// policies it is only written to the ledger. A repeat of the current state changes nothing.
func (r *Recorder) SetConsent(identity string, given bool, reason string) {
	r.mu.Lock()
	if r.closed || !r.gate.setConsent(r.stamp(), identity, given, reason) {
		r.mu.Unlock()
		return
	}
	err := r.applyLocked()
	pending := r.gate.takeEvents()
	r.mu.Unlock()
	r.emitAll(pending)
	if err != nil {
		r.fail(err)
	}
}

// Pause stops recording everyone until Resume: a "paused" gap in the session and in every track.
// It reports false when the recorder was already paused (or closed).
func (r *Recorder) Pause(reason string) bool {
	r.mu.Lock()
	if r.closed || !r.gate.pause(r.stamp(), reason) {
		r.mu.Unlock()
		return false
	}
	err := r.applyLocked()
	pending := r.gate.takeEvents()
	r.mu.Unlock()
	end := r.BeginGap("paused", time.Time{})
	r.mu.Lock()
	r.gate.endGap = end
	r.mu.Unlock()
	r.emitAll(pending)
	if err != nil {
		r.fail(err)
	}
	return true
}

// Resume ends a Pause. It reports false when the recorder was not paused (or closed).
func (r *Recorder) Resume(reason string) bool {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return false
	}
	end, ok := r.gate.resume(r.stamp(), reason)
	if !ok {
		r.mu.Unlock()
		return false
	}
	err := r.applyLocked()
	pending := r.gate.takeEvents()
	r.mu.Unlock()
	if end != nil {
		end()
	}
	r.emitAll(pending)
	if err != nil {
		r.fail(err)
	}
	return true
}

// Paused says whether the recorder is paused.
func (r *Recorder) Paused() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.gate.paused
}

// endPause closes a pause still running when the recorder closes: its gap runs to the end.
func (r *Recorder) endPause() {
	r.mu.Lock()
	end := r.gate.endGap
	r.gate.endGap = nil
	r.mu.Unlock()
	if end != nil {
		end()
	}
}

// applyLocked brings every track's gate in line with the consent state.
func (r *Recorder) applyLocked() error {
	var first error
	for _, t := range r.tracks {
		if err := r.gateLocked(t); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// gateLocked opens or closes one track's gate. A track recorded for the first time gets its file
// now; one that stops gets a gap ("paused" or "not-recording") until it starts again, and its
// streams restart when it does.
func (r *Recorder) gateLocked(t *track) error {
	want := r.gate.wants(t.identity)
	if want == t.on.Load() {
		return nil
	}
	now := r.ticks(r.now())
	if !want {
		t.on.Store(false)
		t.mu.Lock()
		if t.file != nil {
			t.file.stop(now, r.gate.offCause())
		}
		t.mu.Unlock()
		return nil
	}
	if t.file == nil {
		f, err := r.w.open(t.identity, t.channels)
		if err != nil {
			return err
		}
		t.mu.Lock()
		t.file = f
		t.mu.Unlock()
	} else {
		t.mu.Lock()
		t.file.resume(now)
		t.in.restart()
		t.mu.Unlock()
	}
	t.on.Store(true)
	return nil
}
