package ui

import (
	"time"

	"github.com/spacecast/spacecast/pkg/capture"
	"github.com/spacecast/spacecast/pkg/record"
)

// Observe shows a recording's events with p: the room's and the recorder's as they are, the
// start of recording as "joined", and warnings as "error" events worded by warning.
func Observe(p RecordPrinter, warning func(error) string) record.Observer {
	return record.ObserverFunc(func(e record.Event) {
		switch e.Kind {
		case record.KindCapture:
			p.Event(e.Capture)
		case record.KindJoined:
			p.Event(capture.Event{Time: e.Time, Type: capture.EventJoined, Message: e.Dir})
		case record.KindWarning:
			p.Event(capture.Event{Time: e.Time, Type: capture.EventError, Message: warning(e.Err)})
		}
	})
}

// StatusInterval is how often the status line is redrawn.
const StatusInterval = 250 * time.Millisecond

// Show waits for rec to finish, redrawing the status line every StatusInterval meanwhile, and
// returns what rec.Wait returns.
func Show(rec *record.Recording, p RecordPrinter) (*record.Result, error) {
	tick := time.NewTicker(StatusInterval)
	defer tick.Stop()
	for {
		select {
		case <-rec.Done():
			p.Clear()
			return rec.Wait()
		case <-tick.C:
			p.Update(rec.Stats(), rec.Dir())
		}
	}
}
