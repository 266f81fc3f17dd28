package sessionstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/session"
)

// RecoverOptions say how RecoverLive finishes a session whose recorder died.
type RecoverOptions struct {
	// Spool is the dead recorder's local folder, if it may still be there ("" if not known). When
	// it holds the session the bucket's pieces are of, it is used instead of them: it holds at
	// least what the bucket has (the pieces came from it), and the last seconds that were not sent.
	Spool string
	// Work is the folder in which the pieces are joined (in a temporary folder, removed at the
	// end); "" is the system's temporary folder.
	Work string
	// Finalize finishes the unfinished session folder it is given (recovers it, seals it).
	Finalize func(dir string) error
	// OnFile is the upload's progress (Options.OnFile).
	OnFile func(n, of int, rel string, bytes int64)
	// Quiet is how long the live manifest must have gone unchanged before the pieces are taken
	// for those of a dead recorder (a running one sends it every Mirror interval); default
	// DefaultQuiet. It does not apply to a spool, whose recorder the caller asks directly.
	Quiet time.Duration
	// Now is the time (tests); nil is time.Now.
	Now func() time.Time
}

// DefaultQuiet is RecoverOptions.Quiet's default: four times DefaultInterval.
const DefaultQuiet = 4 * DefaultInterval

// RecoverReport says what RecoverLive did.
type RecoverReport struct {
	URL string `json:"url"`
	// Finished: the bucket held the finished session already (only leftover pieces, if any, were
	// deleted).
	Finished bool `json:"finished"`
	// From is where the session was taken from: "spool" (the recorder's folder, named in Spool)
	// or "pieces" (joined from the bucket).
	From  string `json:"from,omitempty"`
	Spool string `json:"spool,omitempty"`
	// Pieces and Bytes: what was joined from the bucket.
	Pieces int   `json:"pieces"`
	Bytes  int64 `json:"bytes"`
	// Holes are files cut short at a missing piece (kept up to it).
	Holes []MissingPieceError `json:"holes,omitempty"`
	// Push is the upload of the finished session.
	Push *Report `json:"push,omitempty"`
}

// RecoverLive finishes the session recorded into dst by a recorder that died (kill -9, the
// machine gone): it takes the session from the spool when that is there and is this session,
// else joins the pieces in the bucket into a temporary folder (up to the first missing piece of a
// file); Finalize finishes that folder; the finished session is uploaded as Push does (the
// manifest last), then the pieces are deleted, and the spool or the temporary folder removed. A
// session already finished in the bucket is left as it is (leftover pieces are deleted).
func RecoverLive(ctx context.Context, st LiveStore, dst objstore.URL, opt RecoverOptions) (*RecoverReport, error) {
	fail := func(err error) (*RecoverReport, error) {
		return nil, &Error{Op: "recover", URL: dst.String(), Err: err}
	}
	if dst.Prefix == "" {
		return fail(ErrNoName)
	}
	rep := &RecoverReport{URL: dst.String()}
	liveDir := dst.Key(LiveDir) + "/"
	var pieces []objstore.Object
	var liveMan *objstore.Object
	finished := false
	for o, err := range st.List(ctx, dst.Bucket, dst.Dir()) {
		if err != nil {
			return fail(err)
		}
		switch {
		case o.Key == dst.Key(session.ManifestName):
			finished = true
		case o.Key == liveDir+session.ManifestName:
			liveMan = &o
		case strings.HasPrefix(o.Key, liveDir):
			pieces = append(pieces, o)
		}
	}
	if finished {
		rep.Finished = true
		if err := DeleteLive(ctx, st, dst); err != nil {
			return fail(err)
		}
		return rep, nil
	}
	var liveID string
	var m *session.Manifest
	var manBytes []byte
	if liveMan != nil {
		b, err := getAll(ctx, st, dst.Bucket, liveMan.Key)
		if err != nil {
			return fail(err)
		}
		if m, err = session.Parse(b); err != nil {
			return fail(fmt.Errorf("%s: %w", liveMan.Key, err))
		}
		liveID, manBytes = m.ID, b
	}
	dir, useSpool, err := spoolFor(opt.Spool, liveID)
	if err != nil {
		return fail(err)
	}
	if useSpool {
		rep.From, rep.Spool = "spool", dir
	} else {
		switch {
		case liveMan == nil && len(pieces) == 0:
			return fail(ErrNoSession)
		case liveMan == nil:
			return fail(ErrNoLiveManifest)
		}
		quiet, now := opt.Quiet, time.Now
		if quiet <= 0 {
			quiet = DefaultQuiet
		}
		if opt.Now != nil {
			now = opt.Now
		}
		if age := now().Sub(liveMan.LastModified); age < quiet && !taken(manBytes) {
			return fail(&RecordingError{Age: age, Quiet: quiet})
		}
		// Take the place from its recorder (fence.go), then list the pieces again: those it sent
		// before it was fenced off are the session's too.
		if err := takeLive(ctx, st, dst, manBytes, liveMan.ETag, quiet); err != nil {
			return fail(err)
		}
		pieces = pieces[:0]
		for o, err := range st.List(ctx, dst.Bucket, liveDir) {
			if err != nil {
				return fail(err)
			}
			if o.Key != liveDir+session.ManifestName {
				pieces = append(pieces, o)
			}
		}
		tmp, err := os.MkdirTemp(opt.Work, ".spacecast-recover-")
		if err != nil {
			return fail(err)
		}
		defer os.RemoveAll(tmp)
		dir = filepath.Join(tmp, "session")
		if err := joinPieces(ctx, st, dst, m, manBytes, pieces, dir, rep); err != nil {
			return fail(err)
		}
		rep.From = "pieces"
	}
	if err := opt.Finalize(dir); err != nil {
		return fail(err)
	}
	push, err := PushRetry(ctx, st, dir, dst, Options{OnFile: opt.OnFile})
	if err != nil {
		return fail(err)
	}
	rep.Push = push
	if err := DeleteLive(ctx, st, dst); err != nil {
		return fail(err)
	}
	if useSpool {
		if err := os.RemoveAll(dir); err != nil {
			return fail(err)
		}
	}
	return rep, nil
}

// spoolFor says whether the folder spool holds the session whose id is id ("" when the bucket
// has no live manifest): a folder that is not there, or holds no session, is not used; one that
// holds another session is an error (*SpoolError).
func spoolFor(spool, id string) (string, bool, error) {
	if spool == "" {
		return "", false, nil
	}
	s, err := session.Open(spool)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, session.ErrNotSession) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	if id != "" && s.Manifest.ID != id {
		return "", false, &SpoolError{Spool: spool, ID: s.Manifest.ID, Want: id}
	}
	return spool, true, nil
}

// RecordingError says the live manifest changed Age ago, less than Quiet: its recorder may still
// be running (it matches ErrRecording).
type RecordingError struct {
	Age, Quiet time.Duration
}

func (e *RecordingError) Error() string {
	return fmt.Sprintf("%v: its live manifest changed %s ago (a running recorder sends it every few seconds; one that died is quiet after %s)",
		ErrRecording, e.Age.Round(time.Second), e.Quiet)
}
func (e *RecordingError) Unwrap() error { return ErrRecording }

// SpoolError says that the spool holds another session than the bucket's pieces are of.
type SpoolError struct {
	Spool    string
	ID, Want string
}

func (e *SpoolError) Error() string {
	return fmt.Sprintf("the spool %s holds the session %s, not %s whose pieces are in the bucket", e.Spool, e.ID, e.Want)
}

// joinPieces makes the session folder dir from the live manifest m and the pieces: each file m
// names, joined from its pieces up to the first hole.
func joinPieces(ctx context.Context, st Store, dst objstore.URL, m *session.Manifest, manBytes []byte, objs []objstore.Object, dir string, rep *RecoverReport) error {
	liveDir := dst.Key(LiveDir) + "/"
	byFile := map[string][]Piece{}
	keys := map[Piece]string{}
	for _, o := range objs {
		p, err := ParsePiece(strings.TrimPrefix(o.Key, liveDir))
		if err != nil {
			return err
		}
		if o.Size != p.End-p.Start {
			return fmt.Errorf("%s: %w: %d bytes, its name says %d", o.Key, ErrBadPiece, o.Size, p.End-p.Start)
		}
		byFile[p.File] = append(byFile[p.File], p)
		keys[p] = o.Key
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, session.ManifestName), manBytes, 0o644); err != nil {
		return err
	}
	named := []string{}
	for _, t := range m.Tracks {
		named = append(named, t.File)
	}
	if m.Mix != nil {
		named = append(named, m.Mix.File)
	}
	for _, rel := range named {
		if err := checkRel(rel); err != nil {
			return fmt.Errorf("%q: %w", rel, err)
		}
		spans, _, err := JoinPlan(byFile[rel])
		var hole *MissingPieceError
		if errors.As(err, &hole) {
			rep.Holes = append(rep.Holes, *hole)
		}
		if len(spans) == 0 {
			continue // nothing was sent: recovering finds it missing
		}
		if err := joinFile(ctx, st, dst.Bucket, keys, spans, filepath.Join(dir, filepath.FromSlash(rel))); err != nil {
			return err
		}
		for _, sp := range spans {
			rep.Pieces++
			rep.Bytes += sp.Bytes
		}
	}
	return nil
}

// joinFile writes the spans' bytes, in order, into the new file p.
func joinFile(ctx context.Context, st Store, bucket string, keys map[Piece]string, spans []Span, p string) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	for _, sp := range spans {
		if err = copySpan(ctx, st, bucket, keys[sp.Piece], sp, f); err != nil {
			break
		}
	}
	return errors.Join(err, f.Close())
}

func copySpan(ctx context.Context, st Store, bucket, key string, sp Span, w io.Writer) error {
	r, _, err := st.Get(ctx, bucket, key, &objstore.Range{Offset: sp.Skip, Length: sp.Bytes})
	if err != nil {
		return err
	}
	defer r.Close()
	n, err := io.Copy(w, r)
	if err == nil && n != sp.Bytes {
		err = fmt.Errorf("%s: got %d bytes of %d", key, n, sp.Bytes)
	}
	return err
}

func getAll(ctx context.Context, st Store, bucket, key string) ([]byte, error) {
	r, _, err := st.Get(ctx, bucket, key, nil)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}
