package capture

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spacecast/spacecast/pkg/ogg"
	"github.com/spacecast/spacecast/pkg/session"
)

// PreSkip is the pre-skip of every track file: a stream joined mid-way needs at least 80 ms for the
// decoder to converge (RFC 7845 §4.2). The timeline places media sample 0 (the first sample after
// pre-skip) where it belongs, so those 80 ms are dropped deliberately, not shifted.
const PreSkip = 3840

// resyncTicks is how far a packet after a pause may land from the timeline before it is re-synced.
const resyncTicks = 48

// settleSamples is how long after a track's start its first anchor may still move earlier.
const settleSamples = 48000

// TrackWriter writes one track's Opus packets, as received, to an Ogg Opus file, and keeps the
// track's timeline: anchors from the file's media samples to the session clock (docs/session-format.md).
//
// Each packet comes with the session tick where its first sample plays. While packets follow each
// other, no anchor is added; when a packet lands more than the tolerance away from where the
// timeline puts it (a gap, a clock correction), a new anchor records the truth. Short gaps can
// instead be filled with a silence packet (WithSilence), so mute and DTX stay continuous in the file.
type TrackWriter struct {
	ow        *ogg.OpusWriter
	anchors   []session.Anchor
	raw       int64 // samples written, pre-skip included
	placed    int64 // session tick of the last packet written
	tolerance int64

	silence        []byte
	silenceSamples int64
	maxFill        int64
	filled         int64 // samples of silence written
}

// TrackOption configures a TrackWriter.
type TrackOption func(*TrackWriter)

// WithTolerance sets how far a packet may land from the timeline before an anchor is added
// (default 20 ms). Smaller values follow the clock more closely with more anchors.
func WithTolerance(d time.Duration) TrackOption {
	return func(t *TrackWriter) { t.tolerance = session.Ticks(d) }
}

// WithSilence fills gaps up to maxGap with copies of pkt, an Opus packet that decodes to silence,
// instead of adding an anchor. Longer gaps still get an anchor.
func WithSilence(pkt []byte, maxGap time.Duration) TrackOption {
	return func(t *TrackWriter) {
		n, err := ogg.PacketSamples(pkt)
		if err != nil || n == 0 {
			return
		}
		t.silence = append([]byte(nil), pkt...)
		t.silenceSamples = int64(n)
		t.maxFill = session.Ticks(maxGap)
	}
}

// NewTrackWriter starts an Ogg Opus file on w. opts of the Ogg writer (small pages for crash safety)
// pass through in oggOpts.
func NewTrackWriter(w io.Writer, channels int, opts []TrackOption, oggOpts ...ogg.WriterOption) (*TrackWriter, error) {
	if channels != 1 && channels != 2 {
		return nil, fmt.Errorf("capture: %d channels (want 1 or 2)", channels)
	}
	head := ogg.OpusHead{Version: 1, Channels: uint8(channels), PreSkip: PreSkip, InputSampleRate: 48000}
	ow, err := ogg.NewOpusWriter(w, head, ogg.OpusTags{Vendor: "spacecast"}, oggOpts...)
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	t := &TrackWriter{ow: ow, tolerance: session.Ticks(20 * time.Millisecond)}
	for _, o := range opts {
		o(t)
	}
	return t, nil
}

// WritePacket appends pkt, whose first sample plays at sessionTicks. The packet is copied into
// the writer's page; the caller may reuse it.
func (t *TrackWriter) WritePacket(pkt []byte, sessionTicks int64) error {
	return t.write(pkt, sessionTicks, false)
}

// WriteContiguous is WritePacket for a packet that follows the previous one in the stream (no
// loss, no pause): it is never separated from it by a silence fill, only by a correction beyond
// the tolerance.
func (t *TrackWriter) WriteContiguous(pkt []byte, sessionTicks int64) error {
	return t.write(pkt, sessionTicks, true)
}

func (t *TrackWriter) write(pkt []byte, sessionTicks int64, contiguous bool) error {
	n, err := ogg.PacketSamples(pkt)
	if err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	media := t.raw - PreSkip // media sample of this packet's first sample
	if len(t.anchors) == 0 {
		t.anchors = append(t.anchors, session.Anchor{MediaSample: 0, SessionTicks: sessionTicks + PreSkip})
	} else if media >= 0 {
		at := t.sessionTicks(media)
		gap := sessionTicks - at
		// Fill a pause (DTX, mute) with silence packets, to the nearest whole packet: placement
		// noise of a millisecond must not decide between none and one. Packets that follow each
		// other in the stream (contiguous) are never pulled apart by a fill.
		if gap > 0 && gap <= t.maxFill && t.silence != nil && !contiguous {
			for gap >= t.silenceSamples/2 {
				if err := t.ow.WritePacket(t.silence); err != nil {
					return fmt.Errorf("capture: %w", err)
				}
				t.raw += t.silenceSamples
				t.filled += t.silenceSamples
				gap -= t.silenceSamples
				if gap < t.silenceSamples/2 {
					break
				}
			}
			media = t.raw - PreSkip
			at = t.sessionTicks(media)
		}
		// While the first second is written, the first placements are still settling (a first
		// packet read late, an arrival estimate that improves): a packet that belongs earlier moves
		// the whole start earlier instead of waiting to exceed the tolerance.
		if d := sessionTicks - at; d < 0 && len(t.anchors) == 1 && media < settleSamples {
			t.anchors[0].SessionTicks += d
			at += d
		}
		// Mid-speech (contiguous packets) the timeline moves only past the tolerance: a correction
		// there is audible. At a pause or after a loss, where nothing plays, it re-syncs to within
		// a millisecond, so placement noise never piles up into a mid-speech correction.
		tol := t.tolerance
		if !contiguous {
			tol = min(tol, resyncTicks)
		}
		if d := sessionTicks - at; d > tol || d < -tol {
			if last := &t.anchors[len(t.anchors)-1]; last.MediaSample == media {
				last.SessionTicks = sessionTicks
			} else {
				t.anchors = append(t.anchors, session.Anchor{MediaSample: media, SessionTicks: sessionTicks})
			}
		}
	}
	if err := t.ow.WritePacket(pkt); err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	t.placed = t.sessionTicks(t.raw - PreSkip)
	t.raw += int64(n)
	return nil
}

// Placed is the session tick where the last packet written plays by the file's timeline: where
// the live mix must put it so the mix and the file agree.
func (t *TrackWriter) Placed() int64 { return t.placed }

// sessionTicks places a media sample by the last anchor: packets only move forward, so the last
// anchor is always the one in force (constant time per packet however long the recording).
func (t *TrackWriter) sessionTicks(media int64) int64 {
	last := t.anchors[len(t.anchors)-1]
	return last.SessionTicks + (media - last.MediaSample)
}

// Timeline returns a copy of the anchors so far.
func (t *TrackWriter) Timeline() []session.Anchor {
	return append([]session.Anchor(nil), t.anchors...)
}

// Samples is the file's decoded length so far, after pre-skip.
func (t *TrackWriter) Samples() int64 { return max(0, t.raw-PreSkip) }

// Filled is how much silence WithSilence wrote into gaps, in samples.
func (t *TrackWriter) Filled() int64 { return t.filled }

// Flush ends the current page so everything but the last packet is readable after a crash.
func (t *TrackWriter) Flush() error { return t.ow.Flush() }

// Close writes the last page with end of stream.
func (t *TrackWriter) Close() error {
	if err := t.ow.Close(); err != nil && !errors.Is(err, ogg.ErrClosed) {
		return fmt.Errorf("capture: %w", err)
	}
	return nil
}
