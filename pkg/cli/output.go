package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spacecast/spacecast/internal/fsutil"
	"github.com/spacecast/spacecast/internal/safetext"
	"github.com/spacecast/spacecast/pkg/session"
	"github.com/spacecast/spacecast/pkg/site"
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

// count says "1 chapter", "2 chapters", "0 chapters".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
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

// checkOutput refuses, as a usage error and before anything is written, an output of command that
// would land on what the command reads or on a recording:
//
//   - the output is one of inputs, under any name: through a link, a hard link, or a path spelt
//     differently (in/../in/x);
//   - the output is, or lies inside, a folder among inputs (a session being read), or is another
//     name (a hard link) of any file in it;
//   - the output is, or lies inside, any spacecast session folder, an input or not: writing there
//     changes a recording and breaks its seal.
//
// flag is how the user named the output ("-o", "SITE"); out is its value. An input "" is skipped.
// Paths are compared after every link is resolved (fsutil.Resolve), so a link to a folder inside
// a session is caught too.
func checkOutput(command, flag, out string, inputs ...string) error {
	ro, err := fsutil.Resolve(out)
	if err != nil {
		return nil // the write itself will say what is wrong with out
	}
	named := flag + " " + out
	for _, in := range inputs {
		if in == "" {
			continue
		}
		st, err := os.Stat(in)
		if err != nil {
			continue // a missing input is its command's error to report
		}
		if st.IsDir() {
			if fsutil.Within(ro, in) {
				what := "the folder"
				if session.IsSpacecast(in) {
					what = "the session"
				}
				return usageErr("%s: %s is inside %s %s, which %s reads: nothing is ever written into a folder being read (write it outside %s)",
					command, named, what, in, command, in)
			}
			if f := sameAsFileIn(out, in); f != "" {
				return usageErr("%s: %s is a hard link to %s, which %s reads: writing it would change that file (choose another %s)",
					command, named, f, command, flag)
			}
			continue
		}
		if ri, err := fsutil.Resolve(in); (err == nil && ri == ro) || fsutil.SameFile(in, out) {
			how := "the input itself"
			if filepath.Clean(in) != filepath.Clean(out) {
				how = "the input " + in + " under another name (a link, a hard link or another spelling)"
			}
			return usageErr("%s: %s is %s: %s would overwrite what it reads (choose another %s)",
				command, named, how, command, flag)
		}
	}
	if s, ok := session.Enclosing(ro); ok {
		s = shortPath(s)
		return usageErr("%s: %s is inside the spacecast session %s: nothing is ever written into a recording's folder, it would change the recording and break its seal (write it outside %s)",
			command, named, s, s)
	}
	return nil
}

// sameAsFileIn returns the file under dir that out is another hard link of, or "".
func sameAsFileIn(out, dir string) string {
	ost, err := os.Stat(out)
	if err != nil || !ost.Mode().IsRegular() {
		return ""
	}
	if sys, ok := ost.Sys().(*syscall.Stat_t); ok && sys.Nlink < 2 {
		return "" // its only name is out
	}
	var found string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if st, err := os.Stat(p); err == nil && os.SameFile(st, ost) {
			found = p
			return filepath.SkipAll
		}
		return nil
	})
	return found
}

// shortPath spells an absolute path relative to the working folder when it lies inside it, as the
// user most likely typed it.
func shortPath(p string) string {
	wd, err := os.Getwd()
	if err != nil {
		return p
	}
	if r, err := filepath.EvalSymlinks(wd); err == nil {
		wd = r
	}
	rel, err := filepath.Rel(wd, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return p
	}
	return rel
}

// checkNotInSite refuses, as a usage error, an output that is or lies inside a podcast site folder
// (one with podcast.yaml or episodes.json): a site is uploaded to public hosting as it is, so a
// raw recording, an export of one or a private key written there would be published with the
// next upload. what says what the output is ("a recording").
func checkNotInSite(command, flag, out, what string) error {
	ro, err := fsutil.Resolve(out)
	if err != nil {
		return nil
	}
	var found string
	fsutil.Ancestors(ro, func(dir string) bool {
		for _, name := range []string{site.ShowName, site.RecordName} {
			if st, err := os.Stat(filepath.Join(dir, name)); err == nil && st.Mode().IsRegular() {
				found = dir
				return false
			}
		}
		return true
	})
	if found == "" {
		return nil
	}
	found = shortPath(found)
	return usageErr("%s: %s is inside the podcast site %s, which is uploaded as it is: %s there would be published with it (write it outside %s)",
		command, flag+" "+out, found, what, found)
}

// sessionUnder returns a spacecast session folder inside dir (at any depth), or "".
func sessionUnder(dir string) string {
	var found string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if p != dir && session.IsSpacecast(p) {
			found = p
			return filepath.SkipAll
		}
		return nil
	})
	return found
}
