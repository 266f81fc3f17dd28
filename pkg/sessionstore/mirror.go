package sessionstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/session"
)

// LiveStore is what recording into a bucket needs: a Store that also deletes (the pieces, once
// the finished session is up). *objstore.Client is one.
type LiveStore interface {
	Store
	Delete(ctx context.Context, bucket, key string) error
}

var _ LiveStore = (*objstore.Client)(nil)

// Defaults of a Mirror.
const (
	// DefaultInterval is how often a Mirror sends what was recorded: a recorder that dies loses at
	// most about twice this (what was not sent, and the recorder's own last unsynced second).
	DefaultInterval = 5 * time.Second
	// DefaultMaxPiece is the most bytes one piece holds: a mirror catching up after a long outage
	// sends several.
	DefaultMaxPiece = 32 << 20
	// DefaultRequestTimeout bounds one upload, so that a store that takes a request and never
	// answers counts as down.
	DefaultRequestTimeout = time.Minute
)

// MirrorOptions configure a Mirror; the zero value takes the defaults.
type MirrorOptions struct {
	Interval       time.Duration
	MaxPiece       int64
	RequestTimeout time.Duration
	// OnStatus, if set, is called (from the mirror's goroutine) when uploads start failing and
	// when they have caught up again.
	OnStatus func(MirrorStatus)
}

// MirrorStatus says how far the bucket is behind the spool.
type MirrorStatus struct {
	// Behind: the last round of uploads failed (Err says why); the spool keeps what is not sent.
	Behind bool
	Err    error
	// Since is when it fell behind (Behind), or, for the status that says it caught up, when it
	// had fallen behind.
	Since time.Time
	// Pending is how many bytes of the spool the bucket does not have yet (as of the last round).
	Pending int64
	// Sent is how many bytes went up in pieces so far.
	Sent int64
	// Pieces is how many pieces went up so far.
	Pieces int
	// Last is when the last round that sent everything ended (zero: none yet).
	Last time.Time
}

// Mirror sends a session folder that a recorder writes (the spool) to a bucket as it grows:
// every Interval, each file's new bytes as a piece, then the manifest (LiveLayout). It retries a
// failed round with backoff (1 s, doubling, at most Interval), so that a store down for a while
// catches up when it is back; the spool holds everything meanwhile. Finish uploads the finished
// session as Push does and deletes the pieces.
type Mirror struct {
	st   LiveStore
	dir  string
	dst  objstore.URL
	opt  MirrorOptions
	stop chan struct{}
	done chan struct{}
	// cancel ends the round in flight when the mirror stops.
	cancel context.CancelFunc

	roundMu sync.Mutex // one round at a time (the loop's, Flush's)
	sent    map[string]int64
	lastMan []byte
	// The live manifest is the mirror's lease on its place (fence.go): etag is the ETag of its
	// last write of it ("" before the first), tried the bytes of writes whose answer was lost,
	// fenced the *FencedError once another took the place. probed: the store was checked for
	// conditional writes; unconditional: it ignores them (no fence).
	etag          string
	tried         [][]byte
	fenced        error
	probed        bool
	unconditional bool

	mu     sync.Mutex
	status MirrorStatus
}

// StartMirror starts mirroring the folder dir to dst (s3://BUCKET/PREFIX/NAME) until Stop or
// Finish. The folder need not exist yet: rounds before it does send nothing.
func StartMirror(st LiveStore, dir string, dst objstore.URL, opt MirrorOptions) *Mirror {
	if opt.Interval <= 0 {
		opt.Interval = DefaultInterval
	}
	if opt.MaxPiece <= 0 {
		opt.MaxPiece = DefaultMaxPiece
	}
	if opt.RequestTimeout <= 0 {
		opt.RequestTimeout = DefaultRequestTimeout
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &Mirror{st: st, dir: dir, dst: dst, opt: opt, stop: make(chan struct{}), done: make(chan struct{}),
		cancel: cancel, sent: map[string]int64{}}
	go m.run(ctx)
	return m
}

// URL is where the mirror sends the session.
func (m *Mirror) URL() objstore.URL { return m.dst }

// Status is how far the bucket is behind.
func (m *Mirror) Status() MirrorStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.status
}

func (m *Mirror) run(ctx context.Context) {
	defer close(m.done)
	var backoff time.Duration
	t := time.NewTimer(m.opt.Interval)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
		}
		err := m.Flush(ctx)
		if ctx.Err() != nil || errors.Is(err, ErrFenced) {
			return
		}
		next := m.opt.Interval
		if err != nil {
			backoff = min(max(2*backoff, time.Second), m.opt.Interval)
			next = backoff
		} else {
			backoff = 0
		}
		t.Reset(next)
	}
}

// Flush sends what the folder holds that the bucket does not: one round. The loop calls it every
// Interval; a caller may call it to send the last bytes of a recording that cannot be finished.
func (m *Mirror) Flush(ctx context.Context) error {
	m.roundMu.Lock()
	defer m.roundMu.Unlock()
	pieces, sent, pending, err := m.round(ctx)
	m.mu.Lock()
	was := m.status
	s := &m.status
	s.Sent += sent
	s.Pieces += pieces
	s.Pending = pending
	var notify *MirrorStatus
	switch {
	case err != nil && ctx.Err() == nil:
		s.Err = err
		if !s.Behind {
			s.Behind, s.Since = true, time.Now()
		}
		// Told when it falls behind, and when it is fenced off (it stays behind for good then).
		if !was.Behind || errors.Is(err, ErrFenced) && !errors.Is(was.Err, ErrFenced) {
			c := *s
			notify = &c
		}
	case err == nil:
		s.Last = time.Now()
		if was.Behind {
			s.Behind, s.Err = false, nil
			c := *s
			notify = &c
		}
	}
	m.mu.Unlock()
	if notify != nil && m.opt.OnStatus != nil {
		m.opt.OnStatus(*notify)
	}
	return err
}

// round sends each growing file's new bytes, then the manifest as it was read before them, so
// that every file it names has its pieces in the bucket first. A mirror fenced off (another took
// its place, fence.go) sends nothing: the *FencedError again.
func (m *Mirror) round(ctx context.Context) (pieces int, sent, pending int64, err error) {
	if m.fenced != nil {
		return 0, 0, 0, m.fenced
	}
	man, err := os.ReadFile(filepath.Join(m.dir, session.ManifestName))
	if errors.Is(err, fs.ErrNotExist) {
		man, err = nil, nil
	}
	if err != nil {
		return 0, 0, 0, err
	}
	files, err := growingFiles(m.dir)
	if err != nil {
		return 0, 0, 0, err
	}
	for _, f := range files {
		pending += max(f.size-m.sent[f.rel], 0)
	}
	if err := m.check(ctx); err != nil {
		return 0, 0, pending, err
	}
	for _, f := range files {
		from := m.sent[f.rel]
		if f.size < from {
			return pieces, sent, pending, fmt.Errorf("%s: %w: it shrank from %d to %d bytes", f.rel, ErrNotAppendOnly, from, f.size)
		}
		for from < f.size {
			p := Piece{File: f.rel, Start: from, End: min(f.size, from+m.opt.MaxPiece)}
			if p.End > MaxPieceOffset {
				return pieces, sent, pending, fmt.Errorf("%s: %w", f.rel, objstore.ErrTooLarge)
			}
			if err := m.putPiece(ctx, p); err != nil {
				return pieces, sent, pending, err
			}
			n := p.End - p.Start
			m.sent[f.rel], from = p.End, p.End
			pieces, sent, pending = pieces+1, sent+n, pending-n
		}
	}
	if man != nil && !bytes.Equal(man, m.lastMan) {
		if err := m.putManifest(ctx, man); err != nil {
			return pieces, sent, pending, err
		}
	}
	return pieces, sent, pending, nil
}

func (m *Mirror) putPiece(ctx context.Context, p Piece) error {
	f, err := os.Open(filepath.Join(m.dir, filepath.FromSlash(p.File)))
	if err != nil {
		return err
	}
	defer f.Close()
	rctx, cancel := context.WithTimeout(ctx, m.opt.RequestTimeout)
	defer cancel()
	_, err = m.st.Put(rctx, m.dst.Bucket, m.dst.Key(LiveDir+"/"+p.Name()), io.NewSectionReader(f, p.Start, p.End-p.Start), objstore.PutOptions{ContentType: "application/octet-stream"})
	return err
}

// growingFiles lists the files of the spool a recorder appends to (track files, the live mix):
// every regular file but the manifest, its signature, the control file and temporary files.
func growingFiles(dir string) ([]file, error) {
	var out []file
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // the folder is not made yet, or a file went (a temporary one)
		}
		if err != nil {
			return err
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		r, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel := filepath.ToSlash(r)
		if session.Unhashed(rel) {
			return nil
		}
		fi, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		out = append(out, file{rel: rel, size: fi.Size()})
		return nil
	})
	slices.SortFunc(out, func(a, b file) int { return strings.Compare(a.rel, b.rel) })
	return out, err
}

// Stop ends the mirror's rounds (the one in flight is cancelled) and waits for them to end. It
// is safe to call twice.
func (m *Mirror) Stop() {
	select {
	case <-m.stop:
	default:
		close(m.stop)
		m.cancel()
	}
	<-m.done
}

// Finish stops the rounds and uploads the finished session in the folder as Push does (every
// file whole, the manifest last), retrying with backoff until ctx ends, then deletes the pieces.
// The session in the bucket is then a session like any pushed one. On a store with conditional
// writes a last round goes first, whose write of the live manifest must find the mirror's own
// (fence.go), and the files go up conditionally: a mirror whose place another took over (a
// recovery or a join of the session) gets a *FencedError and writes nothing of its session.
func (m *Mirror) Finish(ctx context.Context, opt Options) (*Report, error) {
	m.Stop()
	g, err := m.last(ctx)
	if err != nil {
		return nil, &Error{Op: "push", Dir: m.dir, URL: m.dst.String(), Err: err}
	}
	rep, err := pushRetry(ctx, m.st, m.dir, m.dst, opt, g)
	if err != nil {
		return nil, err
	}
	if err := DeleteLive(ctx, m.st, m.dst); err != nil {
		return rep, err
	}
	return rep, nil
}

// last is Finish's last round, retried as a push is while the store fails and ctx lasts: the
// spool's last bytes and its finished manifest, the check that the place is still the mirror's.
// It returns the guard of the upload (nil on a store without conditional writes).
func (m *Mirror) last(ctx context.Context) (*putGuard, error) {
	var backoff time.Duration
	for !m.unconditional {
		err := m.Flush(ctx)
		if err == nil {
			return m.guard(ctx)
		}
		var oe *objstore.Error
		if !errors.As(err, &oe) || !retryable(oe) {
			return nil, err
		}
		if !uploadRetryWait(ctx, &backoff) {
			return nil, err
		}
	}
	return nil, nil
}

// PushRetry is Push, tried again with backoff (1 s, doubling, at most 15 s) while the store fails
// and ctx lasts. A push whose manifest reached the bucket though its answer was lost counts as
// done: the manifest there is the folder's, byte for byte.
func PushRetry(ctx context.Context, st Store, dir string, dst objstore.URL, opt Options) (*Report, error) {
	return pushRetry(ctx, st, dir, dst, opt, nil)
}

// pushRetry is PushRetry with the uploads under g (nil: none).
func pushRetry(ctx context.Context, st Store, dir string, dst objstore.URL, opt Options, g *putGuard) (*Report, error) {
	var backoff time.Duration
	for {
		rep, err := push(ctx, st, dir, dst, opt, g)
		if err == nil {
			return rep, nil
		}
		if errors.Is(err, ErrExists) {
			if same, serr := sameManifest(ctx, st, dir, dst); serr == nil && same {
				return &Report{Session: dir, URL: dst.String()}, nil
			}
			return nil, err
		}
		var oe *objstore.Error
		if !errors.As(err, &oe) || !retryable(oe) {
			return nil, err
		}
		if !uploadRetryWait(ctx, &backoff) {
			return nil, err
		}
	}
}

// retryable: the store may take it later (it did not answer, or failed without saying why);
// refused credentials, a missing bucket or object, a denial, an object too large or a cancelled
// request do not go away by waiting.
func retryable(err error) bool {
	for _, final := range []error{objstore.ErrAuth, objstore.ErrDenied, objstore.ErrNoBucket, objstore.ErrNotFound,
		objstore.ErrTooLarge, context.Canceled} {
		if errors.Is(err, final) {
			return false
		}
	}
	return true
}

// sameManifest reports whether dst's manifest is the folder's.
func sameManifest(ctx context.Context, st Store, dir string, dst objstore.URL) (bool, error) {
	local, err := os.ReadFile(filepath.Join(dir, session.ManifestName))
	if err != nil {
		return false, err
	}
	r, _, err := st.Get(ctx, dst.Bucket, dst.Key(session.ManifestName), nil)
	if err != nil {
		return false, err
	}
	defer r.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(r); err != nil {
		return false, err
	}
	return bytes.Equal(b.Bytes(), local), nil
}

// DeleteLive deletes what a recording put under dst's LiveDir: the pieces, then the live
// manifest.
func DeleteLive(ctx context.Context, st LiveStore, dst objstore.URL) error {
	live := dst.Key(LiveDir) + "/"
	var keys []string
	for o, err := range st.List(ctx, dst.Bucket, live) {
		if err != nil {
			return err
		}
		keys = append(keys, o.Key)
	}
	man := live + session.ManifestName
	slices.SortStableFunc(keys, func(a, b string) int {
		switch {
		case a == man && b != man:
			return 1
		case b == man && a != man:
			return -1
		}
		return 0
	})
	for _, k := range keys {
		if err := st.Delete(ctx, dst.Bucket, k); err != nil {
			return err
		}
	}
	return nil
}

// isLive reports whether rel (a key's path below a session's prefix) is under LiveDir.
func isLive(rel string) bool { return rel == LiveDir || strings.HasPrefix(rel, LiveDir+"/") }

// CheckFree makes sure dst can take a new recording: it holds neither a finished session (a
// manifest: ErrExists) nor one being recorded or whose recorder died (pieces: ErrLive). Files a
// push that stopped left there are no session, and are replaced at the end.
func CheckFree(ctx context.Context, st Store, dst objstore.URL) error {
	fail := func(err error) error { return &Error{Op: "record", URL: dst.String(), Err: err} }
	if dst.Prefix == "" {
		return fail(ErrNoName)
	}
	for o, err := range st.List(ctx, dst.Bucket, dst.Dir()) {
		if err != nil {
			return fail(err)
		}
		switch rel := strings.TrimPrefix(o.Key, dst.Dir()); {
		case rel == session.ManifestName:
			return fail(fmt.Errorf("%s: %w", o.Key, ErrExists))
		case isLive(rel):
			return fail(fmt.Errorf("%s: %w", dst.Key(LiveDir)+"/", ErrLive))
		}
	}
	return nil
}

// uploadRetryWait waits before the next try of an upload the store failed: 1 s, doubling, at most
// 15 s. It says false when ctx ended first.
func uploadRetryWait(ctx context.Context, backoff *time.Duration) bool {
	*backoff = min(max(2**backoff, time.Second), 15*time.Second)
	select {
	case <-ctx.Done():
		return false
	case <-time.After(*backoff):
		return true
	}
}
