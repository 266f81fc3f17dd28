// Package capture records a room into a session folder: the Opus packets a room adapter hands it
// become one Ogg Opus file per speaker, a live mix, and a manifest kept in step with both. It
// knows no room protocol: adapters (pkg/room/...) read their transport and hand over RTP and RTCP
// bytes through a Source, and tell the Recorder who joins and leaves.
//
// # The parts
//
// Recorder (recorder.go) is the small composition that wires these parts and holds the locks:
//
//   - ingest (ingest.go, clock.go): one per track. A jitter buffer per stream (capture/jitter)
//     puts packets in order and gives up missing ones after its wait; the stream's placer and the
//     session clock (sender reports, else arrival) say where on the session clock each released
//     frame lands. Out come placed Opus frames.
//   - roster (roster.go): who is and was in the room, their names and presence intervals, in
//     order of first appearance.
//   - consent gate (consent.go, recorder_consent.go): the policy, the allow and exclude lists,
//     each person's own signal, pause and resume; it decides per identity whether their audio is
//     kept and writes every decision to the consent ledger with a session.Reason* code.
//   - live mix (mix.go): each track's voice decodes its frames (concealing losses) into a ring on
//     the session clock; the mixer sums the rings a little behind real time into mix.opus.
//   - session writer (writer.go): the folder, each speaker's track file (trackFile: the
//     TrackWriter of track.go plus the SSRCs, gaps and counts the manifest and status line show),
//     and the manifest, written atomically.
//
// A track (speaker.go) is one speaker's ingest, file and voice; a speaker whose source ends and
// comes back continues in the same track. Recover (recover.go) is separate: it repairs a session
// a crash left behind.
//
// # How a packet flows
//
// A source's reader goroutine parses an RTP packet and, when the gate lets the speaker's track
// record (track.on), pushes it into the track's ingest; otherwise it is dropped on arrival. Every
// 10 ms the timer loop pops, per track, the frames the jitter buffers release, places them, and
// writes each into the track file (TrackWriter: the packet as received, its place on the
// timeline, silence filled into DTX) and the track's voice (decoded into its ring). Then it mixes
// whole 20 ms frames up to MixDelay ago, and every SyncInterval flushes and fsyncs every file and
// rewrites the manifest. Close drains the jitter buffers, ends the mix where the last speaker
// ended and saves the manifest finalized.
//
// # Goroutines
//
//   - one reader per source (AddTrack) for RTP, and one for RTCP when the source has it;
//   - the timer loop (loop.go): pop, write, mix, sync;
//   - the callers': the adapter's (Join, Leave, AddTrack, BeginGap), the operator's (SetConsent,
//     Pause, Resume), a status line's (Stats, Speakers, Seen, Paused), and Close.
//
// # Locks
//
// Recorder.mu serialises the callers' calls and the manifest's save, and guards the roster, the
// gate, the session writer and the track list: every manifest written is a state those calls
// left whole. Each track's mu guards its ingest, its file's contents and its voice's level: the
// readers push under it, the loop pops and writes under it. Each ring has a mutex of its own for
// the voice that writes it and the mixer that takes from it. The order is Recorder.mu, then a
// track's mu, then a ring's; nothing takes them the other way round. The session clock's NTP
// offset, track.on and the failed flag are atomics. Events are emitted with no lock held (evmu
// only serialises OnEvent), so an observer may call the Recorder.
package capture
