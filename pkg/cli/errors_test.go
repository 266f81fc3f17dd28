package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/spacecast/spacecast/pkg/capture"
	"github.com/spacecast/spacecast/pkg/codec"
	"github.com/spacecast/spacecast/pkg/feed"
	"github.com/spacecast/spacecast/pkg/fleet"
	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/ogg"
	"github.com/spacecast/spacecast/pkg/record"
	"github.com/spacecast/spacecast/pkg/record/control"
	"github.com/spacecast/spacecast/pkg/redact"
	"github.com/spacecast/spacecast/pkg/room"
	"github.com/spacecast/spacecast/pkg/room/protocols"
	"github.com/spacecast/spacecast/pkg/room/whep"
	"github.com/spacecast/spacecast/pkg/session"
	"github.com/spacecast/spacecast/pkg/sessionstore"
	"github.com/spacecast/spacecast/pkg/site"
	"github.com/spacecast/spacecast/pkg/sitestore"
	"github.com/spacecast/spacecast/pkg/studio"
)

// TestErrorTable: a library error, wrapped by the command as commands do, reads as the table says
// (the library's facts, then the flag or command to use) and exits with the table's status; every
// flag a message names is a flag of the command tree.
func TestErrorTable(t *testing.T) {
	long, _ := commandFlags(t)
	enospc := &fs.PathError{Op: "write", Path: "out.mp3", Err: syscall.ENOSPC}
	cases := []struct {
		name    string
		command string
		err     error
		code    int
		want    []string // in the message, in this order
		notWant string
	}{
		{"an interruption says nothing was written", "mix", fmt.Errorf("mix: %w", context.Canceled),
			ExitInterrupted, []string{"interrupted; nothing was written"}, "canceled"},
		{"a full disk under a bad-input error is a failure", "mix", fmt.Errorf("mix: %w: %w", studio.ErrBadInput, enospc),
			ExitFailure, []string{"no space left"}, ""},
		{"a usage error from a flag check keeps its status and text", "clip", usageErr("clip: -o OUT is required"),
			ExitUsage, []string{"clip: -o OUT is required"}, "("},
		{"a folder that is no session is named, with what to give", "verify", fmt.Errorf("verify: %w", &session.NotSessionError{Dir: "rec"}),
			ExitBadInput, []string{"verify: rec is not a spacecast session (no manifest.json): give the session folder"}, "session: rec"},
		{"a site held by another run says how long, then to raise --lock-timeout", "publish",
			siteErr("publish", &site.Error{Err: &site.LockTimeoutError{Dir: "s", Lock: "s/.spacecast.lock", Timeout: 2 * time.Minute}}),
			ExitFailure, []string{"publish: s: the site is locked by another spacecast run", "2m0s", "raise --lock-timeout"}, "site: "},
		{"a slug taken names the episode that has it and the update command", "publish",
			siteErr("publish", &site.Error{Err: &site.SlugTakenError{Dir: "my site", Slug: "ep-1", Title: "One", PubDate: time.Date(2025, 5, 1, 9, 0, 0, 0, time.UTC)}}),
			ExitBadInput, []string{`"ep-1" belongs to the episode "One"`, "spacecast publish --update 'my site' ep-1", "another --slug"}, ""},
		{"a title with no letters for a slug asks for --slug", "publish",
			siteErr("publish", &site.Error{Err: fmt.Errorf("title %q: %w: %w", "日本語", site.ErrNoSlug, site.ErrBadInput)}),
			ExitBadInput, []string{"日本語", "give one with --slug"}, ""},
		{"a retired slug asks for another --slug", "publish",
			siteErr("publish", fmt.Errorf("slug %q: %w", "x", site.ErrSlugRetired)),
			ExitBadInput, []string{"publish it under another --slug"}, ""},
		{"a long description points to --notes", "publish",
			siteErr("publish", fmt.Errorf("description: %w", &site.TooLongError{What: "description", Bytes: 4001, Max: 4000})),
			ExitBadInput, []string{"4001 bytes; podcast apps read at most 4000", "--notes"}, ""},
		{"audio that is not an MP3 gets the mix command that makes one", "publish",
			siteErr("publish", &site.NotMP3Error{Path: "ep.wav", Kind: codec.WAV}),
			ExitBadInput, []string{"publish: ep.wav is a WAV file, not an MP3: podcast apps play MP3", "spacecast mix ep.wav -o ep.mp3"}, ""},
		{"an episode with no title points to publish --update --title", "feed build",
			fmt.Errorf("feed build: %w", fmt.Errorf("%w: %q: %w", feed.ErrEpisode, "x", feed.ErrNoTitle)),
			ExitFailure, []string{"no title", "publish --update --title"}, ""},
		{"--last on a file says to use --start and --end", "clip",
			fmt.Errorf("clip: %w: %s: %w", studio.ErrBadInput, "a.mp3", studio.ErrNoLast),
			ExitBadInput, []string{"a.mp3: not a session folder: only a recording", "--start and --end instead of --last"}, ""},
		{"a lossless cut of a WAV says to drop --copy", "clip",
			fmt.Errorf("clip: %w: %s: %w", studio.ErrBadInput, "a.wav", studio.ErrLosslessMP3),
			ExitBadInput, []string{"a.wav: a lossless cut reads and writes MP3 only", "drop --copy"}, ""},
		{"a kept stretch shorter than its crossfades says to lower --crossfade", "trim",
			fmt.Errorf("trim: %w: the kept stretch 1:00-1:00.010: %w (10ms); cut less", studio.ErrBadInput, studio.ErrShortKeep),
			ExitBadInput, []string{"shorter than two crossfades (10ms); cut less", "lower --crossfade"}, ""},
		{"an output that is an input is a usage error naming -o", "mix", fmt.Errorf("mix: %w", studio.ErrSameFile),
			ExitUsage, []string{"output is the same file as an input", "choose another -o"}, ""},
		{"trim with no cut asks for --cut", "trim", fmt.Errorf("trim: studio: %w: nothing to cut", studio.ErrBadRange),
			ExitUsage, []string{"nothing to cut", "--cut START-END"}, ""},
		{"a reversed redaction asks for --from before --to", "redact", fmt.Errorf("redact: %w: the start 0:30.000 is not before the end 0:20.000", redact.ErrReversed),
			ExitUsage, []string{"is not before", "give --from before --to"}, ""},
		{"an unknown speaker is bad input", "redact", fmt.Errorf("redact: %w", redact.ErrUnknownSpeaker), ExitBadInput, nil, ""},
		{"a link in a session tells recover how to go on", "recover", fmt.Errorf("recover: %w; nothing was changed", session.ErrIrregular),
			ExitBadInput, []string{"nothing was changed", "then run recover again"}, ""},
		{"a changed sealed session points to verify", "redact", fmt.Errorf("redact: %w", &session.SealMismatchError{Dir: "rec", Changed: []string{"a.opus"}}),
			ExitBadInput, []string{"changed: a.opus", "'spacecast verify rec'"}, ""},
		{"a row for other commands does not apply", "mix", fmt.Errorf("mix: %w", session.ErrIrregular),
			ExitFailure, []string{"not a regular file"}, "recover"},
		{"a value out of a manifest's limits says the manifest was edited", "mix",
			fmt.Errorf("mix: %w", &session.LimitError{Field: "duration_ticks", Value: -1, Min: 0, Max: 1, MaxName: "7 days"}),
			ExitBadInput, []string{"duration_ticks is -1", "restore it from a copy"}, ""},
		{"a manifest newer than this spacecast is bad input to redact", "redact", fmt.Errorf("redact: %w", session.ErrVersion), ExitBadInput, nil, ""},
		{"a manifest that contradicts itself is bad input", "inspect", fmt.Errorf("inspect: %w", session.ErrInvalid), ExitBadInput, nil, ""},
		{"a granule position out of range says the file is damaged", "inspect", fmt.Errorf("inspect: a.opus: %w", ogg.ErrGranule),
			ExitBadInput, []string{"granule position out of range", "damaged or forged"}, ""},
		{"an output extension spacecast cannot write is a usage error", "mix", fmt.Errorf("mix: %w", codec.ErrUnknownExtension), ExitUsage, nil, ""},
		{"a site in a folder with other files offers --into-existing", "feed init", siteErr("feed init", fmt.Errorf("x: %w", site.ErrNotEmpty)),
			ExitBadInput, []string{"feed init: x: the folder is not empty", "--into-existing"}, ""},
		{"a long episode description in a feed points to publish --notes", "feed build",
			fmt.Errorf("feed build: %w", fmt.Errorf("%w: %q: %w: 4001 bytes", feed.ErrEpisode, "x", feed.ErrLongDescription)),
			ExitFailure, []string{"the description is too long: 4001 bytes", "publish --notes"}, ""},
		{"a podcast.yaml mistake is bad input", "publish", siteErr("publish", &feed.ConfigError{File: "podcast.yaml", Line: 3, Field: "language", Msg: "not a language"}),
			ExitBadInput, []string{"publish: podcast.yaml:3: language: not a language"}, ""},
		// The recorder and its room (record's cases, and demo's wording of the same errors).
		{"an unknown protocol names --protocol", "record", fmt.Errorf("record: %w", &protocols.UnknownError{Name: "sip"}),
			ExitUsage, []string{`record: --protocol "sip": want livekit, janus or whep`}, "unknown room protocol"},
		{"a URL without a host is not repeated", "record", fmt.Errorf("record: %w", protocols.ErrBadURL),
			ExitUsage, []string{"record: the room URL does not parse as a URL with a host (want ws://, wss://, http:// or https://HOST/…)"}, "bad room URL"},
		{"a scheme of no room suggests --protocol", "record", fmt.Errorf("record: %w", &protocols.SchemeError{URL: "ftp://x", Scheme: "ftp"}),
			ExitUsage, []string{`record: "ftp://x": scheme "ftp" is not a room URL; pass --protocol if the URL is right`}, ""},
		{"a LiveKit room without a name names --room", "record", &record.JoinError{Protocol: protocols.LiveKit, Err: protocols.ErrLiveKitRoom},
			ExitUsage, []string{"record: bad room URL: LiveKit needs --room (and --api-key/--api-secret, or --token)"}, ""},
		{"a URL the adapter refuses is a usage error", "record",
			&record.JoinError{Protocol: protocols.Janus, Err: fmt.Errorf(`janus: "ws://j": %w: spacecast speaks Janus's HTTP API`, room.ErrURL)},
			ExitUsage, []string{`record: janus: "ws://j": bad room URL: spacecast speaks Janus's HTTP API`}, "could not join"},
		{"credentials in a WHEP URL go in --token", "record",
			&record.JoinError{Protocol: protocols.WHEP, Err: fmt.Errorf(`%w: "https://x/whep"`, whep.ErrURLCredentials)},
			ExitUsage, []string{"record: bad room URL: the URL carries credentials", "put the bearer token in --token, not in the URL"}, ""},
		{"refused LiveKit credentials name --token and the API key and secret", "record",
			&record.JoinError{Protocol: protocols.LiveKit, Err: fmt.Errorf("livekit: %w (HTTP 401: bad token)", room.ErrAuth)},
			ExitRoom, []string{"record: livekit: the server refused the credentials (HTTP 401: bad token)", "check --token, or --api-key and --api-secret", "LIVEKIT_API_KEY"}, ""},
		{"refused Janus credentials name --api-secret and --token", "record",
			&record.JoinError{Protocol: protocols.Janus, Err: fmt.Errorf("http://j/janus: %w: unauthorized", room.ErrAuth)},
			ExitRoom, []string{"the server refused the credentials: unauthorized", "check --api-secret / --token"}, "LIVEKIT"},
		{"a refused WHEP bearer token names --token", "record",
			&record.JoinError{Protocol: protocols.WHEP, Err: fmt.Errorf("%w (HTTP 401 from x): the endpoint refused the bearer token", room.ErrAuth)},
			ExitRoom, []string{"the endpoint refused the bearer token", "(check --token)"}, ""},
		{"a wrong Janus PIN names --pin", "record",
			&record.JoinError{Protocol: protocols.Janus, Err: fmt.Errorf("http://j/janus: room 7: %w: %w: 433", room.ErrAuth, room.ErrPIN)},
			ExitRoom, []string{"room 7: the server refused the credentials: the room's PIN is missing or wrong", "a room with a PIN needs --pin"}, "--api-secret"},
		{"a missing room names --room and --wait", "record",
			&record.JoinError{Protocol: protocols.Janus, Err: fmt.Errorf("http://j/janus: room 999: %w: neither plugin has it", room.ErrNoRoom)},
			ExitRoom, []string{"record: http://j/janus: room 999: no such room", "check --room, or use --wait"}, "could not join"},
		{"a missing WHEP stream points to the endpoint URL", "record",
			&record.JoinError{Protocol: protocols.WHEP, Err: fmt.Errorf("%w: x answered HTTP 404", room.ErrNoRoom)},
			ExitRoom, []string{"no such room: x answered HTTP 404", "check the endpoint URL, or use --wait"}, "--room"},
		{"a room with no speaker names --wait", "record",
			&record.JoinError{Protocol: protocols.LiveKit, Err: fmt.Errorf(`%w: nobody publishes audio in "r" yet`, room.ErrEmptyRoom)},
			ExitRoom, []string{"the room has no speaker", "use --wait to wait for the first speaker"}, ""},
		{"a room still missing after the wait names --room and --wait", "record",
			&record.JoinError{Protocol: protocols.LiveKit, Err: &room.WaitError{Room: "r", Waited: 10 * time.Second, Err: fmt.Errorf(`%w: the server has no room "r"`, room.ErrNoRoom)}},
			ExitRoom, []string{`no such room: the server has no room "r" (waited 10s)`, "check --room, or raise --wait"}, "use --wait"},
		{"a stream still missing after the wait names the endpoint URL and --wait", "record",
			&record.JoinError{Protocol: protocols.WHEP, Err: &room.WaitError{Room: "x", Waited: time.Minute, Err: fmt.Errorf("%w: x answered HTTP 404", room.ErrNoRoom)}},
			ExitRoom, []string{"no such room: x answered HTTP 404 (waited 1m0s)", "check the endpoint URL, or raise --wait"}, "--room"},
		{"a room still without a speaker after the wait names --wait", "record",
			&record.JoinError{Protocol: protocols.LiveKit, Err: &room.WaitError{Room: "r", Waited: time.Minute, Err: fmt.Errorf(`%w: nobody publishes audio in "r" yet`, room.ErrEmptyRoom)}},
			ExitRoom, []string{"the room has no speaker", "(waited 1m0s)", "raise --wait to wait longer for a speaker"}, "use --wait"},
		{"a Janus room without an id names --room", "record",
			&record.JoinError{Protocol: protocols.Janus, Err: fmt.Errorf("janus: http://j/janus: %w", room.ErrNoRoomName)},
			ExitRoom, []string{"record: could not join: janus: http://j/janus: no room name or id given", "give --room with the room's id"}, ""},
		{"no local address to receive media on names --interface", "record",
			&record.JoinError{Protocol: protocols.WHEP, Err: fmt.Errorf("%w: %w", room.ErrUnreachable, room.ErrLocalNetwork)},
			ExitRoom, []string{"the server cannot be reached: no local network address", "check --interface, or use --loopback"}, ""},
		{"WHEP's missing messages point to --consent assume", "record",
			&record.JoinError{Protocol: protocols.WHEP, Err: fmt.Errorf("whep: %w", room.ErrNoMessages)},
			ExitRoom, []string{"record: could not join: whep: the protocol carries no messages", "--consent assume"}, ""},
		{"a recorder sent away for its identity names --identity", "record",
			&record.LostError{Dir: "s", Protocol: protocols.LiveKit, Err: fmt.Errorf("%w: %w %q", room.ErrRoomClosed, room.ErrIdentityTaken, "rec")},
			ExitRoom, []string{"another participant joined with the recorder's identity", "give each recorder its own --identity"}, ""},
		{"any other join failure says so", "record", &record.JoinError{Protocol: protocols.Janus, Err: errors.New("janus: odd")},
			ExitRoom, []string{"record: could not join: janus: odd"}, "("},
		{"demo says it could not join its own room", "demo", fmt.Errorf("demo: %w", &record.JoinError{Protocol: protocols.WHEP, Err: fmt.Errorf("whep: %w", room.ErrUnreachable)}),
			ExitFailure, []string{"demo: join the room: whep: the server cannot be reached"}, "("},
		{"a lost room is exit 4 with the session finalized, and names --reconnect-timeout", "record",
			&record.LostError{Dir: "s", Protocol: protocols.WHEP, Err: fmt.Errorf("whep: %w", room.ErrLost)},
			ExitRoom, []string{"record: whep: lost the connection to the room and could not reconnect in time; the session in s is finalized up to then",
				"raise --reconnect-timeout"}, "--wait"},
		{"a lost room whose last try found no room still names --reconnect-timeout", "record",
			&record.LostError{Dir: "s", Protocol: protocols.LiveKit, Err: &room.LostError{Room: "r", Timeout: 8 * time.Second, Cause: errors.New("eof"), Last: fmt.Errorf("%w", room.ErrNoRoom)}},
			ExitRoom, []string{"tried for 8s", "(raise --reconnect-timeout"}, "--room"},
		{"a mixed room refuses --exclude", "record", &record.ServerMixesError{Exclude: []string{"bob"}},
			ExitUsage, []string{"record: --exclude cannot be honoured in a Janus AudioBridge room: the server mixes every speaker into one track"}, "opt-in"},
		{"a mixed room refuses opt-in", "record", &record.ServerMixesError{Policy: capture.PolicyOptIn},
			ExitUsage, []string{"record: --consent opt-in cannot be honoured in a Janus AudioBridge room"}, ""},
		{"a folder that filled meanwhile is bad input", "record", fmt.Errorf("record: s: %w", capture.ErrExists),
			ExitBadInput, []string{"record: s: session folder exists and is not empty"}, ""},
		{"a full disk says what to free and how to finish", "record",
			&record.FinalizeError{Dir: "s", Elapsed: 90500 * time.Millisecond, Err: fmt.Errorf("track t1: write: %w\ntrack t2: write: no space", syscall.ENOSPC)},
			ExitFailure, []string{"record: the disk is full: track t1: write: no space left on device\n  The recording stopped after 1m30s; everything up to the last sync (every second) is in s.\n" +
				"  Free space on that disk (or move the folder to a disk with room), then run 'spacecast recover s' to finish the session."}, "t2"},
		{"another finalize failure points to recover", "record", &record.FinalizeError{Dir: "s", Err: errors.New("mix: boom")},
			ExitFailure, []string{"record: stopped: mix: boom; everything up to the last sync is in s ('spacecast recover s' finishes it once the problem is fixed)"}, ""},
		{"a failed seal says the recording is complete", "record", &record.SealError{Dir: "s", Err: errors.New("boom")},
			ExitFailure, []string{"record: stopped: seal: boom (the recording is complete; 'spacecast recover s' seals it); everything up to the last sync is in s " +
				"('spacecast recover s' finishes it once the problem is fixed)"}, ""},
		{"demo says its session could not be sealed", "demo", fmt.Errorf("demo: %w", &record.SealError{Dir: "s", Err: errors.New("boom")}),
			ExitFailure, []string{"demo: seal the session: boom"}, "recover"},
		{"demo says its recording failed", "demo", fmt.Errorf("demo: %w", &record.FinalizeError{Dir: "s", Err: errors.New("mix: boom")}),
			ExitFailure, []string{"demo: recording: mix: boom"}, "recover"},
		{"a failed start announcement names the recorder", "record",
			&record.AnnounceError{What: record.AnnounceStarted, Text: "x", Name: "⏺ REC test", Err: errors.New("boom")},
			ExitFailure, []string{`could not announce the recording in the room: boom (the recorder is still visible as "⏺ REC test")`}, "record:"},
		{"a failed pause announcement says what", "record", &record.AnnounceError{What: record.AnnouncePaused, Text: "⏸ recording paused", Err: errors.New("boom")},
			ExitFailure, []string{`could not tell the room "⏸ recording paused": boom`}, "record:"},
		{"a control socket that cannot open names --pause/--resume", "record", &control.ListenError{Socket: "/run/x.sock", Err: errors.New("boom")},
			ExitFailure, []string{"record: control socket /run/x.sock: boom; --pause/--resume will not reach this recorder (SIGUSR1/SIGUSR2 still do)"}, ""},
		{"--pause on a folder no recorder writes says what to give", "record", &control.SendError{Op: control.Pause, Dir: "s", Err: control.ErrNoRecorder},
			ExitBadInput, []string{"record --pause: no recorder is running for s (it has no control file): give the session folder a running 'spacecast record' writes"}, ""},
		{"a recorder that does not answer may have died", "record",
			&control.SendError{Op: control.Resume, Dir: "s", Err: &control.DialError{Socket: "/run/x.sock", Err: syscall.ECONNREFUSED}},
			ExitBadInput, []string{"record --resume: the recorder of s does not answer on /run/x.sock (connection refused): is it still running?"}, ""},
		{"no answer from the recorder says so", "record", &control.SendError{Op: control.Pause, Dir: "s", Err: &control.ReplyError{Err: errors.New("EOF")}},
			ExitFailure, []string{"record --pause: no answer from the recorder of s: EOF"}, ""},
		{"an answer that is no reply is quoted", "record", &control.SendError{Op: control.Pause, Dir: "s", Err: &control.ReplyError{Answer: "hi", Err: errors.New("bad json")}},
			ExitFailure, []string{`record --pause: the recorder of s answered "hi": bad json`}, ""},
		{"a control file that cannot be read is bad input", "record",
			&control.SendError{Op: control.Pause, Dir: "s", Err: &fs.PathError{Op: "open", Path: "s/control", Err: syscall.EACCES}},
			ExitBadInput, []string{"record --pause: open s/control: permission denied"}, ""},
		{"a request that cannot be written says so", "record", &control.SendError{Op: control.Pause, Dir: "s", Err: errors.New("write: broken pipe")},
			ExitFailure, []string{"record --pause: write: broken pipe"}, ""},
		// Sessions in object storage.
		{"a recording finished in the spool but not uploaded keeps the spool and names recover", "record",
			&record.UploadError{Dir: "/spool/x", URL: "s3://b/x", Finished: true, Err: &objstore.Error{Op: "put", Bucket: "b", Key: "x/manifest.json", Kind: objstore.ErrUnreachable, Detail: "endpoint http://e: refused"}},
			ExitStore, []string{"record: the recording is finished and sealed in the spool /spool/x", "could not be uploaded to s3://b/x: put s3://b/x/manifest.json: the store does not answer",
				"nothing is lost", "'spacecast recover s3://b/x --spool /spool/x'"}, "objstore:"},
		{"a recording fenced off by another writer of its place keeps the spool and names no recover", "record",
			&record.UploadError{Dir: "/spool/x", URL: "s3://b/x", Finished: true, Err: &sessionstore.Error{Op: "push", Dir: "/spool/x", URL: "s3://b/x",
				Err: &sessionstore.FencedError{URL: "s3://b/x", Key: "x/.live/manifest.json", Holder: "a recovery or a join of the session"}}},
			ExitBadInput, []string{"record: s3://b/x was taken over by another writer (a recovery or a join of the session)", "the recording stays in the spool /spool/x",
				"nothing was overwritten", "push the spool under another name"}, "recover s3://b/x"},
		{"a recording that could not be finalized into a bucket names recover of the URL", "record",
			&record.UploadError{Dir: "/spool/x", URL: "s3://b/x", Err: &record.FinalizeError{Dir: "/spool/x", Err: enospc}},
			ExitFailure, []string{"record: the disk is full: write out.mp3: no space left", "is in /spool/x, and in pieces in s3://b/x", "'spacecast recover s3://b/x --spool /spool/x'"}, ""},
		{"a recording that could not be sealed into a bucket names recover of the URL", "record",
			&record.UploadError{Dir: "/spool/x", URL: "s3://b/x", Err: &record.SealError{Dir: "/spool/x", Err: errors.New("boom")}},
			ExitFailure, []string{"record: stopped: seal: boom", "is in /spool/x, and in pieces in s3://b/x", "'spacecast recover s3://b/x --spool /spool/x'"}, ""},
		{"a place in the bucket holding a session is refused", "record",
			fmt.Errorf("record: %w", &sessionstore.Error{Op: "record", URL: "s3://b/x", Err: fmt.Errorf("x/manifest.json: %w", sessionstore.ErrExists)}),
			ExitBadInput, []string{"record: s3://b/x: x/manifest.json: already exists", "record never replaces a session"}, "sessionstore:"},
		{"a place holding a live recording names recover", "record",
			&sessionstore.Error{Op: "record", URL: "s3://b/x", Err: fmt.Errorf("x/.live/: %w", sessionstore.ErrLive)},
			ExitBadInput, []string{"record: s3://b/x: x/.live/: holds a session being recorded", "'spacecast recover s3://b/x' finishes it"}, ""},
		{"recover of a place with nothing says how to look", "recover",
			fmt.Errorf("recover: %w", &sessionstore.Error{Op: "recover", URL: "s3://b/x", Err: sessionstore.ErrNoSession}),
			ExitBadInput, []string{"recover: s3://b/x: no session there", "aws s3 ls s3://b/x/"}, ""},
		{"recover of a session whose live manifest just changed says when to try again", "recover",
			&sessionstore.Error{Op: "recover", URL: "s3://b/x", Err: &sessionstore.RecordingError{Age: 4 * time.Second, Quiet: 20 * time.Second}},
			ExitBadInput, []string{"recover: s3://b/x: the session may still be being recorded: its live manifest changed 4s ago", "run recover again in 16s"}, ""},
		{"recover of a session whose part is half pushed says where to look", "recover",
			&sessionstore.Error{Op: "join", URL: "s3://b/x", Err: fmt.Errorf("part 2 (s3://b/x-part2): %w", sessionstore.ErrIncomplete)},
			ExitBadInput, []string{"recover: s3://b/x: part 2 (s3://b/x-part2): the session is incomplete", "NAME-part2", "nothing was changed"}, ""},
		{"recover of a session whose part may still be recorded says when to try again", "recover",
			&sessionstore.Error{Op: "join", URL: "s3://b/x", Err: &sessionstore.PartRecordingError{Part: 2, URL: "s3://b/x-part2",
				Err: &sessionstore.RecordingError{Age: 5 * time.Second, Quiet: 20 * time.Second}}},
			ExitBadInput, []string{"part 2 (s3://b/x-part2): the session may still be being recorded", "run recover again in 15s"}, ""},
		{"recover with a spool of another session says what to do", "recover",
			&sessionstore.Error{Op: "recover", URL: "s3://b/x", Err: &sessionstore.SpoolError{Spool: "/s", ID: "a", Want: "b"}},
			ExitBadInput, []string{"the spool /s holds the session a, not b", "--spool"}, ""},
		{"an interrupted push says what it left in the bucket", "push", fmt.Errorf("push: %w", &sessionstore.Error{Op: "push", Dir: "d", URL: "s3://b/x", Err: context.Canceled}),
			ExitInterrupted, []string{"push: interrupted; the files uploaded so far are in the bucket without a manifest", "push again"}, "nothing was written"},
		{"an interrupted pull wrote nothing", "pull", fmt.Errorf("pull: %w", &sessionstore.Error{Op: "pull", Dir: "d", URL: "s3://b/x", Err: context.Canceled}),
			ExitInterrupted, []string{"pull: interrupted; nothing was written"}, ""},
		{"a bad s3 URL is a usage error quoting it", "pull", s3URLErr("pull", "s3://Bucket/x"),
			ExitUsage, []string{`pull: "s3://Bucket/x" is not an s3://BUCKET/PREFIX URL: a bucket name holds only lowercase letters`}, ""},
		{"an s3 URL with credentials is not repeated", "push", s3URLErr("push", "s3://AKIA:hunter2secret@bkt/x"),
			ExitUsage, []string{"push: the s3 URL holds credentials", "never in a URL"}, "hunter2secret"},
		{"a whole bucket is no session's place", "push", fmt.Errorf("push: %w", &sessionstore.Error{Op: "push", Dir: "d", URL: "s3://b", Err: sessionstore.ErrNoName}),
			ExitUsage, []string{"push: d to s3://b: the URL names no session"}, "sessionstore:"},
		{"refused credentials name where they come from", "push",
			fmt.Errorf("push: %w", &objstore.Error{Op: "check bucket", Bucket: "b", Kind: objstore.ErrAuth, Detail: "SignatureDoesNotMatch: no (HTTP 403)"}),
			ExitStore, []string{"push: check bucket s3://b: the store refused the credentials: SignatureDoesNotMatch", "AWS_SECRET_ACCESS_KEY", "--profile"}, "objstore:"},
		{"an endpoint that does not answer names --endpoint-url", "pull",
			fmt.Errorf("pull: %w", &objstore.Error{Op: "check bucket", Bucket: "b", Kind: objstore.ErrUnreachable, Detail: "endpoint http://x: refused"}),
			ExitStore, []string{"pull: check bucket s3://b: the store does not answer: endpoint http://x", "check --endpoint-url"}, ""},
		{"a missing bucket says to check its name and the endpoint", "pull",
			fmt.Errorf("pull: %w", &objstore.Error{Op: "list", Bucket: "b", Key: "x/", Kind: objstore.ErrNoBucket, Detail: "NoSuchBucket"}),
			ExitStore, []string{"pull: list s3://b/x/: no such bucket", "check the bucket's name"}, ""},
		{"access denied names the permissions needed", "push",
			fmt.Errorf("push: %w", &objstore.Error{Op: "put", Bucket: "b", Key: "k", Kind: objstore.ErrDenied, Detail: "AccessDenied"}),
			ExitStore, []string{"access denied", "s3:PutObject"}, ""},
		{"a checksum mismatch says to push again", "push",
			fmt.Errorf("push: %w", &sessionstore.Error{Op: "push", Dir: "d", URL: "s3://b/x", Err: &objstore.Error{Op: "put", Bucket: "b", Key: "x/a.opus", Kind: objstore.ErrChecksum, Detail: "BadDigest"}}),
			ExitFailure, []string{"push: put s3://b/x/a.opus: the store received different bytes", "push again"}, ""},
		{"a store error of no known kind is the store's failure", "push",
			fmt.Errorf("push: %w", &objstore.Error{Op: "put", Bucket: "b", Key: "k", Detail: "InternalError: boom (HTTP 500)"}),
			ExitStore, []string{"push: put s3://b/k: InternalError: boom (HTTP 500)"}, ""},
		{"a push onto a session is refused", "push",
			fmt.Errorf("push: %w", &sessionstore.Error{Op: "push", Dir: "d", URL: "s3://b/x", Err: fmt.Errorf("x/manifest.json: %w", sessionstore.ErrExists)}),
			ExitBadInput, []string{"push: d to s3://b/x: x/manifest.json: already exists", "push never replaces a session"}, ""},
		{"a pull into an existing folder is refused", "pull",
			fmt.Errorf("pull: %w", &sessionstore.Error{Op: "pull", Dir: "d", URL: "s3://b/x", Err: fmt.Errorf("d: %w", sessionstore.ErrExists)}),
			ExitBadInput, []string{"pull: s3://b/x to d: d: already exists", "a folder that does not exist yet"}, ""},
		{"no session at a URL says how to look", "pull", fmt.Errorf("pull: %w", &sessionstore.Error{Op: "pull", Dir: "d", URL: "s3://b/x", Err: sessionstore.ErrNoSession}),
			ExitBadInput, []string{"pull: s3://b/x to d: no session there", "'aws s3 ls s3://b/x/'"}, ""},
		{"a half-pushed session says to push again", "pull", fmt.Errorf("pull: %w", &sessionstore.Error{Op: "pull", Dir: "d", URL: "s3://b/x", Err: sessionstore.ErrIncomplete}),
			ExitBadInput, []string{"incomplete", "push the session again"}, ""},
		{"a key that leaves the folder is bad input", "pull", fmt.Errorf("pull: %w", &sessionstore.Error{Op: "pull", Dir: "d", URL: "s3://b/x", Err: sessionstore.ErrBadKey}),
			ExitBadInput, nil, ""},
		{"an interrupted prune says the next one finishes what it began", "prune",
			fmt.Errorf("prune: %w", &sessionstore.OpError{Op: "prune", URL: "s3://b/x", Err: context.Canceled}),
			ExitInterrupted, []string{"prune: interrupted", "finished by the next prune"}, "nothing was written"},
		{"an interrupted redact of a bucket leaves one whole session", "redact",
			fmt.Errorf("redact: %w", &sessionstore.OpError{Op: "redact", URL: "s3://b/x", Err: context.Canceled}),
			ExitInterrupted, []string{"redact: interrupted; the bucket holds the old session or the redacted one", "completes or undoes"}, ""},
		{"a hold on an empty place says how to look", "hold",
			fmt.Errorf("hold: %w", &sessionstore.OpError{Op: "hold", URL: "s3://b/x", Err: sessionstore.ErrNoSession}),
			ExitBadInput, []string{"hold: s3://b/x: no session there", "'aws s3 ls s3://b/x/'"}, "sessionstore:"},
		{"a hold on a half-pushed session says to complete it", "hold",
			fmt.Errorf("hold: %w", &sessionstore.OpError{Op: "hold", URL: "s3://b/x", Err: sessionstore.ErrIncomplete}),
			ExitBadInput, []string{"hold: s3://b/x: the session is incomplete", "push the session again"}, ""},
		{"a redact of a session under a legal hold is refused, naming release", "redact",
			fmt.Errorf("redact: %w", &sessionstore.OpError{Op: "redact", URL: "s3://b/x", Err: fmt.Errorf("%w (3 object versions)", sessionstore.ErrLegalHold)}),
			ExitBadInput, []string{"redact: s3://b/x: under an Object Lock legal hold", "'spacecast release s3://b/x' first"}, ""},
		{"a prune that lost its lock stops and says to run it again", "prune",
			fmt.Errorf("prune: %w", &sessionstore.OpError{Op: "prune", URL: "s3://b/x", Err: fmt.Errorf("%w: not renewed for 20s", sessionstore.ErrLockLost)}),
			ExitFailure, []string{"prune: s3://b/x: the prune lock in the bucket was lost", "run it again"}, ""},
		{"a store that ignores conditional writes is refused for prune", "prune",
			fmt.Errorf("prune: %w", &sessionstore.OpError{Op: "prune", URL: "s3://b/x", Err: fmt.Errorf("s3://b/x/.spacecast-prune.lock: %w", sessionstore.ErrNoConditional)}),
			ExitStore, []string{"does not honour conditional writes", "nothing was deleted"}, ""},
		{"a journal altered by hand is bad input", "pull",
			fmt.Errorf("pull: %w", &sessionstore.Error{Op: "pull", Dir: "d", URL: "s3://b/x", Err: fmt.Errorf("x/.spacecast-redact.tmp: %w", sessionstore.ErrBadJournal)}),
			ExitBadInput, []string{"x/.spacecast-redact.tmp: a journal that does not parse", "altered by hand"}, ""},
		{"access denied to prune names what prune needs", "prune",
			fmt.Errorf("prune: %w", &sessionstore.OpError{Op: "prune", URL: "s3://b/x", Err: &objstore.Error{Op: "delete version", Bucket: "b", Key: "x/a", Kind: objstore.ErrDenied, Detail: "AccessDenied"}}),
			ExitStore, []string{"prune: delete version s3://b/x/a: access denied", "s3:DeleteObjectVersion"}, ""},
		{"an unfinalized session is not pushed; recover finishes it", "push",
			fmt.Errorf("push: %w", &sessionstore.Error{Op: "push", Dir: "d", URL: "s3://b/x", Err: session.ErrNotFinalized}),
			ExitBadInput, []string{"not finalized", "'spacecast recover d'"}, ""},
		{"an unfinalized session in a bucket is not pulled", "pull",
			fmt.Errorf("pull: %w", &sessionstore.Error{Op: "pull", Dir: "d", URL: "s3://b/x", Err: session.ErrNotFinalized}), ExitBadInput, nil, ""},
		{"a session changed since its seal is not pushed", "push",
			fmt.Errorf("push: %w", &sessionstore.Error{Op: "push", Dir: "d", URL: "s3://b/x", Err: &session.SealMismatchError{Dir: "d", Changed: []string{"a.opus"}}}),
			ExitBadInput, []string{"changed: a.opus", "'spacecast verify d'"}, ""},
		{"a copy in the bucket changed since its seal is not pulled", "pull",
			fmt.Errorf("pull: %w", &sessionstore.Error{Op: "pull", Dir: "d", URL: "s3://b/x", Err: &session.SealMismatchError{Dir: "s3://b/x", Changed: []string{"a.opus"}}}),
			ExitBadInput, []string{"changed: a.opus", "the copy in the bucket changed"}, ""},
		{"a folder that is no session, pushed, says to give one", "push",
			fmt.Errorf("push: %w", &sessionstore.Error{Op: "push", Dir: "d", URL: "s3://b/x", Err: &session.NotSessionError{Dir: "d"}}),
			ExitBadInput, []string{"push: d is not a spacecast session (no manifest.json): give the session folder"}, ""},
		// Sites in object storage.
		{"an interrupted site push says the bucket serves a whole site", "site push",
			fmt.Errorf("site push: %w", &sitestore.Error{Dir: "site", URL: "s3://b/p", Err: context.Canceled}),
			ExitInterrupted, []string{"site push: interrupted; the bucket serves the old site or the new one", "push again"}, "nothing was written"},
		{"a publish whose push was interrupted says the episode is published and how to finish", "publish",
			fmt.Errorf("publish: %w", &sitestore.Error{Dir: "site", URL: "s3://b/p", Err: context.Canceled}),
			ExitInterrupted, []string{"publish: interrupted;", "the episode is published in site; 'spacecast site push site s3://b/p'"}, ""},
		{"a site push interrupted before the bucket was reached wrote nothing", "site push", fmt.Errorf("site push: %w", context.Canceled),
			ExitInterrupted, []string{"site push: interrupted; nothing was written"}, ""},
		{"a publish whose push failed says how to complete it", "publish",
			fmt.Errorf("publish: %w", &sitestore.Error{Dir: "site", URL: "s3://b/p", Err: &objstore.Error{Op: "put", Bucket: "b", Key: "p/feed.xml", Kind: objstore.ErrUnreachable, Detail: "refused"}}),
			ExitStore, []string{"publish: put s3://b/p/feed.xml: the store does not answer", "the episode is published in site; 'spacecast site push site s3://b/p' uploads it"}, ""},
		{"an unpublish whose push failed says the episode is unpublished in the folder", "unpublish",
			fmt.Errorf("unpublish: %w", &sitestore.Error{Dir: "site", URL: "s3://b/p", Err: &objstore.Error{Op: "delete", Bucket: "b", Key: "p/episodes/a.mp3", Kind: objstore.ErrDenied, Detail: "AccessDenied"}}),
			ExitStore, []string{"unpublish: delete s3://b/p/episodes/a.mp3: access denied", "the episode is unpublished in site; 'spacecast site push site s3://b/p'"}, ""},
		{"a site push names the site and the place", "site push",
			fmt.Errorf("site push: %w", &sitestore.Error{Dir: "site", URL: "s3://b/p", Err: errors.New("boom")}),
			ExitFailure, []string{"site push: site to s3://b/p: boom"}, "sitestore:"},
		{"a lock held too long says who holds it and what to do", "site push",
			fmt.Errorf("site push: %w", &sitestore.Error{Dir: "site", URL: "s3://b/p", Err: &sitestore.LockedError{Lock: "s3://b/p/.spacecast-push.lock", Waited: time.Minute}}),
			ExitFailure, []string{"another push holds the lock: s3://b/p/.spacecast-push.lock", "raise --lock-timeout"}, ""},
		{"a lost lock says to push again", "site push",
			fmt.Errorf("site push: %w", &sitestore.Error{Dir: "site", URL: "s3://b/p", Err: sitestore.ErrLockLost}),
			ExitStore, []string{"the push lost its lock", "push again"}, ""},
		{"a site changed during the push says to push again", "site push",
			fmt.Errorf("site push: %w", &sitestore.Error{Dir: "site", URL: "s3://b/p", Err: fmt.Errorf("episodes/a.mp3: %w", sitestore.ErrChanged)}),
			ExitFailure, []string{"the site changed while it was pushed", "push again"}, ""},
		{"access denied to a site push names delete too", "site push",
			fmt.Errorf("site push: %w", &sitestore.Error{Dir: "site", URL: "s3://b/p", Err: &objstore.Error{Op: "delete", Bucket: "b", Key: "p/x", Kind: objstore.ErrDenied, Detail: "AccessDenied"}}),
			ExitStore, []string{"site push: delete s3://b/p/x: access denied", "s3:DeleteObject"}, ""},
		{"a mix of a half-pushed session in a bucket names it and says to push again", "mix",
			fmt.Errorf("mix: %w", &sessionstore.Error{Op: "read", URL: "s3://b/x", Err: sessionstore.ErrIncomplete}),
			ExitBadInput, []string{"mix: s3://b/x: the session is incomplete", "push the session again"}, ""},
		{"inspect of an empty place in a bucket says how to look", "inspect",
			fmt.Errorf("inspect: %w", &sessionstore.Error{Op: "read", URL: "s3://b/x", Err: sessionstore.ErrNoSession}),
			ExitBadInput, []string{"inspect: s3://b/x: no session there", "'aws s3 ls s3://b/x/'"}, ""},
		{"verify of a session still recording into a bucket is bad input", "verify",
			fmt.Errorf("verify: %w", &sessionstore.Error{Op: "read", URL: "s3://b/x", Err: session.ErrNotFinalized}), ExitBadInput, []string{"verify: s3://b/x: session is not finalized"}, ""},
		{"a key of a bucket session that leaves its place is bad input for clip", "clip",
			fmt.Errorf("clip: %w", &sessionstore.Error{Op: "read", URL: "s3://b/x", Err: sessionstore.ErrBadKey}), ExitBadInput, nil, ""},
		{"refused credentials while trimming a bucket session are the store's status", "trim",
			fmt.Errorf("trim: %w", &objstore.Error{Op: "check bucket", Bucket: "b", Kind: objstore.ErrAuth, Detail: "InvalidAccessKeyId"}),
			ExitStore, []string{"trim: check bucket s3://b: the store refused the credentials", "check AWS_ACCESS_KEY_ID"}, ""},
		{"a stream of a bucket session that broke for good during export is the store's status", "export",
			fmt.Errorf("export: %w", &objstore.Error{Op: "get", Bucket: "b", Key: "x/tracks/a.opus", Detail: "connection reset"}),
			ExitStore, []string{"export: get s3://b/x/tracks/a.opus: connection reset"}, ""},
		{"a NATS that does not answer is the store's status, with where to look", "jobs",
			fmt.Errorf("jobs: %w", &fleet.UnavailableError{What: "connect to nats://127.0.0.1:1", Err: nats.ErrNoServers}),
			ExitStore, []string{"jobs: fleet: connect to nats://127.0.0.1:1: NATS is unavailable", "--nats", "--creds", "--nats-timeout"}, ""},
		{"a NATS that does not answer when the webhook receiver starts is the store's status", "webhook",
			fmt.Errorf("webhook: %w", &fleet.UnavailableError{What: "connect to nats://127.0.0.1:1", Err: nats.ErrNoServers}),
			ExitStore, []string{"webhook: fleet: connect to nats://127.0.0.1:1: NATS is unavailable", "--nats", "--creds"}, ""},
		{"a template the job checks refuse names the webhook's flag", "webhook",
			fmt.Errorf("webhook: %w", &fleet.JobError{Field: "record.sign_key", Reason: "names no file (file:/ABSOLUTE/PATH, clean)"}),
			ExitUsage, []string{"webhook: --sign-key-from names no file"}, "fleet"},
		{"a --store that is no s3 URL is a usage error of the webhook too", "webhook",
			fmt.Errorf("webhook: --store: %w", &objstore.URLError{URL: "s3:/x", Reason: "want s3://BUCKET/PREFIX"}),
			ExitUsage, []string{`webhook: "s3:/x" is not an s3://BUCKET/PREFIX URL`}, ""},
		{"a secret given in clear to submit names its flag and is not repeated", "submit record",
			fmt.Errorf("submit record: %w", &fleet.JobError{Field: "record.api_secret", Reason: "is not a reference to a secret (env:NAME or file:/PATH)"}),
			ExitUsage, []string{"submit record: --api-secret-from is not a reference to a secret"}, "fleet"},
		{"a job field no flag sets is named as the library names it", "submit record",
			fmt.Errorf("submit record: %w", &fleet.JobError{Field: "id", Reason: "does not belong to the job's room"}),
			ExitUsage, []string{"submit record: job: id does not belong"}, ""},
		{"a malformed job ID is a usage error pointing at the list", "jobs show",
			fmt.Errorf("jobs show: %w", &fleet.IDError{ID: "x"}), ExitUsage, []string{`"x" is not a job ID`, "'spacecast jobs' lists"}, ""},
		{"an unknown job is bad input pointing at the list", "jobs cancel",
			fmt.Errorf("jobs cancel: %w", fleet.ErrNotFound), ExitBadInput, []string{"no such job", "'spacecast jobs' lists"}, ""},
		{"cancelling a finished job says how it ended and where to look", "jobs cancel",
			fmt.Errorf("jobs cancel: %w", &fleet.FinishedError{ID: "0123456789abcdef-01234567", State: fleet.Done}),
			ExitBadInput, []string{"job 0123456789abcdef-01234567 is done already", "jobs show"}, ""},
		{"an unknown protocol given to submit names --protocol", "submit record",
			fmt.Errorf("submit record: %w", &protocols.UnknownError{Name: "sip"}), ExitUsage, []string{`submit record: --protocol "sip"`}, ""},
		{"a --store that is no s3 URL is a usage error", "submit record",
			fmt.Errorf("submit record: --store: %w", &objstore.URLError{URL: "s3:/x", Reason: "want s3://BUCKET/PREFIX"}),
			ExitUsage, []string{`submit record: "s3:/x" is not an s3://BUCKET/PREFIX URL`}, ""},
		{"an error no row knows is a failure, as it is", "export", errors.New("export: boom"), ExitFailure, []string{"export: boom"}, "("},
	}
	matched := make([]bool, len(errorTable))
	for _, c := range cases {
		err := explain(c.command, c.err)
		if got := ExitCode(err); got != c.code {
			t.Errorf("%s: exit %d, want %d (%v)", c.name, got, c.code, err)
		}
		msg := err.Error()
		rest := msg
		for _, w := range c.want {
			i := strings.Index(rest, w)
			if i < 0 {
				t.Errorf("%s: %q lacks %q (in order)", c.name, msg, w)
				break
			}
			rest = rest[i+len(w):]
		}
		if c.notWant != "" && strings.Contains(msg, c.notWant) {
			t.Errorf("%s: %q says %q", c.name, msg, c.notWant)
		}
		for _, m := range longFlag.FindAllStringSubmatch(msg, -1) {
			if !long[m[1]] {
				t.Errorf("%s: %q names %s, which no command has", c.name, msg, m[1])
			}
		}
		for i, r := range errorTable {
			if (r.only == nil || slices.Contains(r.only, c.command)) && r.match(c.err) {
				matched[i] = true
			}
		}
		if !errors.Is(err, c.err) {
			t.Errorf("%s: the explained error does not unwrap to the command's", c.name)
		}
		if again := explain(c.command, err); again.Error() != msg {
			t.Errorf("%s: explained twice: %q, then %q", c.name, msg, again)
		}
	}
	for i, ok := range matched {
		if !ok {
			t.Errorf("row %d of the error table has no case here: add one", i)
		}
	}
	if explain("mix", nil) != nil || ExitCode(nil) != ExitOK {
		t.Errorf("no error is not success")
	}
}

// s3URLErr is the error a command returns for an s3:// argument that does not parse.
func s3URLErr(command, arg string) error {
	_, err := parseS3(command, arg)
	return err
}
