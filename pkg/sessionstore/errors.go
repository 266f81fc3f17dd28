package sessionstore

import (
	"errors"
	"fmt"
)

var (
	// ErrNoName: the URL is a whole bucket; a session needs a name under it.
	ErrNoName = errors.New("the URL names no session (want s3://BUCKET/PREFIX/NAME)")
	// ErrExists: the destination already holds a session (a manifest) or a folder.
	ErrExists = errors.New("already exists")
	// ErrNoSession: nothing is stored under the URL.
	ErrNoSession = errors.New("no session there")
	// ErrIncomplete: files are stored under the URL but no manifest: a push that did not finish.
	ErrIncomplete = errors.New("the session is incomplete (files without a manifest: a push that did not finish)")
	// ErrBadKey: a key under the URL that cannot be a file of a session folder.
	ErrBadKey = errors.New("a key that is not a session file's path")
	// ErrBadPiece: a key under a live session's pieces that is not FILE/START-END.
	ErrBadPiece = errors.New("a key that is not a piece (FILE/START-END)")
	// ErrMissingPiece is matched by a *MissingPieceError: a hole between a growing file's pieces.
	ErrMissingPiece = errors.New("a piece is missing")
	// ErrNoLiveManifest: pieces under .live/ but no live manifest (the recorder died before it
	// sent one, in its first seconds): they cannot be made a session.
	ErrNoLiveManifest = errors.New("pieces of a recording but no live manifest (its recorder died in its first seconds)")
	// ErrRecording: the session's recorder may still be running (a *RecordingError says why).
	ErrRecording = errors.New("the session may still be being recorded")
	// ErrNotAppendOnly: a file of a spool being mirrored got shorter; pieces only add bytes.
	ErrNotAppendOnly = errors.New("a growing file was rewritten")
	// ErrLive: the place holds a session being recorded (or whose recorder died): pieces under
	// .live/ and no finished manifest.
	ErrLive = errors.New("holds a session being recorded, or whose recorder died")
	// ErrPartsMixed: a session in parts whose manifest lists some of the parts found beside it
	// as joined and not others (JoinParts).
	ErrPartsMixed = errors.New("the session's parts were joined in part only")
)

// MissingPieceError says which bytes of a growing file no piece holds.
type MissingPieceError struct {
	File     string
	From, To int64 // bytes [From, To) are missing
}

func (e *MissingPieceError) Error() string {
	return fmt.Sprintf("%s: bytes %d to %d: %v", e.File, e.From, e.To, ErrMissingPiece)
}
func (e *MissingPieceError) Unwrap() error { return ErrMissingPiece }

// Error says which transfer failed: the session folder, the URL and the direction.
type Error struct {
	Op  string // "push", "pull", "record", "recover" or "read" (see Open)
	Dir string // the session folder; "" when there is none
	URL string // s3://BUCKET/PREFIX/NAME
	Err error
}

func (e *Error) Error() string {
	switch {
	case e.Op == "push":
		return fmt.Sprintf("sessionstore: push %s to %s: %v", e.Dir, e.URL, e.Err)
	case e.Dir == "":
		return fmt.Sprintf("sessionstore: %s %s: %v", e.Op, e.URL, e.Err)
	}
	return fmt.Sprintf("sessionstore: pull %s to %s: %v", e.URL, e.Dir, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

var (
	// ErrTooBig: an object read whole (a manifest, a hold, a lock, a journal) is larger than any
	// spacecast writes.
	ErrTooBig = errors.New("too large for what it is named")
	// ErrLegalHold: a session whose objects are under an Object Lock legal hold, which a redaction
	// cannot change (the store keeps every held version, the unredacted audio included).
	ErrLegalHold = errors.New("under an Object Lock legal hold")
	// ErrLockLost: a prune's lock in the bucket was not renewed in time, or another prune took it
	// over; the prune stops before deleting anything more.
	ErrLockLost = errors.New("the prune lock in the bucket was lost")
	// ErrBadJournal: a prune's or a redaction's journal in the bucket that does not parse, or
	// names objects outside its session.
	ErrBadJournal = errors.New("a journal that does not parse or names objects outside its session")
	// ErrNoConditional: the store ignored a conditional write (If-None-Match), so a lock in it
	// would keep no other prune out.
	ErrNoConditional = errors.New("the store does not honour conditional writes (If-None-Match), which the prune lock needs")
)

// OpError says which operation on a session or a prefix in a bucket failed.
type OpError struct {
	Op  string // "hold", "release", "prune", "redact"
	URL string // s3://BUCKET/PREFIX[/NAME]
	Err error
}

func (e *OpError) Error() string { return fmt.Sprintf("sessionstore: %s %s: %v", e.Op, e.URL, e.Err) }

func (e *OpError) Unwrap() error { return e.Err }

// ErrFenced is matched by a *FencedError: another writer took the place a recorder was writing
// (a recovery or a join of the session, or another recorder), so the recorder stops writing it.
var ErrFenced = errors.New("another writer took the session's place: this recorder no longer writes it")

// FencedError says which place a recorder was fenced off and by what: a conditional write of
// Key, which it had written last, found another object there (or none). Nothing was written
// after it; the recorder's spool keeps everything.
type FencedError struct {
	URL string // s3://BUCKET/PREFIX/NAME, the place
	Key string // the object whose condition failed
	// Holder says what holds the place now: "a recovery or a join of the session" (the live
	// manifest was taken), "nothing (the session was recovered or joined and its pieces
	// deleted)", "another recorder", "another session's file".
	Holder string
}

func (e *FencedError) Error() string {
	return fmt.Sprintf("%s: %v (it is now %s's)", e.Key, ErrFenced, e.Holder)
}

func (e *FencedError) Unwrap() error { return ErrFenced }
