package cli

import (
	"context"
	"errors"
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
  130  interrupted (Ctrl-C or SIGTERM); no partial output is left behind
`

// exitError carries an exit code with the error that caused it.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageErr marks err as a usage error (exit 2).
func usageErr(format string, a ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, a...)}
}

// inputErr marks err as a bad-input error (exit 3), unless the machine failed rather than the
// input (a full disk, an I/O error, a read-only file system): that is a failure (exit 1).
func inputErr(err error) error {
	if err == nil {
		return nil
	}
	for _, e := range []error{syscall.ENOSPC, syscall.EDQUOT, syscall.EIO, syscall.EROFS} {
		if errors.Is(err, e) {
			return &exitError{code: ExitFailure, err: err}
		}
	}
	return &exitError{code: ExitBadInput, err: err}
}

// ExitCode maps an error returned by Execute to the process exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, context.Canceled) {
		return ExitInterrupted
	}
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	return ExitFailure
}
