package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spacecast/spacecast/pkg/capture"
	"github.com/spacecast/spacecast/pkg/codec"
	"github.com/spacecast/spacecast/pkg/edit"
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

// The error table: the one place where an error a command returns becomes what the user reads and
// the exit status. Libraries say what happened to what (a file, a session, a site, a limit) with
// sentinel and struct errors; only the CLI knows its flags, so a row adds the flag to change or the
// command to run. Commands wrap a library error with their name ("publish: %w") and return it;
// Run consults the table once (explain), ExitCode reads the status.
//
// A row matches with errors.Is or errors.As. The first matching row that gives a status decides
// it; the first matching row that gives a message replaces the text; the first matching row whose
// hint is not empty adds it in parentheses. A status a command set itself (usageErr for its flag
// checks, inputErr for an input it knows is wrong) comes before the table, and an interruption
// before everything.
//
// Rows for new errors (the recorder's and the rooms') go in the same slice, most specific first.
type errorRow struct {
	// match reports whether the error (the whole chain) is this row's.
	match func(err error) bool
	// only lists the commands ("redact", "feed init") the row is for; nil: every command.
	only []string
	// code is the exit status; 0: this row does not decide it.
	code int
	// message, when set, replaces the whole text. command is the command that ran ("publish").
	message func(command string, err error) string
	// hint, when set, is added in parentheses: the flag to use or the command to run. "" adds
	// nothing.
	hint func(command string, err error) string
}

// errorTable is consulted from top to bottom.
var errorTable = []errorRow{
	// An interrupted push cannot take back what it uploaded; without the manifest it is no session.
	{match: func(err error) bool { return errors.Is(err, context.Canceled) && as[*sitestore.Error](err) }, only: siteStoreOnly, code: ExitInterrupted,
		message: func(command string, err error) string {
			e := find[*sitestore.Error](err)
			msg := command + ": interrupted; the bucket serves the old site or the new one (feed.xml and index.html go last, " +
				"deletions after them), never a feed naming audio not there: "
			if command != "site push" {
				return msg + fmt.Sprintf("the episode is %sed in %s; 'spacecast site push %s %s' completes the upload", command, e.Dir, e.Dir, e.URL)
			}
			return msg + "push again to complete it"
		}},
	{match: is(context.Canceled), only: storeInterruptible, code: ExitInterrupted,
		message: func(command string, err error) string {
			switch command {
			case "push":
				return "push: interrupted; the files uploaded so far are in the bucket without a manifest, so nothing takes them " +
					"for a session: push again to complete it"
			case "pull":
				return "pull: interrupted; nothing was written"
			}
			return storeInterrupted(command, err)
		}},
	// Interrupted: every command removes what it had begun to write.
	{match: is(context.Canceled), code: ExitInterrupted,
		message: func(string, error) string { return "interrupted; nothing was written" }},

	// The machine failed, not the input: a full disk, an I/O error, a read-only file system.
	{match: is(syscall.ENOSPC, syscall.EDQUOT, syscall.EIO, syscall.EROFS), code: ExitFailure},

	// The recorder and its room (record, demo). pkg/record and pkg/room say what happened to
	// which room, file or socket; a row adds the flag that changes it. Before the sessions' rows:
	// a recording's error may wrap a session's, and the recording's wording comes first.
	{match: as[*protocols.UnknownError], only: roomURLOnly, code: ExitUsage,
		message: func(command string, err error) string {
			return fmt.Sprintf("%s: --protocol %q: want livekit, janus or whep", command, find[*protocols.UnknownError](err).Name)
		}},
	{match: is(protocols.ErrBadURL), only: roomURLOnly, code: ExitUsage,
		message: func(command string, _ error) string {
			// The URL is not repeated: it may carry a key, and it did not parse, so it cannot be redacted.
			return command + ": the room URL does not parse as a URL with a host (want ws://, wss://, http:// or https://HOST/…)"
		}},
	{match: as[*protocols.SchemeError], only: roomURLOnly, code: ExitUsage,
		message: func(command string, err error) string {
			e := find[*protocols.SchemeError](err)
			return fmt.Sprintf("%s: %q: scheme %q is not a room URL; pass --protocol if the URL is right", command, e.URL, e.Scheme)
		}},
	{match: is(protocols.ErrLiveKitRoom), only: recordOnly, code: ExitUsage,
		message: func(command string, _ error) string {
			return fmt.Sprintf("%s: %v: LiveKit needs --room (and --api-key/--api-secret, or --token)", command, room.ErrURL)
		}},
	{match: is(room.ErrURL), only: recordOnly, code: ExitUsage},
	{match: as[*record.JoinError], only: recordOnly, code: ExitRoom,
		message: func(command string, err error) string {
			join := find[*record.JoinError](err)
			if is(room.ErrURL, room.ErrAuth, room.ErrNoRoom, room.ErrEmptyRoom, room.ErrUnreachable, room.ErrNotSupported)(join.Err) {
				return fmt.Sprintf("%s: %v", command, join.Err)
			}
			return fmt.Sprintf("%s: could not join: %v", command, join.Err)
		}},
	{match: as[*record.JoinError], only: []string{"demo"},
		message: func(command string, err error) string {
			return fmt.Sprintf("%s: join the room: %v", command, find[*record.JoinError](err).Err)
		}},
	{match: as[*record.LostError], only: recordOnly, code: ExitRoom,
		message: func(command string, err error) string {
			lost := find[*record.LostError](err)
			return fmt.Sprintf("%s: %v; the session in %s is finalized up to then", command, lost.Err, lost.Dir)
		}},
	{match: is(room.ErrLost), only: recordOnly, hint: text("raise --reconnect-timeout to try for longer")},
	{match: func(err error) bool { return as[*room.WaitError](err) && errors.Is(err, room.ErrNoRoom) }, only: recordOnly,
		hint: byProtocol("check --room, or raise --wait", wordings{protocols.WHEP: "check the endpoint URL, or raise --wait"})},
	{match: as[*room.WaitError], only: recordOnly,
		hint: byProtocol("raise --wait to wait longer for a speaker", wordings{protocols.WHEP: "raise --wait to wait longer for the stream"})},
	{match: is(room.ErrNoRoom), only: recordOnly,
		hint: byProtocol("check --room, or use --wait to start before the room opens",
			wordings{protocols.WHEP: "check the endpoint URL, or use --wait if the stream has not started"})},
	{match: is(room.ErrEmptyRoom), only: recordOnly,
		hint: byProtocol("use --wait to wait for the first speaker", wordings{protocols.WHEP: "use --wait to wait for the stream to start"})},
	{match: is(room.ErrNoRoomName), only: recordOnly,
		hint: byProtocol("give --room (and --api-key/--api-secret, or --token)",
			wordings{protocols.Janus: "give --room with the room's id as the server configures it"})},
	{match: is(room.ErrPIN), only: recordOnly, hint: text("a room with a PIN needs --pin")},
	{match: is(room.ErrAuth), only: recordOnly,
		hint: byProtocol("check --token", wordings{
			protocols.LiveKit: "check --token, or --api-key and --api-secret, which default to LIVEKIT_API_KEY and LIVEKIT_API_SECRET",
			protocols.Janus:   "check --api-secret / --token",
		})},
	{match: is(room.ErrLocalNetwork), only: recordOnly, hint: text("check --interface, or use --loopback for a server on this machine")},
	{match: is(whep.ErrURLCredentials), only: recordOnly, hint: text("put the bearer token in --token, not in the URL")},
	{match: is(room.ErrNoMessages), only: recordOnly, hint: byProtocol("", wordings{protocols.WHEP: "get consent another way and use --consent assume"})},
	{match: is(room.ErrIdentityTaken), only: recordOnly, hint: text("give each recorder its own --identity")},
	{match: is(record.ErrServerMixes), only: recordOnly, code: ExitUsage,
		message: func(command string, err error) string {
			what := "--exclude"
			if e := find[*record.ServerMixesError](err); e != nil && e.Policy == capture.PolicyOptIn {
				what = "--consent opt-in"
			}
			return fmt.Sprintf("%s: %s cannot be honoured in a Janus AudioBridge room: the server mixes every speaker into one track, "+
				"so the recorder cannot leave one person out. Record a VideoRoom (or LiveKit) room instead, or use --consent announced/assume "+
				"without --exclude", command, what)
		}},
	{match: is(capture.ErrExists), only: recordOnly, code: ExitBadInput},
	{match: func(err error) bool { return finalizeOf(err) != nil && errors.Is(err, syscall.ENOSPC) }, only: recordOnly,
		message: func(command string, err error) string {
			// The first failure names the file; the rest (every writer hit the same wall) add nothing.
			fin := finalizeOf(err)
			first, _, _ := strings.Cut(fin.Err.Error(), "\n")
			return fmt.Sprintf("%s: the disk is full: %s\n"+
				"  The recording stopped after %s; everything up to the last sync (every second) is in %s.\n"+
				"  Free space on that disk (or move the folder to a disk with room), then run 'spacecast recover %s' to finish the session.",
				command, first, fin.Elapsed.Truncate(time.Second), fin.Dir+inPieces(err), recoverArg(err, fin.Dir))
		}},
	{match: func(err error) bool { return finalizeOf(err) != nil }, only: recordOnly,
		message: func(command string, err error) string {
			fin := finalizeOf(err)
			return fmt.Sprintf("%s: stopped: %v; everything up to the last sync is in %s ('spacecast recover %s' finishes it once the problem is fixed)",
				command, fin.Err, fin.Dir+inPieces(err), recoverArg(err, fin.Dir))
		}},
	{match: as[*record.SealError], only: []string{"demo"},
		message: func(command string, err error) string {
			return fmt.Sprintf("%s: seal the session: %v", command, find[*record.SealError](err).Err)
		}},
	{match: func(err error) bool { return as[*record.FinalizeError](err) || as[*record.LostError](err) }, only: []string{"demo"},
		message: func(command string, err error) string {
			if fin := find[*record.FinalizeError](err); fin != nil {
				return fmt.Sprintf("%s: recording: %v", command, fin.Err)
			}
			return fmt.Sprintf("%s: recording: %v", command, find[*record.LostError](err).Err)
		}},
	// Warnings: the recording goes on; Observe prints them through explain.
	{match: as[*record.AnnounceError], only: recordOnly,
		message: func(_ string, err error) string {
			e := find[*record.AnnounceError](err)
			if e.What == record.AnnounceStarted {
				return fmt.Sprintf("could not announce the recording in the room: %v (the recorder is still visible as %q)", e.Err, e.Name)
			}
			return fmt.Sprintf("could not tell the room %q: %v", e.Text, e.Err)
		}},
	{match: as[*control.ListenError], only: recordOnly,
		message: func(command string, err error) string {
			e := find[*control.ListenError](err)
			return fmt.Sprintf("%s: control socket %s: %v; --pause/--resume will not reach this recorder (SIGUSR1/SIGUSR2 still do)", command, e.Socket, e.Err)
		}},
	// 'record --pause/--resume DIR': asking the recorder of DIR through its control socket.
	{match: is(control.ErrNoRecorder), only: recordOnly, code: ExitBadInput,
		message: func(command string, err error) string {
			send := find[*control.SendError](err)
			return fmt.Sprintf("%s: no recorder is running for %s (it has no %s file): give the session folder a running 'spacecast record' writes",
				controlCommand(command, err), send.Dir, control.FileName)
		}},
	{match: as[*control.DialError], only: recordOnly, code: ExitBadInput,
		message: func(command string, err error) string {
			send, dial := find[*control.SendError](err), find[*control.DialError](err)
			return fmt.Sprintf("%s: the recorder of %s does not answer on %s (%v): is it still running?", controlCommand(command, err), send.Dir, dial.Socket, dial.Err)
		}},
	{match: as[*control.ReplyError], only: recordOnly,
		message: func(command string, err error) string {
			send, reply := find[*control.SendError](err), find[*control.ReplyError](err)
			if reply.Answer == "" {
				return fmt.Sprintf("%s: no answer from the recorder of %s: %v", controlCommand(command, err), send.Dir, reply.Err)
			}
			return fmt.Sprintf("%s: the recorder of %s answered %q: %v", controlCommand(command, err), send.Dir, reply.Answer, reply.Err)
		}},
	{match: func(err error) bool { return as[*control.SendError](err) && as[*fs.PathError](err) }, only: recordOnly, code: ExitBadInput}, // the control file cannot be read
	{match: as[*control.SendError], only: recordOnly,
		message: func(command string, err error) string {
			return fmt.Sprintf("%s: %v", controlCommand(command, err), find[*control.SendError](err).Err)
		}},

	// A recording whose place in the bucket another writer took over (a recover or a join of the
	// session, taking its recorder for dead): it wrote nothing more there; the spool keeps it.
	{match: is(sessionstore.ErrFenced), only: recordOnly, code: ExitBadInput,
		message: func(command string, err error) string {
			e, dir := find[*sessionstore.FencedError](err), ""
			if ue := find[*record.UploadError](err); ue != nil {
				dir = ue.Dir
			}
			return fmt.Sprintf("%s: %s was taken over by another writer (%s) while this recorder was cut off from the store: it wrote nothing more there; the recording stays in the spool %s",
				command, e.URL, e.Holder, dir)
		},
		hint: text("nothing was overwritten; to keep what this recorder has beyond what the bucket holds, push the spool under another name ('spacecast push SPOOL s3://BUCKET/PREFIX/OTHER-NAME')")},
	// A recording into a bucket whose session did not get there: nothing is lost, the spool has it.
	{match: func(err error) bool { e := find[*record.UploadError](err); return e != nil && e.Finished }, only: recordOnly, code: ExitStore,
		message: func(command string, err error) string {
			e := find[*record.UploadError](err)
			return fmt.Sprintf("%s: the recording is finished and sealed in the spool %s, but could not be uploaded to %s: %s; nothing is lost, the spool keeps it: "+
				"when the store is back, 'spacecast recover %s%s' uploads it and removes the spool", command, e.Dir, e.URL, storeText(e.Err), e.URL, spoolArg(e.Dir, e.URL))
		}},
	{match: is(sessionstore.ErrExists), only: recordOnly, code: ExitBadInput,
		hint: text("choose another name in the bucket; record never replaces a session")},
	{match: is(sessionstore.ErrLive), only: recordOnly, code: ExitBadInput,
		hint: func(_ string, err error) string {
			if e := find[*sessionstore.Error](err); e != nil {
				return "if its recorder died, 'spacecast recover " + e.URL + "' finishes it; else choose another name in the bucket"
			}
			return ""
		}},
	{match: is(sessionstore.ErrNoSession, sessionstore.ErrNoLiveManifest, sessionstore.ErrBadPiece, sessionstore.ErrBadKey), only: []string{"recover"}, code: ExitBadInput,
		hint: func(_ string, err error) string {
			if e := find[*sessionstore.Error](err); e != nil && errors.Is(err, sessionstore.ErrNoSession) {
				return "check the URL: 'aws s3 ls " + e.URL + "/' lists what is stored there"
			}
			return ""
		}},
	{match: as[*sessionstore.RecordingError], only: []string{"recover"}, code: ExitBadInput,
		hint: func(_ string, err error) string {
			e := find[*sessionstore.RecordingError](err)
			return fmt.Sprintf("a running recorder uploads the session itself when it stops; if it died, run recover again in %s; nothing was changed",
				(e.Quiet - e.Age).Round(time.Second))
		}},
	{match: is(sessionstore.ErrIncomplete, sessionstore.ErrPartsMixed), only: []string{"recover"}, code: ExitBadInput,
		hint: text("a session recorded in parts is joined from NAME, NAME-part2, NAME-part3, ...: 'aws s3 ls' the place named, and remove what is no part of this recording (a push that stopped: push it again); nothing was changed")},
	{match: as[*sessionstore.SpoolError], only: []string{"recover"}, code: ExitBadInput,
		hint: text("give the spool of that recording with --spool, or move this one away to recover from the bucket's pieces alone")},

	// The fleet's jobs on NATS JetStream (submit, jobs). pkg/fleet names the job, room or field; a
	// row adds the flag. NATS that does not answer is a store that does not (exit 5).
	{match: as[*fleet.UnavailableError], only: fleetOnly, code: ExitStore,
		hint: text("is nats-server running with JetStream (-js) at --nats (or NATS_URL)? A server that wants credentials " +
			"needs --creds (or NATS_CREDS); --nats-timeout waits longer")},
	{match: as[*fleet.JobError], only: []string{"submit record", "webhook"}, code: ExitUsage,
		message: func(command string, err error) string {
			e := find[*fleet.JobError](err)
			if flag, ok := jobFlags[e.Field]; ok {
				return fmt.Sprintf("%s: %s %s", command, flag, e.Reason)
			}
			return command + ": " + strings.TrimPrefix(e.Error(), "fleet: ")
		}},
	{match: as[*fleet.IDError], only: fleetOnly, code: ExitUsage, hint: text("'spacecast jobs' lists the jobs and their IDs")},
	{match: is(fleet.ErrNotFound), only: fleetOnly, code: ExitBadInput,
		hint: text("'spacecast jobs' lists each room's latest job; a room's older jobs are forgotten after 16 changes")},
	{match: as[*fleet.FinishedError], only: fleetOnly, code: ExitBadInput, hint: text("'spacecast jobs show ID' shows how it ended")},

	// Sessions in object storage (push, pull). The store's errors name the operation, bucket and
	// key; a row adds where the setting comes from. Before the sessions' rows: a pulled session's
	// seal mismatch names the URL, not a folder verify could read.
	{match: as[*objstore.URLError], only: storeURLOnly, code: ExitUsage,
		message: func(command string, err error) string {
			e := find[*objstore.URLError](err)
			if e.URL == "" {
				return fmt.Sprintf("%s: the s3 URL %s", command, e.Reason)
			}
			return fmt.Sprintf("%s: %q is not an s3://BUCKET/PREFIX URL: %s", command, e.URL, e.Reason)
		}},
	{match: is(sessionstore.ErrNoName), only: storeOnly, code: ExitUsage},
	{match: as[*objstore.Error], only: storeOnly,
		message: func(command string, err error) string {
			return command + ": " + strings.TrimPrefix(find[*objstore.Error](err).Error(), "objstore: ")
		}},
	{match: func(err error) bool { return as[*sessionstore.Error](err) && !errors.Is(err, session.ErrNotSession) }, only: storeOnly,
		message: func(command string, err error) string {
			e := find[*sessionstore.Error](err)
			return command + ": " + strings.TrimPrefix(e.Error(), "sessionstore: "+e.Op+" ")
		}},
	{match: as[*sessionstore.OpError], only: storeOnly,
		message: func(command string, err error) string {
			e := find[*sessionstore.OpError](err)
			return command + ": " + strings.TrimPrefix(e.Error(), "sessionstore: "+e.Op+" ")
		}},
	// Sites in object storage (site push, publish --push). A failed push of publish comes after
	// the episode was published in the folder: the hint says how to finish.
	{match: as[*sitestore.Error], only: []string{"publish", "unpublish"},
		hint: func(command string, err error) string {
			e := find[*sitestore.Error](err)
			return fmt.Sprintf("the episode is %sed in %s; 'spacecast site push %s %s' uploads it once this is put right", command, e.Dir, e.Dir, e.URL)
		}},
	{match: func(err error) bool { return as[*sitestore.Error](err) && !as[*objstore.Error](err) }, only: siteStoreOnly,
		message: func(command string, err error) string {
			e := find[*sitestore.Error](err)
			what := "push " + e.Dir
			if command == "site push" {
				what = e.Dir
			}
			return fmt.Sprintf("%s: %s to %s: %v", command, what, e.URL, unprefixed(e.Err))
		}},
	{match: is(sitestore.ErrLocked), only: siteStoreOnly, code: ExitFailure,
		hint: text("wait for the other push to finish, or raise --lock-timeout; a lock not renewed for a minute is taken over")},
	{match: is(sitestore.ErrLockLost), only: siteStoreOnly, code: ExitStore,
		hint: text("nothing more was written; push again to complete the upload")},
	{match: is(sitestore.ErrChanged), only: siteStoreOnly, code: ExitFailure,
		hint: text("another run changed the site while it was uploaded: push again")},
	{match: is(objstore.ErrConfig, objstore.ErrNoCredentials, objstore.ErrAuth), only: storeOnly, code: ExitStore,
		hint: text("check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the profile (--profile, AWS_PROFILE) in ~/.aws/config and ~/.aws/credentials")},
	{match: is(objstore.ErrUnreachable), only: storeOnly, code: ExitStore,
		hint: text("check --endpoint-url (or AWS_ENDPOINT_URL) and that the server runs")},
	{match: is(objstore.ErrNoBucket), only: storeOnly, code: ExitStore,
		hint: text("check the bucket's name, and that --endpoint-url (or AWS_ENDPOINT_URL) and AWS_REGION point where it lives")},
	{match: is(objstore.ErrDenied), only: storeOnly, code: ExitStore,
		hint: func(command string, _ error) string {
			need, ok := storePermissions[command]
			if !ok {
				need = command + " needs s3:GetObject and s3:ListBucket to read a session in a bucket"
			}
			return "the credentials may not do this: " + need + " (docs/storage.md)"
		}},
	{match: is(objstore.ErrChecksum), only: storeOnly,
		hint: text("the bytes changed on the way, or the file changed while it was read: push again")},
	{match: func(err error) bool { return as[*objstore.Error](err) && find[*objstore.Error](err).Kind == nil }, only: storeOnly, code: ExitStore},
	{match: is(sessionstore.ErrExists), only: []string{"push"}, code: ExitBadInput,
		hint: text("choose another name in the bucket; push never replaces a session")},
	{match: is(sessionstore.ErrExists), only: []string{"pull"}, code: ExitBadInput,
		hint: text("choose a folder that does not exist yet")},
	{match: is(sessionstore.ErrNoSession), only: pullOrRead, code: ExitBadInput,
		hint: func(_ string, err error) string {
			e := find[*sessionstore.Error](err)
			if e == nil {
				return ""
			}
			return "check the URL: 'aws s3 ls " + e.URL + "/' lists what is stored there"
		}},
	{match: is(sessionstore.ErrIncomplete), only: pullOrRead, code: ExitBadInput,
		hint: text("push the session again from where it was recorded to complete it")},
	{match: is(sessionstore.ErrBadKey), only: append([]string{"redact"}, pullOrRead...), code: ExitBadInput},
	{match: is(sessionstore.ErrBadJournal), only: storeOnly, code: ExitBadInput,
		hint: text("an object spacecast writes while it changes a session was altered by hand; look at it with 'aws s3 cp', and delete it if the session is whole")},
	{match: is(sessionstore.ErrNoSession), only: []string{"hold", "release", "redact"}, code: ExitBadInput,
		hint: func(_ string, err error) string {
			if e := find[*sessionstore.OpError](err); e != nil {
				return "check the URL: 'aws s3 ls " + e.URL + "/' lists what is stored there"
			}
			return ""
		}},
	{match: is(sessionstore.ErrIncomplete), only: []string{"hold", "redact"}, code: ExitBadInput,
		hint: text("a push or a recording that did not finish: push the session again, or 'spacecast recover' the recording")},
	{match: is(sessionstore.ErrLegalHold), only: []string{"redact"}, code: ExitBadInput,
		hint: func(_ string, err error) string {
			if e := find[*sessionstore.OpError](err); e != nil {
				return "the store keeps every held version, the unredacted audio with it; if the hold may go, 'spacecast release " + e.URL + "' first; nothing was changed"
			}
			return ""
		}},
	{match: is(sessionstore.ErrNoConditional), only: []string{"prune"}, code: ExitStore,
		hint: text("nothing was deleted: without conditional writes two prunes could delete at once; use a store that has them (AWS S3, MinIO, Ceph RGW, versitygw)")},
	{match: is(sessionstore.ErrLockLost), only: []string{"prune"}, code: ExitFailure,
		hint: text("the prune stopped; run it again: it finishes a session it had begun to delete")},
	{match: is(session.ErrNotFinalized), only: []string{"push"}, code: ExitBadInput,
		hint: func(_ string, err error) string {
			if e := find[*sessionstore.Error](err); e != nil {
				return "wait for the recording to end, or run 'spacecast recover " + e.Dir + "' if its recorder died"
			}
			return ""
		}},
	{match: is(session.ErrNotFinalized), only: pullOrRead, code: ExitBadInput},
	{match: is(session.ErrSealMismatch), only: []string{"push"}, code: ExitBadInput,
		hint: func(_ string, err error) string {
			if e := find[*session.SealMismatchError](err); e != nil {
				return fmt.Sprintf("'spacecast verify %s' shows what changed since the session was sealed", e.Dir)
			}
			return ""
		}},
	{match: is(session.ErrSealMismatch), only: []string{"pull"}, code: ExitBadInput,
		hint: text("the copy in the bucket changed since it was sealed; nothing was written")},

	// Sessions.
	{match: is(session.ErrNotSession), code: ExitBadInput,
		message: func(command string, err error) string {
			var e *session.NotSessionError
			if !errors.As(err, &e) {
				return fmt.Sprintf("%s: %v", command, err)
			}
			return fmt.Sprintf("%s: %s is not a spacecast session (no manifest.json): give the session folder", command, e.Dir)
		}},
	{match: as[*session.LimitError], code: ExitBadInput,
		hint: text("manifest.json was damaged or edited by hand: restore it from a copy, or correct that value")},
	{match: is(session.ErrIrregular), only: []string{"recover", "redact"}, code: ExitBadInput,
		hint: func(command string, _ error) string {
			return "replace the link with a copy of what it points to, then run " + command + " again"
		}},
	{match: is(session.ErrSealMismatch), only: []string{"recover", "redact"}, code: ExitBadInput,
		hint: func(_ string, err error) string {
			var e *session.SealMismatchError
			if !errors.As(err, &e) {
				return ""
			}
			return fmt.Sprintf("'spacecast verify %s' shows what changed since the session was sealed", e.Dir)
		}},
	{match: is(session.ErrVersion, session.ErrNotFinalized), only: []string{"redact"}, code: ExitBadInput},
	{match: is(session.ErrInvalid), code: ExitBadInput},

	// Redaction.
	{match: is(redact.ErrReversed), code: ExitUsage, hint: text("give --from before --to")},
	{match: is(redact.ErrUnknownSpeaker, redact.ErrBadRange, redact.ErrNotFinalized), code: ExitBadInput},

	// The studio: mix, clip, trim, inspect.
	{match: is(ogg.ErrGranule), code: ExitBadInput,
		hint: text("the file's length does not add up: it is damaged or forged; get it again, or re-encode it from a good copy")},
	{match: is(studio.ErrNoLast), code: ExitBadInput, hint: text("for a file use --start and --end instead of --last")},
	{match: is(studio.ErrLosslessMP3), code: ExitBadInput, hint: text("or drop --copy to re-encode: a WAV clip is lossless without it")},
	{match: is(studio.ErrShortKeep), code: ExitBadInput, hint: text("or lower --crossfade")},
	{match: is(studio.ErrSameFile), code: ExitUsage, hint: text("choose another -o")},
	{match: is(studio.ErrBadRange), code: ExitUsage,
		hint: func(command string, _ error) string {
			if command == "trim" {
				return "give at least one --cut START-END"
			}
			return "give --start, and --end or --duration"
		}},
	{match: is(studio.ErrBadInput, codec.ErrUnknownFormat, codec.ErrEmpty, codec.ErrTruncated), code: ExitBadInput},
	{match: is(codec.ErrUnknownExtension, edit.ErrOverlap, edit.ErrBadRange), code: ExitUsage},

	// Podcast sites and feeds.
	{match: as[*site.NotMP3Error], code: ExitBadInput,
		message: func(command string, err error) string {
			var e *site.NotMP3Error
			errors.As(err, &e)
			if e.Kind == "" {
				return fmt.Sprintf("%s: %v: publish takes an MP3 or a session folder (make an MP3 from a WAV or Ogg Opus file with: spacecast mix FILE.wav -o FILE.mp3)", command, e)
			}
			return fmt.Sprintf("%s: %v: podcast apps play MP3; make one with:\n  spacecast mix %s -o %s", command, e, shellQuote(e.Path), shellQuote(mp3Name(e.Path)))
		}},
	{match: is(site.ErrLockTimeout), hint: text("wait for the other run to finish, or raise --lock-timeout")},
	{match: is(site.ErrNotEmpty), code: ExitBadInput,
		hint: text("choose an empty or new folder, or give --into-existing to add the site's files beside them: none is replaced")},
	{match: is(site.ErrNoSlug), code: ExitBadInput, hint: text("give one with --slug")},
	{match: as[*site.SlugTakenError], code: ExitBadInput,
		hint: func(_ string, err error) string {
			var e *site.SlugTakenError
			errors.As(err, &e)
			return fmt.Sprintf("change that one with 'spacecast publish --update %s %s ...', or publish this one under another --slug", shellQuote(e.Dir), e.Slug)
		}},
	{match: is(site.ErrSlugRetired), code: ExitBadInput, hint: text("publish it under another --slug")},
	{match: as[*site.TooLongError], code: ExitBadInput,
		hint: text("shorten it, or put long show notes in a Markdown file for --notes")},
	{match: is(feed.ErrNoTitle), hint: text("give it one with publish --update --title")},
	{match: is(feed.ErrLongDescription), hint: text("shorten it, or put long show notes in a Markdown file for publish --notes")},
	{match: is(site.ErrBadInput, site.ErrNoSite, site.ErrSiteExists, site.ErrSlugTaken, site.ErrNoEpisode, site.ErrBadRecord,
		feed.ErrConfig, feed.ErrArtwork), code: ExitBadInput},
	{match: as[*feed.ConfigError], code: ExitBadInput},
}

// recordOnly limits a row to the command that records a room.
var recordOnly = []string{"record"}

// roomURLOnly limits a row to the commands that take a room's URL and protocol.
var roomURLOnly = []string{"record", "submit record", "webhook"}

// fleetOnly limits a row to the commands of the fleet's job queue.
var fleetOnly = []string{"submit record", "jobs", "jobs show", "jobs cancel", "webhook", "worker"}

// jobFlags names the flag of submit record that sets each field of a record job.
var jobFlags = map[string]string{
	"record.url": "the room URL", "record.protocol": "--protocol", "record.room": "--room",
	"record.session": "--store/--session-name", "record.consent": "--consent", "record.allow": "--allow",
	"record.exclude": "--exclude", "record.retain": "--retain", "record.duration": "--duration",
	"record.stop_when_empty": "--stop-when-empty", "record.wait": "--wait", "record.janus_plugin": "--janus-plugin",
	"record.api_key": "--api-key", "record.api_secret": "--api-secret-from", "record.token": "--token-from",
	"record.janus_api_secret": "--janus-api-secret-from", "record.pin": "--pin-from", "record.sign_key": "--sign-key-from",
	"record.then": "the follow-ups", "record.then.mix": "--mix-to", "record.then.mix.to": "--mix-to",
	"record.then.mix.format": "--mix-format", "record.then.mix.loudness_lufs": "--loudness",
	"record.then.mix.true_peak_dbtp": "--true-peak", "record.then.publish": "--publish-to",
	"record.then.publish.site": "--publish-to", "record.then.publish.push": "--push",
	"record.then.publish.title": "--title-template",
}

// storeOnly limits a row to the commands that reach an object store.
var storeOnly = append([]string{"push", "pull", "record", "recover", "hold", "release", "prune", "redact", "site push", "publish", "unpublish", "worker"},
	bucketReaders...)

// storeURLOnly limits a row to the commands that take an s3:// URL.
var storeURLOnly = append(slices.Clip(storeOnly), "submit record", "webhook")

// pullOrRead limits a row to the commands that read a session in a bucket.
var pullOrRead = append([]string{"pull"}, bucketReaders...)

// storeInterruptible are the store commands whose interruption leaves something in the bucket to
// explain; record and recover say what they left themselves.
var storeInterruptible = []string{"push", "pull", "hold", "release", "prune", "redact", "site push"}

// storePermissions says what each command needs of a bucket.
var storePermissions = map[string]string{
	"push":      "push needs s3:PutObject, s3:GetObject and s3:ListBucket on the bucket",
	"pull":      "pull needs s3:GetObject and s3:ListBucket",
	"hold":      "hold needs s3:PutObject, s3:GetObject, s3:ListBucket, s3:GetBucketVersioning, s3:GetBucketObjectLockConfiguration, and with Object Lock s3:ListBucketVersions, s3:GetObjectLegalHold and s3:PutObjectLegalHold",
	"release":   "release needs what hold does, and s3:DeleteObject and s3:DeleteObjectVersion",
	"prune":     "prune needs s3:ListBucket, s3:ListBucketVersions, s3:GetObject, s3:PutObject, s3:DeleteObject, s3:DeleteObjectVersion, s3:GetBucketVersioning, s3:GetBucketObjectLockConfiguration and s3:GetObjectLegalHold",
	"redact":    "redact needs what prune does",
	"record":    "record into a bucket needs s3:PutObject, s3:GetObject, s3:ListBucket and s3:DeleteObject (its pieces are deleted once the session is whole)",
	"recover":   "recover of a bucket's session needs what record does",
	"worker":    "a worker needs what record into a bucket does: s3:PutObject, s3:GetObject, s3:ListBucket and s3:DeleteObject",
	"site push": "site push needs s3:PutObject, s3:GetObject, s3:ListBucket and s3:DeleteObject on the bucket",
	"publish":   "site push needs s3:PutObject, s3:GetObject, s3:ListBucket and s3:DeleteObject on the bucket",
	"unpublish": "site push needs s3:PutObject, s3:GetObject, s3:ListBucket and s3:DeleteObject on the bucket",
}

// storeInterrupted is what an interrupted hold, release, prune or redact of a bucket left.
func storeInterrupted(command string, _ error) string {
	switch command {
	case "hold":
		return "hold: interrupted; hold.json may be in place with only some legal holds: hold again to complete it"
	case "release":
		return "release: interrupted; the session may still be held: release again to complete it"
	case "prune":
		return "prune: interrupted; the sessions reported deleted are gone, and a session it had begun to delete " +
			"(its manifest gone first) is finished by the next prune"
	case "redact":
		return "redact: interrupted; the bucket holds the old session or the redacted one, whole; the next redact of it " +
			"completes or undoes this one"
	case "site push":
		return "site push: interrupted; nothing was written"
	}
	return command + ": interrupted"
}

// siteStoreOnly limits a row to the commands that push a site.
var siteStoreOnly = []string{"site push", "publish", "unpublish"}

// find returns the T in err's chain; the zero T (nil) when there is none.
func find[T error](err error) T {
	var t T
	errors.As(err, &t)
	return t
}

// protocolOf is the protocol of the room a recording error is about; "" when it does not say.
func protocolOf(err error) protocols.Protocol {
	if j := find[*record.JoinError](err); j != nil {
		return j.Protocol
	}
	if l := find[*record.LostError](err); l != nil {
		return l.Protocol
	}
	return ""
}

// wordings are a hint's words for each room protocol.
type wordings map[protocols.Protocol]string

// byProtocol is a hint in the words of the room's protocol (protocolOf), else otherwise.
func byProtocol(otherwise string, w wordings) func(string, error) string {
	return func(_ string, err error) string {
		if s, ok := w[protocolOf(err)]; ok {
			return s
		}
		return otherwise
	}
}

// finalizeOf is the failure to finish a recording's session: a *record.FinalizeError, or a
// *record.SealError worded as one whose error says the recording is complete (both are finished
// by 'spacecast recover'); nil when err is neither.
func finalizeOf(err error) *record.FinalizeError {
	if fin := find[*record.FinalizeError](err); fin != nil {
		return fin
	}
	if seal := find[*record.SealError](err); seal != nil {
		return &record.FinalizeError{Dir: seal.Dir, Elapsed: seal.Elapsed,
			Err: fmt.Errorf("seal: %w (the recording is complete; 'spacecast recover %s' seals it)", seal.Err, recoverArg(err, seal.Dir))}
	}
	return nil
}

// controlCommand is "record --pause" or "record --resume" for a request to a recorder's control
// socket (a *control.SendError), else command.
func controlCommand(command string, err error) string {
	if send := find[*control.SendError](err); send != nil {
		return command + " --" + string(send.Op)
	}
	return command
}

// is matches an error that is any of targets.
func is(targets ...error) func(error) bool {
	return func(err error) bool {
		for _, t := range targets {
			if errors.Is(err, t) {
				return true
			}
		}
		return false
	}
}

// as matches an error that has a T in its chain.
func as[T error](err error) bool {
	var t T
	return errors.As(err, &t)
}

// text is a hint that is always the same.
func text(s string) func(string, error) string {
	return func(string, error) string { return s }
}

// rows calls f with each row of the table that matches err from command, in order, until f
// returns false.
func rows(command string, err error, f func(errorRow) bool) {
	for _, r := range errorTable {
		if r.only != nil && !slices.Contains(r.only, command) {
			continue
		}
		if r.match(err) && !f(r) {
			return
		}
	}
}

// explain turns the error a command returned into the one the user reads: the table's message
// and hint, and the exit status (ExitCode). command is the command that ran, without
// "spacecast " ("feed init").
func explain(command string, err error) error {
	if err == nil {
		return nil
	}
	var done *explained
	if errors.As(err, &done) {
		return err
	}
	msg, hint := err.Error(), ""
	haveMsg := false
	rows(command, err, func(r errorRow) bool {
		if r.message != nil && !haveMsg {
			msg, haveMsg = r.message(command, err), true
		}
		if r.hint != nil && hint == "" {
			hint = r.hint(command, err)
		}
		return !haveMsg || hint == ""
	})
	if hint != "" {
		msg += " (" + hint + ")"
	}
	return &explained{msg: msg, code: exitCode(command, err), err: err}
}

// explained is an error as the user reads it, with its exit status; it unwraps to the error the
// command returned.
type explained struct {
	msg  string
	code int
	err  error
}

func (e *explained) Error() string { return e.msg }
func (e *explained) Unwrap() error { return e.err }

// ExitCode maps an error returned by Run to the process exit code.
func ExitCode(err error) int { return exitCode("", err) }

func exitCode(command string, err error) int {
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, context.Canceled) {
		return ExitInterrupted
	}
	var done *explained
	if errors.As(err, &done) {
		return done.code
	}
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	code := ExitFailure
	rows(command, err, func(r errorRow) bool {
		if r.code != 0 {
			code = r.code
			return false
		}
		return true
	})
	return code
}

// storeText is err as the store rows word it: without the package prefixes.
func storeText(err error) string {
	s := err.Error()
	for _, p := range []string{"objstore: ", "sessionstore: ", "record: "} {
		s = strings.ReplaceAll(s, p, "")
	}
	return s
}

// spoolArg is " --spool DIR" when dir is not the default spool of the place url: what recover
// needs to find it.
func spoolArg(dir, url string) string {
	u, err := objstore.ParseURL(url)
	if err != nil {
		return " --spool " + dir
	}
	if d, err := defaultSpool(u); err == nil && d == dir {
		return ""
	}
	return " --spool " + dir
}

// recoverArg is what to give 'spacecast recover' to finish the recording that failed with err:
// its bucket place (and spool, if not the default) when it was recorded into a bucket, else dir.
func recoverArg(err error, dir string) string {
	if e := find[*record.UploadError](err); e != nil {
		return e.URL + spoolArg(e.Dir, e.URL)
	}
	return dir
}

// inPieces adds where else the recording is when it was recorded into a bucket.
func inPieces(err error) string {
	if e := find[*record.UploadError](err); e != nil {
		return ", and in pieces in " + e.URL
	}
	return ""
}
