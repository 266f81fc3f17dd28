package cli

import (
	"fmt"
	"syscall"
)

// Exit codes, listed for users under EXIT STATUS in `spacecast --help`. Scripts may rely on them.
const (
	ExitOK          = 0   // the command did what was asked
	ExitFailure     = 1   // something went wrong while working (I/O, encoding, a tool's own bug)
	ExitUsage       = 2   // the command line is wrong: unknown flag, bad time or range, missing argument
	ExitBadInput    = 3   // an input file or session is missing, unreadable, not audio, or does not fit the request
	ExitRoom        = 4   // record: the room could not be joined, or was lost past --reconnect-timeout
	ExitStore       = 5   // push, pull: the object store could not be used (credentials, bucket, endpoint, permissions); submit, jobs: NATS
	ExitInterrupted = 130 // stopped by SIGINT/SIGTERM; outputs were not written
)

const exitStatusHelp = `EXIT STATUS
  0    success
  1    failure while working (I/O error, disk full, internal error)
  2    usage error: unknown flag, malformed time or range, wrong number of arguments, an output
       that is an input or lies inside a session folder (nothing is written)
  3    bad input: missing, unreadable or corrupt file, not audio, range past the end
  4    record: the room could not be joined (credentials, server, room, no speaker), or was lost
       for longer than --reconnect-timeout (what was recorded until then is finalized)
  5    push, pull: the object store could not be used: no or refused credentials, no such
       bucket, an endpoint that does not answer, access denied; submit, jobs: NATS (JetStream)
       could not be reached, refused the credentials or did not answer
  130  interrupted (Ctrl-C or SIGTERM); no partial output is left behind
`

// exitError is an error whose exit status the command chose: a usage error from its own flag
// checks, an input it knows is wrong. The error table (errors.go) decides every other status.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageErr is the error of a command-line check: a missing or malformed flag or argument, a flag
// that does not go with another (exit 2). The message names the flag and says what to give.
func usageErr(format string, a ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, a...)}
}

// inputErr marks err as being about an input the user gave, which the command knows and the error
// may not say (exit 3), unless the machine failed rather than the input (a full disk, an I/O
// error, a read-only file system): that stays a failure (exit 1).
func inputErr(err error) error {
	if err == nil {
		return nil
	}
	if is(syscall.ENOSPC, syscall.EDQUOT, syscall.EIO, syscall.EROFS)(err) {
		return &exitError{code: ExitFailure, err: err}
	}
	return &exitError{code: ExitBadInput, err: err}
}

// studioErr prefixes a library error with the command; the error table picks its message, hint
// and exit status. (cmd_demo.go calls it until the recording lifecycle moves to pkg/record.)
func studioErr(command string, err error) error {
	return fmt.Errorf("%s: %w", command, err)
}
