package feed

import (
	"errors"
	"fmt"
)

// Sentinel errors; test with errors.Is. Errors that wrap them name the file, field or episode,
// and come inside an *Error, which puts "feed: " first.
var (
	// ErrConfig marks every problem in podcast.yaml; the error itself is a *ConfigError or an
	// errors.Join of several.
	ErrConfig = errors.New("podcast.yaml is not valid")
	// ErrArtwork means an image is not artwork Apple accepts: a square JPEG or PNG, 1400–3000 px,
	// in RGB.
	ErrArtwork = errors.New("artwork is not a square 1400–3000 px RGB JPEG or PNG")
	// ErrEpisode means an episode record cannot go into a feed (no GUID, no date, no audio, a
	// soundbite outside the audio, a GUID used twice).
	ErrEpisode = errors.New("episode cannot be published")
	// ErrShow means the Show given to Render lacks what every feed needs (title, base URL).
	ErrShow = errors.New("show is incomplete")
	// ErrNotXML means the bytes given to Check are not well-formed XML in UTF-8.
	ErrNotXML = errors.New("not well-formed XML")
	// ErrNoTitle means an episode record has no title (it wraps in ErrEpisode).
	ErrNoTitle = errors.New("no title")
	// ErrLongDescription means an episode's description is longer than Apple takes (it wraps in
	// ErrEpisode).
	ErrLongDescription = errors.New("the description is too long")
	// ErrChapters means a JSON chapters file is not Podcasting 2.0 JSON chapters.
	ErrChapters = errors.New("not a JSON chapters file")
)

// Error is an error of this package: Error() is "feed: " and Err, which says what happened to
// which file, field or episode. A caller that puts its own name first (the CLI: "publish:
// --chapters FILE: ...") prints Err.
type Error struct{ Err error }

func (e *Error) Error() string { return "feed: " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// errorf formats an error of this package; %w in format wraps as in fmt.Errorf.
func errorf(format string, a ...any) error {
	return &Error{Err: fmt.Errorf(format, a...)}
}

// Unprefixed is err without the "feed: " in front when it is an *Error, as it is otherwise.
func Unprefixed(err error) error {
	if e, ok := err.(*Error); ok { //nolint:errorlint // only the outermost error: one wrapped inside another keeps its name
		return e.Err
	}
	return err
}
