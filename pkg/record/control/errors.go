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

// SendError is a request Op to the recorder of session folder Dir that failed. Err is
// ErrNoRecorder, a *DialError, a *ReplyError, or what reading the control file or writing the
// request returned.
type SendError struct {
	Op  Op
	Dir string
	Err error
}

func (e *SendError) Error() string {
	return fmt.Sprintf("control: ask the recorder of %s to %s: %v", e.Dir, e.Op, e.Err)
}
func (e *SendError) Unwrap() error { return e.Err }

// DialError says the recorder does not answer on its socket.
type DialError struct {
	Socket string
	Err    error
}

func (e *DialError) Error() string {
	return fmt.Sprintf("the recorder does not answer on %s: %v", e.Socket, e.Err)
}
func (e *DialError) Unwrap() error { return e.Err }

// ReplyError says the recorder gave no answer, or one that is not a Reply (Answer holds it).
type ReplyError struct {
	Answer string
	Err    error
}

func (e *ReplyError) Error() string {
	if e.Answer == "" {
		return fmt.Sprintf("no answer from the recorder: %v", e.Err)
	}
	return fmt.Sprintf("the recorder answered %q: %v", e.Answer, e.Err)
}
func (e *ReplyError) Unwrap() error { return e.Err }
