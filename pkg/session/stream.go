package session

import (
	"errors"
	"fmt"
	"io"

	"github.com/spacecast/spacecast/pkg/audio"
	"github.com/spacecast/spacecast/pkg/codec/opus"
)

// TrackStream is a track's audio on the session clock, starting at the track's first anchor:
// frame 0 of the stream is session tick Timeline[0].SessionTicks. Gaps in the timeline come out as
// silence and backward corrections drop the overlapped samples, so frame k of the stream is always
// session tick Timeline[0].SessionTicks + k. Close it when done.
type TrackStream struct {
	track *Track
	file  File
	name  string // the file as errors name it
	dec   audio.Stream
	f     audio.Format
	media int64 // next media sample the decoder yields
	tick  int64 // session tick of the next output frame
	next  int   // index of the next anchor not yet reached
	skip  []float32
	end   int64 // session tick after the last sample, when the decoded length is known (-1 otherwise)
	// samples is the file's decoded length when known (-1 otherwise): past it, an anchor further
	// on the timeline places nothing, so no silence is played out towards it.
	samples int64
}

var _ audio.Stream = (*TrackStream)(nil)

// OpenTrack opens a track's file for reading on the session clock.
func (s *Session) OpenTrack(t *Track) (*TrackStream, error) {
	src := s.Files()
	f, err := src.Open(t.File)
	if err != nil {
		return nil, fmt.Errorf("session: track %q: %w", t.ID, err)
	}
	dec, err := opus.NewOggStream(f)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("session: track %q: %s: %w", t.ID, src.Name(t.File), err), f.Close())
	}
	ts := &TrackStream{track: t, file: f, name: src.Name(t.File), dec: dec, f: dec.Format(), tick: t.Timeline[0].SessionTicks, next: 1, end: -1, samples: -1}
	if n, ok := audio.Length(dec); ok {
		ts.end, ts.samples = t.SessionTicks(n-1)+1, n
	}
	return ts, nil
}

// Format is 48 kHz with the track's channel count.
func (ts *TrackStream) Format() audio.Format { return ts.f }

// Start is the session tick of the stream's first frame.
func (ts *TrackStream) Start() int64 { return ts.track.Timeline[0].SessionTicks }

// Len is the stream's length in frames when the file's length is known (finalized files), else -1.
func (ts *TrackStream) Len() int64 {
	if ts.end < 0 {
		return -1
	}
	return ts.end - ts.Start()
}

// Read yields the next frames on the session clock.
func (ts *TrackStream) Read(p []float32) (int, error) {
	ch := ts.f.Channels
	want := int64(len(p) / ch)
	if want == 0 {
		return 0, nil
	}
	for {
		if ts.samples >= 0 && ts.media >= ts.samples {
			return 0, io.EOF // the file is done: a gap towards an anchor past its end is not played
		}
		// Where the next media sample belongs, and how far until the next anchor takes over.
		for ts.next < len(ts.track.Timeline) && ts.track.Timeline[ts.next].MediaSample <= ts.media {
			ts.next++
		}
		until := int64(-1)
		if ts.next < len(ts.track.Timeline) {
			until = ts.track.Timeline[ts.next].MediaSample - ts.media
		}
		// The anchor in force is the one before next: placing a sample costs nothing per anchor.
		a := ts.track.Timeline[ts.next-1]
		target := a.SessionTicks + (ts.media - a.MediaSample)
		if target > ts.tick { // a gap: silence until the media resumes
			n := min(want, target-ts.tick)
			clear(p[:n*int64(ch)])
			ts.tick += n
			return int(n) * ch, nil
		}
		if target < ts.tick { // the track ran ahead: drop what overlaps, then look again
			if err := ts.discard(min(ts.tick-target, untilOr(until, ts.tick-target))); err != nil {
				return 0, ts.fileErr(err)
			}
			continue
		}
		if until >= 0 {
			want = min(want, until)
		}
		n, err := ts.dec.Read(p[:want*int64(ch)])
		ts.media += int64(n / ch)
		ts.tick += int64(n / ch)
		return n, ts.fileErr(err)
	}
}

// fileErr names the track and its file in a decoding error; io.EOF passes as it is.
func (ts *TrackStream) fileErr(err error) error {
	if err == nil || errors.Is(err, io.EOF) {
		return err
	}
	return fmt.Errorf("session: track %q: %s: %w", ts.track.ID, ts.name, err)
}

func untilOr(until, other int64) int64 {
	if until < 0 {
		return other
	}
	return until
}

func (ts *TrackStream) discard(frames int64) error {
	ch := ts.f.Channels
	if ts.skip == nil {
		ts.skip = make([]float32, 1024*ch)
	}
	for frames > 0 {
		n, err := ts.dec.Read(ts.skip[:min(frames, 1024)*int64(ch)])
		ts.media += int64(n / ch)
		frames -= int64(n / ch)
		if errors.Is(err, io.EOF) {
			return io.EOF
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Close closes the track's file.
func (ts *TrackStream) Close() error { return ts.file.Close() }
