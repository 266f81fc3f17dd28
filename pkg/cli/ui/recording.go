package ui

import (
	"fmt"
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
		case record.KindUploadBehind:
			p.Event(capture.Event{Time: e.Time, At: e.Upload.At.Seconds(), Type: EventUploadBehind, Message: warning(e.Err), Cause: e.Upload.URL})
		case record.KindUploadCaughtUp:
			p.Event(capture.Event{Time: e.Time, At: e.Upload.At.Seconds(), Type: EventUploadCaughtUp, Cause: e.Upload.URL, Duration: e.Upload.Behind.Seconds()})
		case record.KindUploading:
			p.Event(capture.Event{Time: e.Time, At: e.Upload.At.Seconds(), Type: EventUploading, Cause: e.Upload.URL,
				Message: fmt.Sprintf("%d/%d %s (%d bytes)", e.Upload.N, e.Upload.Of, e.Upload.File, e.Upload.Bytes)})
		case record.KindUploaded:
			p.Event(capture.Event{Time: e.Time, At: e.Upload.At.Seconds(), Type: EventUploaded, Cause: e.Upload.URL,
				Message: fmt.Sprintf("%d files, %d bytes", e.Upload.Files, e.Upload.Bytes)})
		}
	})
}

// The events of a recording into a bucket, as 'record --json' prints them: Cause is the
// s3:// URL.
const (
	// EventUploadBehind: uploads fail (Message says why); the recording goes on into the spool.
	EventUploadBehind capture.EventKind = "upload-behind"
	// EventUploadCaughtUp: the bucket has everything again; Duration is how long it had not.
	EventUploadCaughtUp capture.EventKind = "upload-caught-up"
	// EventUploading: the finished session goes up, Message "N/M FILE (BYTES bytes)".
	EventUploading capture.EventKind = "uploading"
	// EventUploaded: the finished session is in the bucket, Message "N files, B bytes".
	EventUploaded capture.EventKind = "uploaded"
)

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
