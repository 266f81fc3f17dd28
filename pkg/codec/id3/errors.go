package id3

import (
	"errors"
	"fmt"
)

// Sentinel errors of package id3; returned errors wrap them with the position of the problem.
var (
	// ErrNoTag is returned by Read when the input does not start with an ID3v2 header.
	ErrNoTag = errors.New("id3: no ID3v2 tag")
	// ErrTruncated is returned when the input ends inside the tag or a frame is longer than the tag.
	ErrTruncated = errors.New("id3: truncated")
	// ErrMalformed is returned for a header or frame that breaks the specification's structure.
	ErrMalformed = errors.New("id3: malformed")
	// ErrVersion is returned for a tag version other than 2.2, 2.3 or 2.4.
	ErrVersion = errors.New("id3: unsupported version")
	// ErrInvalid is returned by Marshal for a Tag that cannot be written (bad date, duplicate chapter IDs...).
	ErrInvalid = errors.New("id3: invalid tag")
)

// within adds where an error happened after its message, keeping the sentinel's text first:
// "id3: truncated: CHAP of 3 bytes (frame CHAP at byte 20, ID3v2.3)". errors.Is still sees the cause.
func within(err error, format string, args ...any) error {
	where := fmt.Sprintf(format, args...)
	var l *located
	if errors.As(err, &l) {
		return &located{err: l.err, where: l.where + ", " + where}
	}
	return &located{err: err, where: where}
}

type located struct {
	err   error
	where string
}

func (l *located) Error() string { return l.err.Error() + " (" + l.where + ")" }
func (l *located) Unwrap() error { return l.err }
