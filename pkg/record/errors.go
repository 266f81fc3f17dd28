package record

import (
	"errors"
	"fmt"
	"time"

	"github.com/spacecast/spacecast/pkg/capture"
	"github.com/spacecast/spacecast/pkg/room/protocols"
)

// Errors of starting and running a recording.
var (
	// ErrServerMixes says the server mixes every speaker into one track, so per-speaker consent
	// (opt-in, excluded identities) cannot be honoured (a *ServerMixesError says which).
	ErrServerMixes = errors.New("the server mixes the room into one track: per-speaker consent cannot be honoured")
	// ErrStopping says the recording is stopping (or stopped) and takes no more requests.
	ErrStopping = errors.New("the recording is stopping")
)

// ServerMixesError is ErrServerMixes for a recording whose consent asks to leave people out: the
// policy (capture.PolicyOptIn records only who consents) or the identities excluded.
type ServerMixesError struct {
	Policy  string
	Exclude []string
}

func (e *ServerMixesError) Error() string {
	what := "policy " + e.Policy
	if e.Policy != capture.PolicyOptIn {
		what = fmt.Sprintf("excluding %q", e.Exclude)
	}
	return fmt.Sprintf("record: %s: %v", what, ErrServerMixes)
}
func (e *ServerMixesError) Unwrap() error { return ErrServerMixes }

// JoinError says the room could not be joined; Err is the adapter's (room.ErrAuth, room.ErrNoRoom…).
type JoinError struct {
	Protocol protocols.Protocol
	Err      error
}

func (e *JoinError) Error() string {
	return fmt.Sprintf("record: join the %s room: %v", e.Protocol, e.Err)
}
func (e *JoinError) Unwrap() error { return e.Err }

// FinalizeError says the session could not be finalized (the disk filled, a file could not be
// closed): what was synced before is in Dir, and recovering the folder finishes it.
type FinalizeError struct {
	Dir     string
	Elapsed time.Duration // how long it recorded
	Err     error
}

func (e *FinalizeError) Error() string { return fmt.Sprintf("record: finalize %s: %v", e.Dir, e.Err) }
func (e *FinalizeError) Unwrap() error { return e.Err }

// SealError says the recording is complete in Dir but sealing it failed.
type SealError struct {
	Dir     string
	Elapsed time.Duration // how long it recorded
	Err     error
}

func (e *SealError) Error() string { return fmt.Sprintf("record: seal %s: %v", e.Dir, e.Err) }
func (e *SealError) Unwrap() error { return e.Err }

// LostError says the recording stopped because the Protocol room was lost (Err: the adapter's
// error); the session in Dir is finalized up to then.
type LostError struct {
	Dir      string
	Protocol protocols.Protocol
	Err      error
}

func (e *LostError) Error() string {
	return fmt.Sprintf("record: lost the room (%s finalized): %v", e.Dir, e.Err)
}
func (e *LostError) Unwrap() error { return e.Err }

// AnnounceError says the room could not be told Text; the recording goes on, and the room still
// sees the recorder as Name.
type AnnounceError struct {
	What Announcement
	Text string
	Name string // the recorder's display name in the room
	Err  error
}

func (e *AnnounceError) Error() string {
	return fmt.Sprintf("record: tell the room %q: %v", e.Text, e.Err)
}
func (e *AnnounceError) Unwrap() error { return e.Err }

// UploadError says the session in the spool Dir is not in the bucket at URL. Finished: it is
// finalized and sealed in Dir, but could not be uploaded (Err: the store's error) before the
// recording gave up waiting; nothing is lost, and sessionstore.RecoverLive (or a push of Dir)
// finishes the upload. Not Finished: the session could not be finalized (Err holds the
// *FinalizeError or *SealError, and the store's error if the last pieces could not be sent
// either); what was recorded is in Dir and in pieces in the bucket, and RecoverLive finishes it.
type UploadError struct {
	Dir      string
	URL      string
	Finished bool
	Err      error
}

func (e *UploadError) Error() string {
	return fmt.Sprintf("record: upload %s to %s: %v", e.Dir, e.URL, e.Err)
}
func (e *UploadError) Unwrap() error { return e.Err }
