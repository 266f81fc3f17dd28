package record

import (
	"time"

	"github.com/spacecast/spacecast/pkg/capture"
)

// Observer receives a recording's events, one at a time, from the recording's goroutines. It
// must not block for long: the recorder's writers wait for it.
type Observer interface {
	Event(Event)
}

// ObserverFunc is an Observer as a function.
type ObserverFunc func(Event)

// Event calls f.
func (f ObserverFunc) Event(e Event) { f(e) }

// Kind says what an Event is about.
type Kind int

// The kinds of events.
const (
	// KindCapture carries an event of the room or the recorder (a speaker joined, a gap, a
	// pause…) in Capture.
	KindCapture Kind = iota + 1
	// KindJoined: the room is joined and the session folder Dir created; recording runs.
	KindJoined
	// KindAnnounced: the room was told Text.
	KindAnnounced
	// KindWarning: something went wrong that the recording goes on through (Err: an
	// *AnnounceError, a *control.ListenError).
	KindWarning
	// KindStopping: the recording stops for Reason; finalizing follows.
	KindStopping
	// KindSealed: the session in Dir is finalized and sealed.
	KindSealed
	// KindUploadBehind: sending the recording to the bucket (Options.Upload) fails (Err); the
	// recording goes on into the spool, which keeps what is not sent (Upload.Pending bytes), and
	// the uploads are retried.
	KindUploadBehind
	// KindUploadCaughtUp: the bucket has everything recorded again; Upload.Behind says for how long
	// it had not.
	KindUploadCaughtUp
	// KindUploading: the finished session goes up to the bucket: file Upload.N of Upload.Of.
	KindUploading
	// KindUploaded: the finished session is in the bucket at Upload.URL (Upload.Files,
	// Upload.Bytes), and its pieces are deleted.
	KindUploaded
)

var kindNames = map[Kind]string{KindCapture: "capture", KindJoined: "joined", KindAnnounced: "announced",
	KindWarning: "warning", KindStopping: "stopping", KindSealed: "sealed",
	KindUploadBehind: "upload-behind", KindUploadCaughtUp: "upload-caught-up", KindUploading: "uploading", KindUploaded: "uploaded"}

func (k Kind) String() string { return kindNames[k] }

// Event is one thing that happened to a recording.
type Event struct {
	Kind    Kind
	Time    time.Time
	Capture capture.Event // KindCapture
	Dir     string        // KindJoined, KindSealed
	Text    string        // KindAnnounced
	Reason  StopReason    // KindStopping
	Err     error         // KindWarning, KindUploadBehind
	Upload  UploadInfo    // KindUpload*
}

// UploadInfo is what an upload event says.
type UploadInfo struct {
	URL string // s3://BUCKET/PREFIX/NAME
	// At is how long the recording had run.
	At time.Duration
	// Pending is how many bytes the spool holds that the bucket does not (KindUploadBehind).
	Pending int64
	// Behind is how long the bucket was behind (KindUploadCaughtUp).
	Behind time.Duration
	// N, Of and File: the file going up, its number and how many (KindUploading); Bytes its size.
	N, Of int
	File  string
	// Files and Bytes: what went up in all (KindUploaded), or Bytes of File (KindUploading).
	Files int
	Bytes int64
}

// StopReason says why a recording stopped.
type StopReason int

// The reasons a recording stops.
const (
	// StopInterrupted: the context given to Start ended.
	StopInterrupted StopReason = iota + 1
	// StopRequested: Stop was called.
	StopRequested
	// StopDuration: Options.Duration passed.
	StopDuration
	// StopEmpty: no speaker for Options.StopWhenEmpty.
	StopEmpty
	// StopRoomClosed: the room closed (or the adapter ended without an error).
	StopRoomClosed
	// StopLost: the room was lost and could not be reached again in time.
	StopLost
	// StopFailed: the recorder hit an error it cannot record through (the disk filled).
	StopFailed
)

var reasonNames = map[StopReason]string{StopInterrupted: "interrupted", StopRequested: "stopped",
	StopDuration: "duration reached", StopEmpty: "no speaker", StopRoomClosed: "the room closed",
	StopLost: "lost the room", StopFailed: "failed"}

func (r StopReason) String() string { return reasonNames[r] }

// Announcement is one of the things a recording tells the room.
type Announcement int

// What a recording tells the room.
const (
	AnnounceStarted Announcement = iota + 1
	AnnouncePaused
	AnnounceResumed
	AnnounceStopped
)
