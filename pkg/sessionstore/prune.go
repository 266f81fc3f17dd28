package sessionstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/spacecast/spacecast/pkg/bucketlock"
	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/session"
)

// Names Prune uses in a bucket.
const (
	// PruneLockName is the lock object, in the folder pruned (or its parent, for one session).
	PruneLockName = session.PruneLockName
	// PruneJournalName is written in a session's folder before its deletion starts: what is
	// being deleted, so that the next prune finishes a deletion that stopped half-way. Its name
	// is a temporary file's, which readers of a session skip.
	PruneJournalName = ".spacecast-prune.tmp"
	// LiveFolder holds the pieces of a recording still being made into the bucket.
	LiveFolder = ".live"
)

// pruneJournal is PruneJournalName's content.
type pruneJournal struct {
	ID      string        `json:"id"`
	Reason  string        `json:"reason"`
	Started time.Time     `json:"started"`
	Objects []journalItem `json:"objects"`
}

// journalItem is one object (one version, in a versioned bucket) to delete.
type journalItem struct {
	Key       string `json:"key"`
	VersionID string `json:"version_id,omitempty"`
	ETag      string `json:"etag,omitempty"`
}

// PruneOptions are a folder's prune options (session.PruneOptions) and the bucket's lock.
type PruneOptions struct {
	session.PruneOptions
	// LeaseTTL is how long the prune lock stands without being renewed; zero is
	// DefaultLeaseTTL.
	LeaseTTL time.Duration
}

// folder is what a listing shows of one session's place in the bucket.
type folder struct {
	rel      string // below the root, slash-separated ("." for the root itself)
	dir      objstore.URL
	objects  []objstore.Object
	manifest bool
	hold     bool
	journal  bool
	live     bool
	bytes    int64
}

// Prune deletes the sessions stored under root that are due (past their delete-after date, or
// with opts.OlderThan started longer ago), as session.Prune does in a folder, and never one that
//
//   - is held: hold.json present (or unreadable), or any version of its objects under an Object
//     Lock legal hold;
//   - is not finished: no manifest.json (a recording in progress writes pieces under .live/
//     before any manifest; a push that stopped left files without one), a manifest not
//     finalized, or pieces under .live/ beside it;
//   - is dated in a way that does not make it due.
//
// A session's folder is one with manifest.json (of format spacecast-session); root may be one.
// Hidden folders and everything outside a session's folder are never touched.
//
// Two prunes of one root take turns on a lock object (PruneLockName in root, or in its parent for
// a single session), created with If-None-Match: * and renewed while the prune runs (a lease:
// PruneOptions.LeaseTTL).
// A session is deleted by first writing a journal in its folder (PruneJournalName: the objects to
// delete), then deleting manifest.json (so that what remains reads as incomplete, never as a
// complete session with missing files), its signature, the rest, and the journal last. A prune
// that stopped half-way leaves a journal beside no manifest: the next prune finishes it
// (PruneReport.Finished), deleting only the objects listed (by version, in a versioned bucket,
// where every version of the session is deleted; by ETag otherwise), so that a new session
// stored there since is not touched.
func Prune(ctx context.Context, st Keeper, root objstore.URL, opts PruneOptions) (rep *session.PruneReport, err error) {
	fail := func(rep *session.PruneReport, err error) (*session.PruneReport, error) {
		return rep, &OpError{Op: "prune", URL: root.String(), Err: err}
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	folders, single, err := listFolders(ctx, st, root)
	if err != nil {
		return fail(nil, err)
	}
	if len(folders) == 0 {
		return fail(nil, session.ErrNoSessions)
	}
	base := root
	if single {
		base.Prefix = path.Dir(root.Prefix)
		if base.Prefix == "." {
			base.Prefix = ""
		}
	}
	rep = &session.PruneReport{Root: root.String(), DryRun: opts.DryRun, Deleted: []session.PruneEntry{}, Kept: []session.PruneEntry{}}
	p := &pruner{st: st, opts: opts.PruneOptions, now: now}
	if p.kind, err = bucketKind(ctx, st, root.Bucket); err != nil {
		return fail(nil, err)
	}
	if !opts.DryRun {
		l, lerr := acquireLease(ctx, st, p.kind, base.Bucket, base.Key(PruneLockName), opts.LockWait, opts.LeaseTTL)
		if lerr != nil {
			return fail(nil, lerr)
		}
		p.lease = l
		defer func() {
			// The lock goes even when the prune failed; a failure to remove it is reported
			// when nothing else was.
			if rerr := l.Release(context.WithoutCancel(ctx)); rerr != nil && err == nil {
				rep, err = fail(rep, rerr)
			}
		}()
	}
	for _, f := range folders {
		if err := ctx.Err(); err != nil {
			return fail(rep, err)
		}
		if !f.manifest {
			if f.journal && !opts.DryRun {
				if err := p.finish(ctx, f); errors.Is(err, ErrBadJournal) {
					rep.Kept = append(rep.Kept, session.PruneEntry{Path: f.rel, Bytes: f.bytes, Reason: "kept: " + err.Error()})
					continue
				} else if err != nil {
					return fail(rep, err)
				}
				rep.Finished = append(rep.Finished, f.rel)
				continue
			}
			rep.Kept = append(rep.Kept, session.PruneEntry{Path: f.rel, Bytes: f.bytes, Reason: incompleteReason(f)})
			continue
		}
		e, due, err := p.judge(ctx, f)
		if err != nil {
			if errors.Is(err, errNotSession) {
				continue
			}
			var oe *objstore.Error
			if errors.As(err, &oe) && oe.Kind != objstore.ErrNotFound || ctx.Err() != nil {
				return fail(rep, err) // the store, not the session: stop
			}
			e.Reason = "kept: " + err.Error()
			rep.Kept = append(rep.Kept, e)
			continue
		}
		if !due {
			if f.journal && !opts.DryRun {
				// A prune stopped before it deleted anything; this one keeps the session.
				if err := purge(ctx, st, p.kind, f.dir.Bucket, f.dir.Key(PruneJournalName)); err != nil {
					return fail(rep, err)
				}
			}
			rep.Kept = append(rep.Kept, e)
			continue
		}
		if !opts.DryRun {
			if why, err := p.delete(ctx, f, e); err != nil {
				return fail(rep, err)
			} else if why != "" {
				e.Reason = "kept: " + why
				rep.Kept = append(rep.Kept, e)
				continue
			}
		}
		rep.Deleted = append(rep.Deleted, e)
	}
	return rep, nil
}

var errNotSession = errors.New("not a spacecast session")

func incompleteReason(f *folder) string {
	if f.journal {
		return "kept: no manifest.json: a deletion by a prune that stopped half-way (the next prune that deletes finishes it)"
	}
	if f.live {
		return "kept: no manifest.json, pieces under " + LiveFolder + "/ (a recording in progress, or one to recover with 'spacecast recover')"
	}
	return "kept: incomplete (files without manifest.json: a push or a recording that did not finish)"
}

type pruner struct {
	st    Keeper
	opts  session.PruneOptions
	now   time.Time
	kind  kind
	lease *bucketlock.Lock
}

// judge decides whether the session in f is due. An error that is not the store's means it is
// kept for that reason; errNotSession, that it is no session at all.
func (p *pruner) judge(ctx context.Context, f *folder) (e session.PruneEntry, due bool, err error) {
	e = session.PruneEntry{Path: f.rel, Bytes: f.bytes}
	b, err := getSmall(ctx, p.st, f.dir.Bucket, f.dir.Key(session.ManifestName))
	if err != nil {
		return e, false, err
	}
	m, err := session.ParseLoose(b)
	if err != nil {
		return e, false, errNotSession
	}
	if m.Format != session.FormatName {
		return e, false, errNotSession
	}
	e.ID, e.StartedAt, e.DeleteAfter = m.ID, m.StartedAt, m.DeleteAfter
	if f.hold {
		b, err := getSmall(ctx, p.st, f.dir.Bucket, f.dir.Key(session.HoldName))
		if err != nil {
			return e, false, err
		}
		h, err := session.ParseHold(b)
		if err != nil {
			return e, false, fmt.Errorf("held (hold.json unreadable: %w)", err)
		}
		e.Reason = "kept: " + h.String()
		return e, false, nil
	}
	switch {
	case !m.Finalized:
		e.Reason = "kept: not finalized (a recording in progress, or one to recover with 'spacecast recover')"
		return e, false, nil
	case f.live:
		e.Reason = "kept: pieces of a recording under " + LiveFolder + "/ beside its manifest"
		return e, false, nil
	}
	e.Reason, due, e.Undated = session.Due(m, p.now, p.opts)
	if !due {
		return e, false, nil
	}
	if n, err := legalHolds(ctx, p.st, f.dir, p.kind.lock); err != nil {
		return e, false, err
	} else if n > 0 {
		e.Reason = fmt.Sprintf("kept: under an Object Lock legal hold (%d object versions)", n)
		return e, false, nil
	}
	return e, true, nil
}

// delete deletes the session in f: journal, manifest, signature, the rest, journal. It returns
// why it kept the session after all ("" when it deleted it), or the store's error.
func (p *pruner) delete(ctx context.Context, f *folder, e session.PruneEntry) (string, error) {
	if err := p.lease.Check(); err != nil {
		return "", err
	}
	j := pruneJournal{ID: e.ID, Reason: e.Reason, Started: p.now.UTC()}
	if p.kind.versioned {
		for v, err := range p.st.ListVersions(ctx, f.dir.Bucket, f.dir.Dir()) {
			if err != nil {
				return "", err
			}
			j.Objects = append(j.Objects, journalItem{Key: v.Key, VersionID: v.VersionID, ETag: v.ETag})
		}
	} else {
		for _, o := range f.objects {
			j.Objects = append(j.Objects, journalItem{Key: o.Key, ETag: o.ETag})
		}
	}
	order(j.Objects, f.dir)
	b, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return "", err
	}
	if _, err := p.st.Put(ctx, f.dir.Bucket, f.dir.Key(PruneJournalName), bytes.NewReader(append(b, '\n')), objstore.PutOptions{ContentType: "application/json"}); err != nil {
		return "", err
	}
	// A hold placed since the judgement: the marker is written before any legal hold.
	if _, err := p.st.Head(ctx, f.dir.Bucket, f.dir.Key(session.HoldName)); err == nil {
		return "held while being deleted", purge(ctx, p.st, p.kind, f.dir.Bucket, f.dir.Key(PruneJournalName))
	} else if !errors.Is(err, objstore.ErrNotFound) {
		return "", err
	}
	if err := p.deleteItems(ctx, j.Objects, f.dir); err != nil {
		return "", err
	}
	return "", purge(ctx, p.st, p.kind, f.dir.Bucket, f.dir.Key(PruneJournalName))
}

// deleteItems deletes the journal's objects in order, checking the lease before each. The
// journal itself, if listed, is left for last.
func (p *pruner) deleteItems(ctx context.Context, items []journalItem, dir objstore.URL) error {
	for _, it := range items {
		if it.Key == dir.Key(PruneJournalName) {
			continue
		}
		if err := p.lease.Check(); err != nil {
			return err
		}
		var err error
		if it.VersionID != "" && it.VersionID != "null" {
			err = p.st.DeleteVersion(ctx, dir.Bucket, it.Key, it.VersionID)
		} else {
			err = p.st.DeleteIfMatch(ctx, dir.Bucket, it.Key, it.ETag)
			if errors.Is(err, objstore.ErrPrecondition) {
				err = nil // stored anew since: not this session's any more
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// finish completes the deletion a prune that stopped half-way journaled in f.
func (p *pruner) finish(ctx context.Context, f *folder) error {
	b, err := getSmall(ctx, p.st, f.dir.Bucket, f.dir.Key(PruneJournalName))
	if err != nil {
		return err
	}
	j, err := parsePruneJournal(b, f.dir)
	if err != nil {
		return err
	}
	order(j.Objects, f.dir)
	if err := p.deleteItems(ctx, j.Objects, f.dir); err != nil {
		return err
	}
	return purge(ctx, p.st, p.kind, f.dir.Bucket, f.dir.Key(PruneJournalName))
}

// parsePruneJournal decodes the prune journal of the session folder dir. It is outside input:
// a journal naming an object outside the folder is refused (ErrBadJournal), so that no prune
// deletes anything else on its word.
func parsePruneJournal(b []byte, dir objstore.URL) (pruneJournal, error) {
	var j pruneJournal
	if err := json.Unmarshal(b, &j); err != nil {
		return j, fmt.Errorf("%s: %w: %w", dir.Key(PruneJournalName), ErrBadJournal, err)
	}
	for _, it := range j.Objects {
		if !inside(it.Key, dir) {
			return j, fmt.Errorf("%s: %w: %q is not in the session", dir.Key(PruneJournalName), ErrBadJournal, it.Key)
		}
	}
	return j, nil
}

// order sorts a session's objects for deletion: manifest.json first (its older versions before
// the current one, so that a refusal leaves the session whole), its signature next, then the
// rest by key.
func order(items []journalItem, dir objstore.URL) {
	rank := func(k string) int {
		switch k {
		case dir.Key(session.ManifestName):
			return 0
		case dir.Key(session.SignatureName):
			return 1
		}
		return 2
	}
	// The listing gives each key's versions latest first; the manifest's are reversed.
	var mf []journalItem
	rest := items[:0:0]
	for _, it := range items {
		if it.Key == dir.Key(session.ManifestName) {
			mf = append(mf, it)
		} else {
			rest = append(rest, it)
		}
	}
	slices.Reverse(mf)
	slices.SortStableFunc(rest, func(a, b journalItem) int {
		if c := rank(a.Key) - rank(b.Key); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	copy(items, append(mf, rest...))
}

// listFolders lists root and groups its objects by session folder: a folder with manifest.json,
// or, without one, a folder holding tracks/, .live/ or a prune journal (an incomplete session).
// Objects below a hidden folder outside a session, and outside any session folder, are left out.
// single is true when root itself is a session's folder.
func listFolders(ctx context.Context, st Store, root objstore.URL) (out []*folder, single bool, err error) {
	var objs []objstore.Object
	for o, err := range st.List(ctx, root.Bucket, root.Dir()) {
		if err != nil {
			return nil, false, err
		}
		objs = append(objs, o)
	}
	// The folders: where manifests are, then where signs of an unfinished session are.
	dirs := map[string]*folder{}
	find := func(rel string) string {
		segs := strings.Split(rel, "/")
		for i := len(segs) - 1; i >= 0; i-- {
			d := strings.Join(segs[:i], "/")
			if _, ok := dirs[d]; ok {
				return d
			}
		}
		return "\x00"
	}
	add := func(d string) {
		for _, s := range strings.Split(d, "/") {
			if strings.HasPrefix(s, ".") {
				return // hidden: never entered
			}
		}
		if find(d+"/x") == "\x00" {
			dirs[d] = &folder{}
		}
	}
	rels := make([]string, len(objs))
	for i, o := range objs {
		rels[i] = strings.TrimPrefix(o.Key, root.Dir())
	}
	byDepth := slices.Clone(rels)
	slices.SortFunc(byDepth, func(a, b string) int { return strings.Count(a, "/") - strings.Count(b, "/") })
	for _, rel := range byDepth {
		if path.Base(rel) == session.ManifestName {
			add(dirOf(rel))
		}
	}
	for _, rel := range byDepth {
		segs := strings.Split(rel, "/")
		for i, s := range segs[:len(segs)-1] {
			if s == LiveFolder || s == "tracks" {
				add(strings.Join(segs[:i], "/"))
				break
			}
		}
		if path.Base(rel) == PruneJournalName {
			add(dirOf(rel))
		}
	}
	for i, o := range objs {
		d := find(rels[i])
		f := dirs[d]
		if f == nil {
			continue
		}
		in := strings.TrimPrefix(rels[i], d+"/")
		if d == "" {
			in = rels[i]
		}
		f.objects = append(f.objects, o)
		f.bytes += o.Size
		switch {
		case in == session.ManifestName:
			f.manifest = true
		case in == session.HoldName:
			f.hold = true
		case in == PruneJournalName:
			f.journal = true
		case strings.HasPrefix(in, LiveFolder+"/"):
			f.live = true
		}
	}
	for d, f := range dirs {
		f.rel, f.dir = d, root
		if d == "" {
			f.rel, single = ".", true
		} else {
			f.dir.Prefix = root.Key(d)
		}
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b *folder) int { return strings.Compare(a.rel, b.rel) })
	return out, single && len(out) == 1, nil
}

func dirOf(rel string) string {
	d := path.Dir(rel)
	if d == "." {
		return ""
	}
	return d
}
