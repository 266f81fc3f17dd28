package sitestore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"iter"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spacecast/spacecast/pkg/bucketlock"
	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/site"
)

// Store is what a push needs of a bucket; *objstore.Client is one.
type Store interface {
	Put(ctx context.Context, bucket, key string, body io.ReadSeeker, opt objstore.PutOptions) (objstore.Object, error)
	Get(ctx context.Context, bucket, key string, r *objstore.Range) (io.ReadCloser, objstore.Object, error)
	Head(ctx context.Context, bucket, key string) (objstore.Object, error)
	List(ctx context.Context, bucket, prefix string) iter.Seq2[objstore.Object, error]
	Delete(ctx context.Context, bucket, key string) error
	DeleteIfMatch(ctx context.Context, bucket, key, etag string) error
}

var _ Store = (*objstore.Client)(nil)

// metaSHA256 is the metadata name (x-amz-meta-sha256) under which every object a push uploads
// carries the SHA-256 of its content, in hex.
const metaSHA256 = "sha256"

// DefaultWorkers is how many uploads (and HEAD requests) run at once.
const DefaultWorkers = 4

// Options are a push's settings; the zero value works.
type Options struct {
	// DryRun plans and reports without writing anything to the bucket (nor taking its lock).
	DryRun bool
	// Site is how the site folder is read (its lock's timeout and the note while waiting).
	Site site.Options
	// LockTimeout bounds the wait for another push's lock (DefaultLockTimeout when 0); Lease is
	// the lock's length (DefaultLease when 0).
	LockTimeout, Lease time.Duration
	// OnWait is called once when another push holds the lock and this one starts to wait.
	OnWait func(Holder)
	// Workers is how many requests run at once (DefaultWorkers when 0).
	Workers int
	// OnProgress, if set, is called after each object is uploaded or deleted.
	OnProgress func(Progress)
}

// Progress is how far a push has come.
type Progress struct {
	Done, Total int    // objects uploaded or deleted, of those to upload and delete
	Bytes, Of   int64  // bytes uploaded, of those to upload
	Path        string // the object just done, its path in the site
}

// Object is one object of the site in the report.
type Object struct {
	Path         string `json:"path"` // in the site folder and below the prefix
	Key          string `json:"key"`
	Bytes        int64  `json:"bytes"`
	SHA256       string `json:"sha256,omitempty"`
	ContentType  string `json:"content_type,omitempty"`
	CacheControl string `json:"cache_control,omitempty"`
	// Reason says why an object is uploaded ("new", "changed", "headers": the same content
	// served with other headers, "unverified": an object no push uploaded) or kept.
	Reason string `json:"reason,omitempty"`
}

// Report says what a push did, or with DryRun would do, in the order it does it.
type Report struct {
	Site          string   `json:"site"`
	URL           string   `json:"url"`
	DryRun        bool     `json:"dry_run"`
	Uploaded      []Object `json:"uploaded"`
	Skipped       []Object `json:"skipped"`
	Deleted       []Object `json:"deleted"`
	Kept          []Object `json:"kept,omitempty"`
	UploadedBytes int64    `json:"uploaded_bytes"`
	// ConditionalWrites is false when the store ignored a conditional write, so the lock could
	// not exclude a concurrent push (deletions were still checked against the live feed); nil
	// for a dry run, which takes no lock.
	ConditionalWrites *bool    `json:"conditional_writes,omitempty"`
	Warnings          []string `json:"warnings,omitempty"`
}

// item is a file of the site and what the push does with it.
type item struct {
	f      site.PublicFile
	key    string
	ctype  string
	cache  string
	reason string // why it is uploaded; "" when skipped
}

func (it *item) object() Object {
	return Object{Path: it.f.Rel, Key: it.key, Bytes: it.f.Bytes, SHA256: it.f.SHA256, ContentType: it.ctype, CacheControl: it.cache, Reason: it.reason}
}

func (it *item) entry(etag string) entry {
	return entry{SHA256: it.f.SHA256, Bytes: it.f.Bytes, ETag: etag, ContentType: it.ctype, CacheControl: it.cache}
}

// Push uploads the site at dir under dst (s3://BUCKET/PREFIX, served at the show's base_url):
// the site's served files (site.PublicFiles) that the bucket does not already hold with the same
// content and headers, in the order of the tiers (audio, artwork and assets; chapters and
// transcripts; feed.xml; index.html), each round complete before the next; then it deletes the
// objects an earlier push uploaded that the site no longer has, except any that the feed or page
// in the bucket still name. Under a lock in the bucket, unless DryRun. A push that stops
// half-way leaves the bucket serving the old site or the new one (what the old feed names is
// all still there), and the next push completes it.
func Push(ctx context.Context, st Store, dir string, dst objstore.URL, opt Options) (rep *Report, err error) {
	fail := func(err error) (*Report, error) {
		return nil, &Error{Dir: dir, URL: dst.String(), Err: err}
	}
	if opt.Workers <= 0 {
		opt.Workers = DefaultWorkers
	}
	if opt.Lease <= 0 {
		opt.Lease = DefaultLease
	}
	if opt.LockTimeout <= 0 {
		opt.LockTimeout = DefaultLockTimeout
	}
	files, err := site.PublicFiles(ctx, dir, opt.Site)
	if err != nil {
		return fail(err)
	}
	p := &pusher{st: st, dst: dst, opt: opt, rep: &Report{Site: dir, URL: dst.String(), DryRun: opt.DryRun,
		Uploaded: []Object{}, Skipped: []Object{}, Deleted: []Object{}}}
	if !opt.DryRun {
		if p.lease, err = acquireLock(ctx, st, dst, opt); err != nil {
			return fail(err)
		}
		defer func() {
			rerr := p.lease.Release(context.WithoutCancel(ctx))
			if err == nil && rerr != nil {
				rep, err = fail(rerr)
			}
		}()
		conditional := p.lease.Conditional()
		p.rep.ConditionalWrites = &conditional
		if !conditional {
			p.rep.Warnings = append(p.rep.Warnings, "the store does not honour conditional writes (If-None-Match): the lock cannot keep a concurrent push out; deletions were checked against the feed and page in the bucket")
		}
	}
	if err := p.run(ctx, files); err != nil {
		return fail(err)
	}
	return p.rep, nil
}

type pusher struct {
	st    Store
	dst   objstore.URL
	opt   Options
	rep   *Report
	lease *bucketlock.Lock

	mu     sync.Mutex                 // guards remote and next while requests run at once
	old    *state                     // what the state object said
	remote map[string]objstore.Object // the listing, by path below the prefix
	next   *state                     // what it will say
}

func (p *pusher) run(ctx context.Context, files []site.PublicFile) error {
	if err := p.readRemote(ctx); err != nil {
		return err
	}
	items, err := p.plan(ctx, files)
	if err != nil {
		return err
	}
	local := map[string]bool{}
	for _, it := range items {
		local[it.f.Rel] = true
	}
	var gone []string // objects an earlier push uploaded that the site no longer has
	for rel := range p.old.Objects {
		if !local[rel] {
			if _, ok := p.remote[rel]; ok {
				gone = append(gone, rel)
			}
		}
	}
	slices.Sort(gone)
	var uploads []*item
	for _, it := range items {
		if it.reason == "" {
			p.rep.Skipped = append(p.rep.Skipped, it.object())
		} else {
			uploads = append(uploads, it)
		}
	}
	slices.SortStableFunc(uploads, func(a, b *item) int { return tier(a.f.Kind) - tier(b.f.Kind) })
	for _, it := range uploads {
		p.rep.Uploaded = append(p.rep.Uploaded, it.object())
		p.rep.UploadedBytes += it.f.Bytes
	}
	if p.opt.DryRun {
		for _, rel := range gone {
			p.rep.Deleted = append(p.rep.Deleted, p.goneObject(rel))
		}
		return nil
	}

	// The state first names every object this push may leave behind: if it stops half-way,
	// the next push knows them all (and deletes those the site no longer has).
	p.next = newState()
	for rel, e := range p.old.Objects {
		if _, ok := p.remote[rel]; ok {
			p.next.Objects[rel] = e
		}
	}
	for _, it := range uploads {
		p.next.Objects[it.f.Rel] = it.entry("") // not known to be there until its upload ends
	}
	if len(uploads) > 0 {
		if err := p.writeState(ctx); err != nil {
			return err
		}
	}
	prog := Progress{Total: len(uploads) + len(gone), Of: p.rep.UploadedBytes}
	for t := 0; t < tiers; t++ {
		var round []*item
		for _, it := range uploads {
			if tier(it.f.Kind) == t {
				round = append(round, it)
			}
		}
		err := each(ctx, p.opt.Workers, round, func(ctx context.Context, it *item) error {
			o, err := p.upload(ctx, it)
			if err != nil {
				return err
			}
			p.mu.Lock()
			p.next.Objects[it.f.Rel] = it.entry(o.ETag)
			prog.Done++
			prog.Bytes += it.f.Bytes
			prog.Path = it.f.Rel
			if p.opt.OnProgress != nil {
				p.opt.OnProgress(prog)
			}
			p.mu.Unlock()
			return nil
		})
		if err != nil {
			return err
		}
	}
	for _, it := range items {
		if it.reason == "" {
			p.next.Objects[it.f.Rel] = it.entry(p.remote[it.f.Rel].ETag)
		}
	}

	// The new feed and page are up: what they (as the bucket serves them now) no longer name
	// can go.
	if len(gone) > 0 {
		named, err := p.liveReferences(ctx)
		if err != nil {
			return err
		}
		for _, rel := range gone {
			o := p.goneObject(rel)
			if named(rel) {
				o.Reason = "named by the feed or page in the bucket"
				p.rep.Kept = append(p.rep.Kept, o)
				continue
			}
			if err := p.lease.Check(); err != nil {
				return err
			}
			if err := p.st.Delete(ctx, p.dst.Bucket, p.dst.Key(rel)); err != nil {
				return err
			}
			delete(p.next.Objects, rel)
			p.rep.Deleted = append(p.rep.Deleted, o)
			prog.Done++
			prog.Path = rel
			if p.opt.OnProgress != nil {
				p.opt.OnProgress(prog)
			}
		}
	}
	if len(uploads) > 0 || len(gone) > 0 || !sameState(p.old, p.next) {
		return p.writeState(ctx)
	}
	return nil
}

func (p *pusher) goneObject(rel string) Object {
	e := p.old.Objects[rel]
	return Object{Path: rel, Key: p.dst.Key(rel), Bytes: p.remote[rel].Size, SHA256: e.SHA256}
}

// readRemote lists the prefix and reads the state object.
func (p *pusher) readRemote(ctx context.Context) error {
	p.remote = map[string]objstore.Object{}
	for o, err := range p.st.List(ctx, p.dst.Bucket, p.dst.Dir()) {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(o.Key, p.dst.Dir())
		p.remote[rel] = o
	}
	p.old = newState()
	if _, ok := p.remote[StateName]; !ok {
		return nil
	}
	r, _, err := p.st.Get(ctx, p.dst.Bucket, p.dst.Key(StateName), nil)
	if errors.Is(err, objstore.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, maxStateBytes+1))
	if err != nil {
		return err
	}
	s, err := parseState(b)
	if err == nil && len(b) > maxStateBytes {
		err = fmt.Errorf("%w: larger than %d bytes", ErrBadState, maxStateBytes)
	}
	if err != nil {
		// Without it nothing is deleted (only what a push uploaded ever is) and every object is
		// checked with a HEAD; this push writes a good one.
		p.rep.Warnings = append(p.rep.Warnings, fmt.Sprintf("%s: %v: ignored; objects of earlier pushes that the site no longer has are not deleted this time", p.dst.Key(StateName), err))
		return nil
	}
	p.old = s
	return nil
}

// plan decides for every file whether the bucket already holds it: the same size, and either
// the state vouches for the object (same ETag, digest and headers) or a HEAD shows the same
// x-amz-meta-sha256 and headers.
func (p *pusher) plan(ctx context.Context, files []site.PublicFile) ([]*item, error) {
	items := make([]*item, len(files))
	var ask []*item
	for i := range files {
		f := files[i]
		it := &item{f: f, key: p.dst.Key(f.Rel), ctype: contentType(&f), cache: cacheControl(&f)}
		items[i] = it
		o, ok := p.remote[f.Rel]
		switch {
		case !ok:
			it.reason = "new"
		case o.Size != f.Bytes:
			it.reason = "changed"
		default:
			if e, ok := p.old.Objects[f.Rel]; ok && e.ETag != "" && e.ETag == o.ETag {
				it.reason = compare(e.SHA256, e.ContentType, e.CacheControl, it)
			} else {
				ask = append(ask, it)
			}
		}
	}
	err := each(ctx, p.opt.Workers*2, ask, func(ctx context.Context, it *item) error {
		h, err := p.st.Head(ctx, p.dst.Bucket, it.key)
		if errors.Is(err, objstore.ErrNotFound) {
			it.reason = "new"
			return nil
		}
		if err != nil {
			return err
		}
		if h.Metadata[metaSHA256] == "" {
			it.reason = "unverified"
			return nil
		}
		it.reason = compare(h.Metadata[metaSHA256], h.ContentType, h.CacheControl, it)
		if it.reason == "" {
			p.mu.Lock()
			o := p.remote[it.f.Rel]
			o.ETag = h.ETag
			p.remote[it.f.Rel] = o
			p.mu.Unlock()
		}
		return nil
	})
	return items, err
}

// compare says why the object described needs uploading again, or "".
func compare(sum, ctype, cache string, it *item) string {
	switch {
	case sum != it.f.SHA256:
		return "changed"
	case ctype != it.ctype || cache != it.cache:
		return "headers"
	}
	return ""
}

// upload puts one file, with its digest as metadata; audio is read from disk and must hash to
// the digest the site's record holds.
func (p *pusher) upload(ctx context.Context, it *item) (objstore.Object, error) {
	if err := p.lease.Check(); err != nil {
		return objstore.Object{}, err
	}
	var body io.ReadSeeker
	if it.f.Data != nil {
		body = bytes.NewReader(it.f.Data)
	} else {
		f, err := os.Open(it.f.Path)
		if err != nil {
			return objstore.Object{}, err
		}
		defer f.Close()
		body = &verifying{r: f, want: it.f.SHA256, size: it.f.Bytes, rel: it.f.Rel, h: sha256.New()}
	}
	o, err := p.st.Put(ctx, p.dst.Bucket, it.key, body, objstore.PutOptions{ContentType: it.ctype, CacheControl: it.cache,
		Metadata: map[string]string{metaSHA256: it.f.SHA256}})
	if err != nil {
		return objstore.Object{}, err
	}
	if o.SHA256 != "" && o.SHA256 != it.f.SHA256 {
		return objstore.Object{}, fmt.Errorf("%s: %w", it.f.Rel, ErrChanged)
	}
	return o, nil
}

// writeState puts the state object.
func (p *pusher) writeState(ctx context.Context) error {
	if err := p.lease.Check(); err != nil {
		return err
	}
	_, err := p.st.Put(ctx, p.dst.Bucket, p.dst.Key(StateName), bytes.NewReader(p.next.encode()),
		objstore.PutOptions{ContentType: "application/json", CacheControl: "no-store"})
	return err
}

// liveReferences reads feed.xml and index.html back from the bucket and returns whether a path
// appears in either: whatever they name stays, whoever wrote them.
func (p *pusher) liveReferences(ctx context.Context) (func(rel string) bool, error) {
	var docs [][]byte
	for _, name := range []string{site.FeedName, site.PageName} {
		r, _, err := p.st.Get(ctx, p.dst.Bucket, p.dst.Key(name), nil)
		if errors.Is(err, objstore.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			return nil, err
		}
		docs = append(docs, b)
	}
	return func(rel string) bool {
		for _, d := range docs {
			if bytes.Contains(d, []byte(rel)) {
				return true
			}
		}
		return false
	}, nil
}

func sameState(a, b *state) bool {
	if len(a.Objects) != len(b.Objects) {
		return false
	}
	for k, v := range a.Objects {
		if b.Objects[k] != v {
			return false
		}
	}
	return true
}

// each runs f on every item with at most n at once; the first error cancels the others and is
// returned.
func each(ctx context.Context, n int, items []*item, f func(context.Context, *item) error) error {
	if len(items) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan *item)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range min(n, len(items)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range work {
				if err := f(ctx, it); err != nil {
					once.Do(func() { first = err; cancel() })
				}
			}
		}()
	}
feed:
	for _, it := range items {
		select {
		case work <- it:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

// verifying reads a file and, at the end of the first pass (objstore.Put's hashing pass, before
// anything is sent), fails if the bytes do not hash to want: the file changed since the site
// recorded it.
type verifying struct {
	r    io.ReadSeeker
	h    hash.Hash
	want string
	size int64
	rel  string
	n    int64
	done bool
}

func (v *verifying) Read(b []byte) (int, error) {
	n, err := v.r.Read(b)
	if !v.done {
		v.h.Write(b[:n])
		v.n += int64(n)
		if err == io.EOF {
			v.done = true
			if v.n != v.size || hex.EncodeToString(v.h.Sum(nil)) != v.want {
				return n, fmt.Errorf("%s: %w (it is not the file the site's record describes)", v.rel, ErrChanged)
			}
		}
	}
	return n, err
}

func (v *verifying) Seek(off int64, whence int) (int64, error) {
	if !v.done && (off != 0 || whence != io.SeekStart || v.n != 0) {
		v.done = true // a pass that did not start at 0 is no longer the first
	}
	return v.r.Seek(off, whence)
}
