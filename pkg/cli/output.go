package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/spacecast/spacecast/pkg/codec"
	"github.com/spacecast/spacecast/pkg/edit"
	"github.com/spacecast/spacecast/pkg/ogg"
	"github.com/spacecast/spacecast/pkg/session"
	"github.com/spacecast/spacecast/pkg/studio"
)

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// studioErr prefixes a library error with the command and picks its exit code.
func studioErr(command string, err error) error {
	wrapped := fmt.Errorf("%s: %w", command, err)
	switch {
	case errors.Is(err, ogg.ErrGranule):
		return inputErr(fmt.Errorf("%w (the file's length does not add up: it is damaged or forged; get it again, or re-encode it from a good copy)", wrapped))
	case errors.As(err, new(*session.LimitError)):
		return inputErr(fmt.Errorf("%w (manifest.json was damaged or edited by hand: restore it from a copy, or correct that value)", wrapped))
	case errors.Is(err, studio.ErrBadInput), errors.Is(err, codec.ErrUnknownFormat), errors.Is(err, codec.ErrEmpty), errors.Is(err, codec.ErrTruncated),
		errors.Is(err, session.ErrInvalid):
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
