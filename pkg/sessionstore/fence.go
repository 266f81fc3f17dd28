package sessionstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/session"
)

// Fencing on the storage side (docs/fleet.md, "Fencing"; docs/session-format.md, "A session in a
// bucket"). A recorder that is still alive but was taken for dead (cut off from its fleet and
// from the store) must not write over what the one that took its place wrote. Its live manifest
// is its lease on the place: a Mirror writes it with If-None-Match: * the first time and with
// If-Match on the ETag of its own last write after that, and looks at its ETag (HEAD) before each
// round's pieces. Whoever takes the place over (RecoverLive, and so JoinParts) first rewrites that
// object conditionally on the ETag it read, with one more newline at its end (the same manifest,
// a new ETag), or deletes it once done: from then on every write of the old recorder fails its
// condition and it stops with a *FencedError, its spool kept. Its last upload, the finished
// session, goes up only after a last round whose conditional write of the live manifest got
// through, and each of its files is written only where no other object is (If-None-Match: *), or
// over the very object that was there when that round got through (If-Match): the files of a
// session another writer put there are never overwritten.
//
// A store that ignores conditional writes (it takes a second create of the live manifest) has
// no such fence: the Mirror finds it out on its first write and writes as before, unconditionally;
// the fleet's fences by time and by parts remain (docs/storage.md).

// takenSuffix ends a live manifest that a recovery or a join took over: the recorder's manifest
// ends with one newline, a taken one with two.
const takenSuffix = "\n\n"

// taken reports whether the live manifest b was taken over.
func taken(b []byte) bool { return bytes.HasSuffix(b, []byte(takenSuffix)) }

// takeLive takes the live session at dst from its recorder: it rewrites the live manifest (its
// bytes b, its ETag etag, as listed) with one more newline, on the condition that it is still
// that object. A recorder still writing it changed it meanwhile: a *RecordingError. A store
// that gives no ETag gets no condition and no rewrite.
func takeLive(ctx context.Context, st Store, dst objstore.URL, b []byte, etag string, quiet time.Duration) error {
	if etag == "" {
		return nil
	}
	nb := append(slices.Clip(b), '\n')
	_, err := st.Put(ctx, dst.Bucket, dst.Key(LiveDir+"/"+session.ManifestName), bytes.NewReader(nb),
		objstore.PutOptions{ContentType: "application/json", IfMatch: etag})
	if errors.Is(err, objstore.ErrPrecondition) || errors.Is(err, objstore.ErrNotFound) {
		return &RecordingError{Quiet: quiet}
	}
	return err
}

// liveKey is the key of the mirror's live manifest.
func (m *Mirror) liveKey() string { return m.dst.Key(LiveDir + "/" + session.ManifestName) }

// fence marks the mirror fenced off (every later round fails at once) and returns why.
func (m *Mirror) fence(key, holder string) error {
	m.fenced = &FencedError{URL: m.dst.String(), Key: key, Holder: holder}
	return m.fenced
}

// check makes sure the live manifest is still the one the mirror wrote last, before a round
// writes pieces: once another took the place over, no piece more goes up.
func (m *Mirror) check(ctx context.Context) error {
	if m.etag == "" || m.unconditional {
		return nil
	}
	rctx, cancel := context.WithTimeout(ctx, m.opt.RequestTimeout)
	defer cancel()
	o, err := m.st.Head(rctx, m.dst.Bucket, m.liveKey())
	switch {
	case err == nil && o.ETag == m.etag:
		return nil
	case err == nil, errors.Is(err, objstore.ErrNotFound):
		return m.whose(ctx)
	}
	return err
}

// whose decides, once the live manifest is not the one the mirror last knew, whether it is the
// mirror's own (a write whose answer was lost: its bytes are those of a write tried) or another's:
// then the mirror is fenced off.
func (m *Mirror) whose(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(ctx, m.opt.RequestTimeout)
	defer cancel()
	r, o, err := m.st.Get(rctx, m.dst.Bucket, m.liveKey(), nil)
	if errors.Is(err, objstore.ErrNotFound) {
		return m.fence(m.liveKey(), "nothing (the session was recovered or joined and its pieces deleted)")
	}
	if err != nil {
		return err
	}
	b, err := io.ReadAll(io.LimitReader(r, maxSmall+1))
	r.Close()
	if err != nil {
		return err
	}
	// The mirror's own bytes: a write whose answer was lost, or its last write (a store that
	// spells an ETag differently in a HEAD and a PUT's answer).
	for _, t := range append(m.tried, m.lastMan) {
		if t != nil && bytes.Equal(b, t) && o.ETag != "" {
			m.etag, m.lastMan, m.tried = o.ETag, t, nil
			return nil
		}
	}
	if taken(b) {
		return m.fence(m.liveKey(), "a recovery or a join of the session")
	}
	return m.fence(m.liveKey(), "another recorder")
}

// putManifest writes the live manifest man, conditionally on the mirror's last write (the
// first: on there being none). It finds out on the first write whether the store honours the
// condition: a store that takes a second create ignores it, and the mirror writes without.
func (m *Mirror) putManifest(ctx context.Context, man []byte) error {
	opt := objstore.PutOptions{ContentType: "application/json"}
	if !m.unconditional {
		if m.etag == "" {
			opt.IfNoneMatch = true
		} else {
			opt.IfMatch = m.etag
		}
	}
	rctx, cancel := context.WithTimeout(ctx, m.opt.RequestTimeout)
	defer cancel()
	m.tried = append(m.tried, man)
	o, err := m.st.Put(rctx, m.dst.Bucket, m.liveKey(), bytes.NewReader(man), opt)
	switch {
	case err == nil:
		m.tried, m.lastMan = nil, man
		if m.unconditional {
			return nil
		}
		m.etag = o.ETag
		if m.etag == "" { // a store that gives no ETag cannot be asked for one
			m.probed, m.unconditional = true, true
		}
		if m.probed {
			return nil
		}
		// A second create must be refused: a store that takes it ignores If-None-Match.
		_, perr := m.st.Put(rctx, m.dst.Bucket, m.liveKey(), bytes.NewReader(man), objstore.PutOptions{ContentType: "application/json", IfNoneMatch: true})
		switch {
		case errors.Is(perr, objstore.ErrPrecondition):
			m.probed = true
		case perr == nil, errors.Is(perr, objstore.ErrUnsupported):
			m.probed, m.unconditional = true, true
		default:
			return perr // asked again on the next write
		}
		return nil
	case m.unconditional:
		return err
	case errors.Is(err, objstore.ErrUnsupported):
		m.probed, m.unconditional, m.tried = true, true, nil
		return m.putManifest(ctx, man)
	case errors.Is(err, objstore.ErrPrecondition), opt.IfMatch != "" && errors.Is(err, objstore.ErrNotFound):
		if err := m.whose(ctx); err != nil {
			return err
		}
		if !bytes.Equal(m.lastMan, man) { // an earlier write of ours got there: this one again
			return m.putManifest(ctx, man)
		}
		return nil
	}
	return err
}

// putGuard makes the uploads of a finished session that a Mirror recorded conditional: each
// file goes where no object is, or over the object that was there when the mirror's last round
// got through (old: key → ETag); an object that is neither, and holds other bytes than the file,
// was put there by another writer: a *FencedError.
type putGuard struct {
	url string
	old map[string]string
}

// put uploads the file p as bucket/key under the guard.
func (g *putGuard) put(ctx context.Context, st Store, p, bucket, key string) (objstore.Object, error) {
	opt := objstore.PutOptions{ContentType: contentType(key)}
	if etag, ok := g.old[key]; ok {
		opt.IfMatch = etag
	} else {
		opt.IfNoneMatch = true
	}
	f, err := os.Open(p)
	if err != nil {
		return objstore.Object{}, err
	}
	defer f.Close()
	o, err := st.Put(ctx, bucket, key, f, opt)
	if !errors.Is(err, objstore.ErrPrecondition) && !(opt.IfMatch != "" && errors.Is(err, objstore.ErrNotFound)) {
		return o, err
	}
	// Our own upload whose answer was lost (a retried push) holds the same bytes.
	same, serr := sameBytes(ctx, st, bucket, key, p)
	if serr != nil && !errors.Is(serr, objstore.ErrNotFound) {
		return o, serr
	}
	if !same {
		return o, &FencedError{URL: g.url, Key: key, Holder: "another session's file"}
	}
	return st.Head(ctx, bucket, key)
}

// sameBytes reports whether bucket/key holds the bytes of the file p.
func sameBytes(ctx context.Context, st Store, bucket, key, p string) (bool, error) {
	r, _, err := st.Get(ctx, bucket, key, nil)
	if err != nil {
		return false, err
	}
	defer r.Close()
	hs := sha256.New()
	if _, err := io.Copy(hs, r); err != nil {
		return false, err
	}
	f, err := os.Open(p)
	if err != nil {
		return false, err
	}
	defer f.Close()
	hf := sha256.New()
	if _, err := io.Copy(hf, f); err != nil {
		return false, err
	}
	return bytes.Equal(hs.Sum(nil), hf.Sum(nil)), nil
}

// guard is the guard of the mirror's finished session: the objects at its place outside LiveDir
// now (a push of this recording that stopped, or one an earlier recording left), which the
// upload may replace. nil on a store without conditional writes.
func (m *Mirror) guard(ctx context.Context) (*putGuard, error) {
	if m.unconditional {
		return nil, nil
	}
	g := &putGuard{url: m.dst.String(), old: map[string]string{}}
	for o, err := range m.st.List(ctx, m.dst.Bucket, m.dst.Dir()) {
		if err != nil {
			return nil, err
		}
		if rel := strings.TrimPrefix(o.Key, m.dst.Dir()); !isLive(rel) && o.ETag != "" {
			g.old[o.Key] = o.ETag
		}
	}
	return g, nil
}
