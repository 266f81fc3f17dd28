package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/spacecast/spacecast/internal/safetext"
	"github.com/spacecast/spacecast/pkg/codec"
	"github.com/spacecast/spacecast/pkg/edit"
	"github.com/spacecast/spacecast/pkg/session"
	"github.com/spacecast/spacecast/pkg/studio"
)

// writeJSON prints v as indented JSON. Strings in it may come from a room, a server or a file:
// safetext.JSON escapes the control and bidi runes that encoding/json leaves raw.
func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(safetext.JSON(b), '\n'))
	return err
}

// term is the one way a string from a room, a server or a file (a display name, an identity, a
// track or room name, a tag, a chapter title, a server's answer) reaches a terminal: control and
// bidi characters become visible escapes, and it is at most one line of safetext.MaxLine runes.
func term(s string) string { return safetext.Term(s) }

// termPath is term for a file path, which may be longer than one field: the same escapes, cut
// only at safetext.MaxText runes.
func termPath(s string) string { return safetext.TermN(s, safetext.MaxText) }

// printableURL is a room URL for a terminal or a log: without credentials (session.RedactURL)
// and without control characters.
func printableURL(raw string) string {
	if r := session.RedactURL(raw); r != "" {
		return term(r)
	}
	return "the room URL"
}

// studioErr prefixes a library error with the command and picks its exit code.
func studioErr(command string, err error) error {
	wrapped := fmt.Errorf("%s: %w", command, err)
	switch {
	case errors.Is(err, studio.ErrBadInput), errors.Is(err, codec.ErrUnknownFormat), errors.Is(err, codec.ErrEmpty), errors.Is(err, codec.ErrTruncated):
		return inputErr(wrapped)
	case errors.Is(err, codec.ErrUnknownExtension), errors.Is(err, edit.ErrOverlap), errors.Is(err, edit.ErrBadRange):
		return &exitError{code: ExitUsage, err: wrapped}
	}
	return wrapped
}

// warnUnfinalized tells the user, on stderr, that a session input was not finalized: it is still
// being recorded, or its recorder died. The command works on what is on disk.
func warnUnfinalized(g *globalOptions, inputs ...string) {
	for _, in := range inputs {
		if !session.IsSession(in) {
			continue
		}
		s, err := session.Open(in)
		if err != nil || s.Manifest.Finalized {
			continue
		}
		fmt.Fprintf(g.stderr, "note: %s was not finalized (still recording, or its recorder died: 'spacecast recover %s' finishes it); using what is on disk\n", in, in)
	}
}
