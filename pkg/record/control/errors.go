package control

import (
	"errors"
	"fmt"
)

// ErrNoRecorder says the session folder has no control file: no recorder runs for it.
var ErrNoRecorder = errors.New("no recorder is running (no control file)")

// ListenError says the control socket could not be opened.
type ListenError struct {
	Socket string
	Err    error
}

func (e *ListenError) Error() string { return fmt.Sprintf("control: socket %s: %v", e.Socket, e.Err) }
func (e *ListenError) Unwrap() error { return e.Err }

// DialError says the recorder of a session folder does not answer on its socket.
type DialError struct {
	Dir, Socket string
	Err         error
}

func (e *DialError) Error() string {
	return fmt.Sprintf("control: the recorder of %s does not answer on %s: %v", e.Dir, e.Socket, e.Err)
}
func (e *DialError) Unwrap() error { return e.Err }

// ReplyError says the recorder gave no answer, or one that is not a Reply (Answer holds it).
type ReplyError struct {
	Dir    string
	Answer string
	Err    error
}

func (e *ReplyError) Error() string {
	if e.Answer == "" {
		return fmt.Sprintf("control: no answer from the recorder of %s: %v", e.Dir, e.Err)
	}
	return fmt.Sprintf("control: the recorder of %s answered %q: %v", e.Dir, e.Answer, e.Err)
}
func (e *ReplyError) Unwrap() error { return e.Err }
