package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"syscall"

	"github.com/spacecast/spacecast/pkg/codec"
	"github.com/spacecast/spacecast/pkg/edit"
	"github.com/spacecast/spacecast/pkg/feed"
	"github.com/spacecast/spacecast/pkg/ogg"
	"github.com/spacecast/spacecast/pkg/redact"
	"github.com/spacecast/spacecast/pkg/session"
	"github.com/spacecast/spacecast/pkg/site"
	"github.com/spacecast/spacecast/pkg/studio"
)

// The error table: the one place where an error a command returns becomes what the user reads and
// the exit status. Libraries say what happened to what (a file, a session, a site, a limit) with
// sentinel and struct errors; only the CLI knows its flags, so a row adds the flag to change or the
// command to run. Commands wrap a library error with their name ("publish: %w") and return it;
// Run consults the table once (explain), ExitCode reads the status.
//
// A row matches with errors.Is or errors.As. The first matching row that gives a status decides
// it; the first matching row that gives a message replaces the text; the first matching row whose
// hint is not empty adds it in parentheses. A status a command set itself (usageErr for its flag
// checks, inputErr for an input it knows is wrong) comes before the table, and an interruption
// before everything.
//
// Rows for new errors (the recorder's and the rooms') go in the same slice, most specific first.
type errorRow struct {
	// match reports whether the error (the whole chain) is this row's.
	match func(err error) bool
	// only lists the commands ("redact", "feed init") the row is for; nil: every command.
	only []string
	// code is the exit status; 0: this row does not decide it.
	code int
	// message, when set, replaces the whole text. command is the command that ran ("publish").
	message func(command string, err error) string
	// hint, when set, is added in parentheses: the flag to use or the command to run. "" adds
	// nothing.
	hint func(command string, err error) string
}

// errorTable is consulted from top to bottom.
var errorTable = []errorRow{
	// Interrupted: every command removes what it had begun to write.
	{match: is(context.Canceled), code: ExitInterrupted,
		message: func(string, error) string { return "interrupted; nothing was written" }},

	// The machine failed, not the input: a full disk, an I/O error, a read-only file system.
	{match: is(syscall.ENOSPC, syscall.EDQUOT, syscall.EIO, syscall.EROFS), code: ExitFailure},

	// Sessions.
	{match: is(session.ErrNotSession), code: ExitBadInput,
		message: func(command string, err error) string {
			var e *session.NotSessionError
			if !errors.As(err, &e) {
				return fmt.Sprintf("%s: %v", command, err)
			}
			return fmt.Sprintf("%s: %s is not a spacecast session (no manifest.json): give the session folder", command, e.Dir)
		}},
	{match: as[*session.LimitError], code: ExitBadInput,
		hint: text("manifest.json was damaged or edited by hand: restore it from a copy, or correct that value")},
	{match: is(session.ErrIrregular), only: []string{"recover", "redact"}, code: ExitBadInput,
		hint: func(command string, _ error) string {
			return "replace the link with a copy of what it points to, then run " + command + " again"
		}},
	{match: is(session.ErrSealMismatch), only: []string{"recover", "redact"}, code: ExitBadInput,
		hint: func(_ string, err error) string {
			var e *session.SealMismatchError
			if !errors.As(err, &e) {
				return ""
			}
			return fmt.Sprintf("'spacecast verify %s' shows what changed since the session was sealed", e.Dir)
		}},
	{match: is(session.ErrVersion, session.ErrNotFinalized), only: []string{"redact"}, code: ExitBadInput},
	{match: is(session.ErrInvalid), code: ExitBadInput},

	// Redaction.
	{match: is(redact.ErrReversed), code: ExitUsage, hint: text("give --from before --to")},
	{match: is(redact.ErrUnknownSpeaker, redact.ErrBadRange, redact.ErrNotFinalized), code: ExitBadInput},

	// The studio: mix, clip, trim, inspect.
	{match: is(ogg.ErrGranule), code: ExitBadInput,
		hint: text("the file's length does not add up: it is damaged or forged; get it again, or re-encode it from a good copy")},
	{match: is(studio.ErrNoLast), code: ExitBadInput, hint: text("for a file use --start and --end instead of --last")},
	{match: is(studio.ErrLosslessMP3), code: ExitBadInput, hint: text("or drop --copy to re-encode: a WAV clip is lossless without it")},
	{match: is(studio.ErrShortKeep), code: ExitBadInput, hint: text("or lower --crossfade")},
	{match: is(studio.ErrSameFile), code: ExitUsage, hint: text("choose another -o")},
	{match: is(studio.ErrBadRange), code: ExitUsage,
		hint: func(command string, _ error) string {
			if command == "trim" {
				return "give at least one --cut START-END"
			}
			return "give --start, and --end or --duration"
		}},
	{match: is(studio.ErrBadInput, codec.ErrUnknownFormat, codec.ErrEmpty, codec.ErrTruncated), code: ExitBadInput},
	{match: is(codec.ErrUnknownExtension, edit.ErrOverlap, edit.ErrBadRange), code: ExitUsage},

	// Podcast sites and feeds.
	{match: as[*site.NotMP3Error], code: ExitBadInput,
		message: func(command string, err error) string {
			var e *site.NotMP3Error
			errors.As(err, &e)
			if e.Kind == "" {
				return fmt.Sprintf("%s: %v: publish takes an MP3 or a session folder (make an MP3 from a WAV or Ogg Opus file with: spacecast mix FILE.wav -o FILE.mp3)", command, e)
			}
			return fmt.Sprintf("%s: %v: podcast apps play MP3; make one with:\n  spacecast mix %s -o %s", command, e, shellQuote(e.Path), shellQuote(mp3Name(e.Path)))
		}},
	{match: is(site.ErrLockTimeout), hint: text("wait for the other run to finish, or raise --lock-timeout")},
	{match: is(site.ErrNotEmpty), code: ExitBadInput,
		hint: text("choose an empty or new folder, or give --into-existing to add the site's files beside them: none is replaced")},
	{match: is(site.ErrNoSlug), code: ExitBadInput, hint: text("give one with --slug")},
	{match: as[*site.SlugTakenError], code: ExitBadInput,
		hint: func(_ string, err error) string {
			var e *site.SlugTakenError
			errors.As(err, &e)
			return fmt.Sprintf("change that one with 'spacecast publish --update %s %s ...', or publish this one under another --slug", shellQuote(e.Dir), e.Slug)
		}},
	{match: is(site.ErrSlugRetired), code: ExitBadInput, hint: text("publish it under another --slug")},
	{match: as[*site.TooLongError], code: ExitBadInput,
		hint: text("shorten it, or put long show notes in a Markdown file for --notes")},
	{match: is(feed.ErrNoTitle), hint: text("give it one with publish --update --title")},
	{match: is(feed.ErrLongDescription), hint: text("shorten it, or put long show notes in a Markdown file for publish --notes")},
	{match: is(site.ErrBadInput, site.ErrNoSite, site.ErrSiteExists, site.ErrSlugTaken, site.ErrNoEpisode, site.ErrBadRecord,
		feed.ErrConfig, feed.ErrArtwork), code: ExitBadInput},
	{match: as[*feed.ConfigError], code: ExitBadInput},
}

// is matches an error that is any of targets.
func is(targets ...error) func(error) bool {
	return func(err error) bool {
		for _, t := range targets {
			if errors.Is(err, t) {
				return true
			}
		}
		return false
	}
}

// as matches an error that has a T in its chain.
func as[T error](err error) bool {
	var t T
	return errors.As(err, &t)
}

// text is a hint that is always the same.
func text(s string) func(string, error) string {
	return func(string, error) string { return s }
}

// rows calls f with each row of the table that matches err from command, in order, until f
// returns false.
func rows(command string, err error, f func(errorRow) bool) {
	for _, r := range errorTable {
		if r.only != nil && !slices.Contains(r.only, command) {
			continue
		}
		if r.match(err) && !f(r) {
			return
		}
	}
}

// explain turns the error a command returned into the one the user reads: the table's message
// and hint, and the exit status (ExitCode). command is the command that ran, without
// "spacecast " ("feed init").
func explain(command string, err error) error {
	if err == nil {
		return nil
	}
	var done *explained
	if errors.As(err, &done) {
		return err
	}
	msg, hint := err.Error(), ""
	haveMsg := false
	rows(command, err, func(r errorRow) bool {
		if r.message != nil && !haveMsg {
			msg, haveMsg = r.message(command, err), true
		}
		if r.hint != nil && hint == "" {
			hint = r.hint(command, err)
		}
		return !haveMsg || hint == ""
	})
	if hint != "" {
		msg += " (" + hint + ")"
	}
	return &explained{msg: msg, code: exitCode(command, err), err: err}
}

// explained is an error as the user reads it, with its exit status; it unwraps to the error the
// command returned.
type explained struct {
	msg  string
	code int
	err  error
}

func (e *explained) Error() string { return e.msg }
func (e *explained) Unwrap() error { return e.err }

// ExitCode maps an error returned by Run to the process exit code.
func ExitCode(err error) int { return exitCode("", err) }

func exitCode(command string, err error) int {
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, context.Canceled) {
		return ExitInterrupted
	}
	var done *explained
	if errors.As(err, &done) {
		return done.code
	}
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	code := ExitFailure
	rows(command, err, func(r errorRow) bool {
		if r.code != 0 {
			code = r.code
			return false
		}
		return true
	})
	return code
}
