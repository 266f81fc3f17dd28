package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spacecast/spacecast/pkg/codec"
	"github.com/spacecast/spacecast/pkg/feed"
	"github.com/spacecast/spacecast/pkg/ogg"
	"github.com/spacecast/spacecast/pkg/redact"
	"github.com/spacecast/spacecast/pkg/session"
	"github.com/spacecast/spacecast/pkg/site"
	"github.com/spacecast/spacecast/pkg/studio"
)

// TestErrorTable: a library error, wrapped by the command as commands do, reads as the table says
// (the library's facts, then the flag or command to use) and exits with the table's status; every
// flag a message names is a flag of the command tree.
func TestErrorTable(t *testing.T) {
	long, _ := commandFlags(t)
	enospc := &fs.PathError{Op: "write", Path: "out.mp3", Err: syscall.ENOSPC}
	cases := []struct {
		name    string
		command string
		err     error
		code    int
		want    []string // in the message, in this order
		notWant string
	}{
		{"an interruption says nothing was written", "mix", fmt.Errorf("mix: %w", context.Canceled),
			ExitInterrupted, []string{"interrupted; nothing was written"}, "canceled"},
		{"a full disk under a bad-input error is a failure", "mix", fmt.Errorf("mix: %w: %w", studio.ErrBadInput, enospc),
			ExitFailure, []string{"no space left"}, ""},
		{"a usage error from a flag check keeps its status and text", "clip", usageErr("clip: -o OUT is required"),
			ExitUsage, []string{"clip: -o OUT is required"}, "("},
		{"a folder that is no session is named, with what to give", "verify", fmt.Errorf("verify: %w", &session.NotSessionError{Dir: "rec"}),
			ExitBadInput, []string{"verify: rec is not a spacecast session (no manifest.json): give the session folder"}, "session: rec"},
		{"a site held by another run says how long, then to raise --lock-timeout", "publish",
			siteErr("publish", &site.Error{Err: &site.LockTimeoutError{Dir: "s", Lock: "s/.spacecast.lock", Timeout: 2 * time.Minute}}),
			ExitFailure, []string{"publish: s: the site is locked by another spacecast run", "2m0s", "raise --lock-timeout"}, "site: "},
		{"a slug taken names the episode that has it and the update command", "publish",
			siteErr("publish", &site.Error{Err: &site.SlugTakenError{Dir: "my site", Slug: "ep-1", Title: "One", PubDate: time.Date(2025, 5, 1, 9, 0, 0, 0, time.UTC)}}),
			ExitBadInput, []string{`"ep-1" belongs to the episode "One"`, "spacecast publish --update 'my site' ep-1", "another --slug"}, ""},
		{"a title with no letters for a slug asks for --slug", "publish",
			siteErr("publish", &site.Error{Err: fmt.Errorf("title %q: %w: %w", "日本語", site.ErrNoSlug, site.ErrBadInput)}),
			ExitBadInput, []string{"日本語", "give one with --slug"}, ""},
		{"a retired slug asks for another --slug", "publish",
			siteErr("publish", fmt.Errorf("slug %q: %w", "x", site.ErrSlugRetired)),
			ExitBadInput, []string{"publish it under another --slug"}, ""},
		{"a long description points to --notes", "publish",
			siteErr("publish", fmt.Errorf("description: %w", &site.TooLongError{What: "description", Bytes: 4001, Max: 4000})),
			ExitBadInput, []string{"4001 bytes; podcast apps read at most 4000", "--notes"}, ""},
		{"audio that is not an MP3 gets the mix command that makes one", "publish",
			siteErr("publish", &site.NotMP3Error{Path: "ep.wav", Kind: codec.WAV}),
			ExitBadInput, []string{"publish: ep.wav is a WAV file, not an MP3: podcast apps play MP3", "spacecast mix ep.wav -o ep.mp3"}, ""},
		{"an episode with no title points to publish --update --title", "feed build",
			fmt.Errorf("feed build: %w", fmt.Errorf("%w: %q: %w", feed.ErrEpisode, "x", feed.ErrNoTitle)),
			ExitFailure, []string{"no title", "publish --update --title"}, ""},
		{"--last on a file says to use --start and --end", "clip",
			fmt.Errorf("clip: %w: %s: %w", studio.ErrBadInput, "a.mp3", studio.ErrNoLast),
			ExitBadInput, []string{"a.mp3: not a session folder: only a recording", "--start and --end instead of --last"}, ""},
		{"a lossless cut of a WAV says to drop --copy", "clip",
			fmt.Errorf("clip: %w: %s: %w", studio.ErrBadInput, "a.wav", studio.ErrLosslessMP3),
			ExitBadInput, []string{"a.wav: a lossless cut reads and writes MP3 only", "drop --copy"}, ""},
		{"a kept stretch shorter than its crossfades says to lower --crossfade", "trim",
			fmt.Errorf("trim: %w: the kept stretch 1:00-1:00.010: %w (10ms); cut less", studio.ErrBadInput, studio.ErrShortKeep),
			ExitBadInput, []string{"shorter than two crossfades (10ms); cut less", "lower --crossfade"}, ""},
		{"an output that is an input is a usage error naming -o", "mix", fmt.Errorf("mix: %w", studio.ErrSameFile),
			ExitUsage, []string{"output is the same file as an input", "choose another -o"}, ""},
		{"trim with no cut asks for --cut", "trim", fmt.Errorf("trim: studio: %w: nothing to cut", studio.ErrBadRange),
			ExitUsage, []string{"nothing to cut", "--cut START-END"}, ""},
		{"a reversed redaction asks for --from before --to", "redact", fmt.Errorf("redact: %w: the start 0:30.000 is not before the end 0:20.000", redact.ErrReversed),
			ExitUsage, []string{"is not before", "give --from before --to"}, ""},
		{"an unknown speaker is bad input", "redact", fmt.Errorf("redact: %w", redact.ErrUnknownSpeaker), ExitBadInput, nil, ""},
		{"a link in a session tells recover how to go on", "recover", fmt.Errorf("recover: %w; nothing was changed", session.ErrIrregular),
			ExitBadInput, []string{"nothing was changed", "then run recover again"}, ""},
		{"a changed sealed session points to verify", "redact", fmt.Errorf("redact: %w", &session.SealMismatchError{Dir: "rec", Changed: []string{"a.opus"}}),
			ExitBadInput, []string{"changed: a.opus", "'spacecast verify rec'"}, ""},
		{"a row for other commands does not apply", "mix", fmt.Errorf("mix: %w", session.ErrIrregular),
			ExitFailure, []string{"not a regular file"}, "recover"},
		{"a value out of a manifest's limits says the manifest was edited", "mix",
			fmt.Errorf("mix: %w", &session.LimitError{Field: "duration_ticks", Value: -1, Min: 0, Max: 1, MaxName: "7 days"}),
			ExitBadInput, []string{"duration_ticks is -1", "restore it from a copy"}, ""},
		{"a manifest newer than this spacecast is bad input to redact", "redact", fmt.Errorf("redact: %w", session.ErrVersion), ExitBadInput, nil, ""},
		{"a manifest that contradicts itself is bad input", "inspect", fmt.Errorf("inspect: %w", session.ErrInvalid), ExitBadInput, nil, ""},
		{"a granule position out of range says the file is damaged", "inspect", fmt.Errorf("inspect: a.opus: %w", ogg.ErrGranule),
			ExitBadInput, []string{"granule position out of range", "damaged or forged"}, ""},
		{"an output extension spacecast cannot write is a usage error", "mix", fmt.Errorf("mix: %w", codec.ErrUnknownExtension), ExitUsage, nil, ""},
		{"a site in a folder with other files offers --into-existing", "feed init", siteErr("feed init", fmt.Errorf("x: %w", site.ErrNotEmpty)),
			ExitBadInput, []string{"feed init: x: the folder is not empty", "--into-existing"}, ""},
		{"a long episode description in a feed points to publish --notes", "feed build",
			fmt.Errorf("feed build: %w", fmt.Errorf("%w: %q: %w: 4001 bytes", feed.ErrEpisode, "x", feed.ErrLongDescription)),
			ExitFailure, []string{"the description is too long: 4001 bytes", "publish --notes"}, ""},
		{"a podcast.yaml mistake is bad input", "publish", siteErr("publish", &feed.ConfigError{File: "podcast.yaml", Line: 3, Field: "language", Msg: "not a language"}),
			ExitBadInput, []string{"publish: podcast.yaml:3: language: not a language"}, ""},
		{"an error no row knows is a failure, as it is", "export", errors.New("export: boom"), ExitFailure, []string{"export: boom"}, "("},
	}
	matched := make([]bool, len(errorTable))
	for _, c := range cases {
		err := explain(c.command, c.err)
		if got := ExitCode(err); got != c.code {
			t.Errorf("%s: exit %d, want %d (%v)", c.name, got, c.code, err)
		}
		msg := err.Error()
		rest := msg
		for _, w := range c.want {
			i := strings.Index(rest, w)
			if i < 0 {
				t.Errorf("%s: %q lacks %q (in order)", c.name, msg, w)
				break
			}
			rest = rest[i+len(w):]
		}
		if c.notWant != "" && strings.Contains(msg, c.notWant) {
			t.Errorf("%s: %q says %q", c.name, msg, c.notWant)
		}
		for _, m := range longFlag.FindAllStringSubmatch(msg, -1) {
			if !long[m[1]] {
				t.Errorf("%s: %q names %s, which no command has", c.name, msg, m[1])
			}
		}
		for i, r := range errorTable {
			if (r.only == nil || slices.Contains(r.only, c.command)) && r.match(c.err) {
				matched[i] = true
			}
		}
		if !errors.Is(err, c.err) {
			t.Errorf("%s: the explained error does not unwrap to the command's", c.name)
		}
		if again := explain(c.command, err); again.Error() != msg {
			t.Errorf("%s: explained twice: %q, then %q", c.name, msg, again)
		}
	}
	for i, ok := range matched {
		if !ok {
			t.Errorf("row %d of the error table has no case here: add one", i)
		}
	}
	if explain("mix", nil) != nil || ExitCode(nil) != ExitOK {
		t.Errorf("no error is not success")
	}
}
