package site

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors; test with errors.Is. Errors that wrap them name the site, slug or file.
var (
	// ErrBadInput marks errors about what the user gave: a file that is not what it should be, a
	// soundbite past the end, a slug taken. The CLI maps it to exit status 3.
	ErrBadInput = errors.New("bad input")
	// ErrNoSite means the folder has no podcast.yaml: it is not a site ('spacecast feed init' makes one).
	ErrNoSite = errors.New("not a site folder (no podcast.yaml)")
	// ErrSiteExists means 'feed init' was pointed at a folder that already is a site.
	ErrSiteExists = errors.New("already a site folder (it has a podcast.yaml)")
	// ErrNotEmpty means 'feed init' was pointed at a folder that already holds files it did not
	// make (hidden files, README, LICENSE and CNAME aside), and was not told to make the site
	// among them.
	ErrNotEmpty = errors.New("the folder is not empty")
	// ErrSiteFiles means 'feed init' was pointed at a folder that holds files a site is made of
	// (episodes.json, feed.xml, index.html, episodes/, assets/, the artwork): it would replace
	// them, and episodes.json is the only record of every episode's GUID and date.
	ErrSiteFiles = errors.New("the folder holds a site's files")
	// ErrLockTimeout means another spacecast run held the site's lock for longer than the timeout.
	ErrLockTimeout = errors.New("the site is locked by another spacecast run")
	// ErrSlugTaken means an episode with another content already has the slug.
	ErrSlugTaken = errors.New("slug is taken")
	// ErrSlugRetired means the slug belongs to an unpublished episode: slugs and GUIDs are never reused.
	ErrSlugRetired = errors.New("slug belongs to an unpublished episode")
	// ErrNoEpisode means no episode has the slug.
	ErrNoEpisode = errors.New("no such episode")
	// ErrNotMP3 means the audio is not an MP3 file: another audio format, or not audio at all.
	ErrNotMP3 = errors.New("not an MP3 file")
	// ErrBadRecord means episodes.json cannot be read as the record this package writes.
	ErrBadRecord = errors.New("the episode record is damaged")
)

// inputError is an error about what the user gave: its message says it all, and it matches
// ErrBadInput (and whatever it wraps) with errors.Is.
type inputError struct{ err error }

func (e *inputError) Error() string   { return e.err.Error() }
func (e *inputError) Unwrap() []error { return []error{e.err, ErrBadInput} }

// badInput formats a bad-input error of this package; %w in format wraps as in fmt.Errorf.
func badInput(format string, a ...any) error {
	return &Error{Err: &inputError{err: fmt.Errorf(format, a...)}}
}

// Error is an error of this package: Error() is "site: " and Err, which says what happened to
// which site, episode or file. A caller that puts its own name first (the CLI: "publish: ...")
// prints Err.
type Error struct{ Err error }

func (e *Error) Error() string { return "site: " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// errorf formats an error of this package; %w in format wraps as in fmt.Errorf.
func errorf(format string, a ...any) error {
	return &Error{Err: fmt.Errorf(format, a...)}
}

// also returns err, joined with more when more is not nil: when nothing else went wrong (an abort
// that cleaned up), err stays the error returned, as it was made.
func also(err, more error) error {
	if more == nil {
		return err
	}
	return errors.Join(err, more)
}

// ErrNoSlug means an episode's title has no ASCII letter or digit to make a slug of, and no slug
// was given.
var ErrNoSlug = errors.New("it has no ASCII letters or digits for a slug")

// LockTimeoutError says that another spacecast run held the site's lock for longer than the
// timeout; it matches ErrLockTimeout. It is returned inside an *Error.
type LockTimeoutError struct {
	Dir     string        // the site folder
	Lock    string        // the lock file
	Timeout time.Duration // how long this run waited
}

func (e *LockTimeoutError) Error() string {
	return fmt.Sprintf("%s: %v: its lock %s was held for %s", e.Dir, ErrLockTimeout, e.Lock, e.Timeout)
}

func (e *LockTimeoutError) Unwrap() error { return ErrLockTimeout }

// SlugTakenError says that the slug belongs to a published episode whose content differs from the
// one being published; it matches ErrSlugTaken and ErrBadInput. It is returned inside an *Error.
type SlugTakenError struct {
	Dir     string    // the site folder
	Slug    string    // the slug asked for
	Title   string    // the title of the episode that has it
	PubDate time.Time // when that episode was published
}

func (e *SlugTakenError) Error() string {
	return fmt.Sprintf("%v: %q belongs to the episode %q published %s, which differs from this one",
		ErrSlugTaken, e.Slug, e.Title, e.PubDate.Format(time.RFC3339))
}

func (e *SlugTakenError) Unwrap() []error { return []error{ErrSlugTaken, ErrBadInput} }

// TooLongError says that a text is longer than podcast apps read; it matches ErrBadInput.
type TooLongError struct {
	What  string // "description"
	Bytes int    // its length
	Max   int    // the most podcast apps read
}

func (e *TooLongError) Error() string {
	return fmt.Sprintf("%d bytes; podcast apps read at most %d", e.Bytes, e.Max)
}

func (e *TooLongError) Unwrap() error { return ErrBadInput }

// Unprefixed is err without the "site: " in front when it is an *Error, as it is otherwise.
func Unprefixed(err error) error {
	if e, ok := err.(*Error); ok { //nolint:errorlint // only the outermost error: one wrapped inside another keeps its name
		return e.Err
	}
	return err
}
