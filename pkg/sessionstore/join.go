package sessionstore

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/redact"
	"github.com/spacecast/spacecast/pkg/session"
	"github.com/spacecast/spacecast/pkg/studio"
)

// A room taken over by another recorder (a worker that died, docs/fleet.md) is recorded in parts:
// the session's place u holds part 1, and each takeover records into a continuation place,
// u.Prefix+"-part2", "-part3", … (session.PartName), since the dead recorder's pieces are still
// under u/.live/. JoinParts makes them one session at u again (docs/session-format.md, "Sessions
// in parts").

// JoinOptions say how JoinParts finishes and seals the session it joins.
type JoinOptions struct {
	// Finalize finishes a part whose recorder died (RecoverOptions.Finalize: recover and seal
	// the folder). A part left live is recovered from its pieces first; nil refuses such a part.
	Finalize func(dir string) error
	// Key signs the joined session's seal (manifest.json.sig); nil seals it unsigned.
	Key ed25519.PrivateKey
	// Work is the folder in which the parts are joined (a temporary folder inside it, removed
	// at the end); "" is the system's temporary folder.
	Work string
	// Quiet and Now are RecoverOptions' for a part left live: a live manifest younger than Quiet
	// may belong to a recorder still at work, and the join is refused (*PartRecordingError).
	Quiet time.Duration
	Now   func() time.Time
	// OnFile is the progress of the uploads (Options.OnFile).
	OnFile func(n, of int, rel string, bytes int64)
	// Parts is the highest part number there may be (a fleet job's claims: claim n records part
	// n); 0 finds it from the bucket's listing. Places below it that hold nothing (a claim that
	// wrote nothing) are skipped.
	Parts int
}

// JoinReport says what JoinParts did.
type JoinReport struct {
	URL string `json:"url"`
	// Parts are the parts found, part 1 first; one part means there was nothing to join and
	// nothing was changed.
	Parts []JoinedPart `json:"parts"`
	// Joined: the parts are one session at URL now, and the later parts' places are empty.
	Joined bool `json:"joined"`
	// Resumed: the session at URL already was the joined one (a join that stopped after writing
	// its manifest): only what was left of the parts was deleted.
	Resumed bool `json:"resumed,omitempty"`
	// Gaps are the failover gaps between the parts, on the joined clock.
	Gaps          []session.Gap `json:"gaps,omitempty"`
	DurationTicks int64         `json:"duration_ticks,omitempty"`
	// Cut are the tracks of earlier parts cut where a later part that overlaps them begins.
	Cut []CutTrack `json:"cut,omitempty"`
	// Uploaded and Bytes: the new files written at URL (the later parts' tracks, the joined mix,
	// the manifest and its signature); Deleted: the objects of the parts deleted afterwards.
	Uploaded int   `json:"uploaded"`
	Bytes    int64 `json:"bytes"`
	Deleted  int   `json:"deleted"`
}

// JoinedPart is one part of a joined session.
type JoinedPart struct {
	URL string `json:"url"`
	ID  string `json:"id,omitempty"`
	// Recovered: the part was left live (its recorder died) and was recovered first.
	Recovered     *RecoverReport `json:"recovered,omitempty"`
	OffsetTicks   int64          `json:"offset_ticks"`
	DurationTicks int64          `json:"duration_ticks"`
	Tracks        int            `json:"tracks"`
}

// PartRecordingError says that a part of the session may still be being recorded: its live
// manifest is too young for its recorder to be taken for dead. Nothing was joined. It wraps the
// *RecordingError (and so matches ErrRecording).
type PartRecordingError struct {
	Part int
	URL  string
	Err  *RecordingError
}

func (e *PartRecordingError) Error() string {
	return fmt.Sprintf("part %d (%s): %v", e.Part, e.URL, e.Err)
}

func (e *PartRecordingError) Unwrap() error { return e.Err }

// partState is what a place holds.
type partState int

const (
	partNone       partState = iota // nothing
	partFinished                    // a manifest
	partLive                        // pieces and no manifest
	partIncomplete                  // files without a manifest, no pieces
)

// JoinParts makes the session at u and its parts (u-part2, u-part3, … up to the first place that
// holds nothing) one session at u. A part left live is recovered first (RecoverLive with
// opt.Finalize; a live manifest younger than opt.Quiet is a *PartRecordingError and nothing is
// joined). The parts are downloaded (each checked against its seal), their manifests joined
// (session.JoinManifests: later parts' clocks shifted, the outages failover gaps), their tracks
// named with a part prefix, an earlier part's tracks cut where a later part that overlaps it
// begins (cutOverlaps), the live mix made again from the joined tracks (session.JoinedMixName,
// the outages silent), and the whole sealed (signed with opt.Key). Then the new files are written
// at u, the manifest last (part 1's old signature is deleted just before it, the new one written
// right after it), u's objects the joined manifest no longer names (part 1's old mix) deleted,
// and last the later parts' objects, the last part first and each part's manifest last. Run again
// after an interruption at any point, it finishes the job: before the manifest is written, the
// parts are all still there and it starts again; after, the manifest lists the parts it holds
// (Manifest.Parts) and only the deleting is left. A session without parts is left unchanged.
func JoinParts(ctx context.Context, st LiveStore, u objstore.URL, opt JoinOptions) (*JoinReport, error) {
	fail := func(err error) (*JoinReport, error) {
		return nil, &Error{Op: "join", URL: u.String(), Err: err}
	}
	if u.Prefix == "" {
		return fail(ErrNoName)
	}
	last := opt.Parts
	if last <= 0 {
		n, err := lastPart(ctx, st, u)
		if err != nil {
			return fail(err)
		}
		last = n
	}
	var urls []objstore.URL
	var states []partState
	for n := 1; n <= last; n++ {
		pu := objstore.URL{Bucket: u.Bucket, Prefix: session.PartName(u.Prefix, n)}
		s, err := placeState(ctx, st, pu)
		if err != nil {
			return fail(err)
		}
		if s == partNone {
			continue
		}
		urls, states = append(urls, pu), append(states, s)
	}
	if len(urls) == 0 {
		return fail(ErrNoSession)
	}
	// The session is at its first part's place: u, unless the first claim wrote nothing.
	u = urls[0]
	rep := &JoinReport{URL: u.String()}
	for _, pu := range urls {
		rep.Parts = append(rep.Parts, JoinedPart{URL: pu.String()})
	}
	if len(urls) == 1 {
		return rep, nil
	}
	for i, s := range states {
		switch s {
		case partIncomplete:
			return fail(fmt.Errorf("part %d (%s): %w", i+1, urls[i], ErrIncomplete))
		case partLive:
			if opt.Finalize == nil {
				return fail(fmt.Errorf("part %d (%s): %w", i+1, urls[i], ErrLive))
			}
			rr, err := RecoverLive(ctx, st, urls[i], RecoverOptions{Work: opt.Work, Finalize: opt.Finalize,
				OnFile: opt.OnFile, Quiet: opt.Quiet, Now: opt.Now})
			var re *RecordingError
			if errors.As(err, &re) {
				return fail(&PartRecordingError{Part: i + 1, URL: urls[i].String(), Err: re})
			}
			if err != nil {
				return fail(fmt.Errorf("part %d: %w", i+1, err))
			}
			rep.Parts[i].Recovered = rr
		}
	}
	ms := make([]*session.Manifest, len(urls))
	raw := make([][]byte, len(urls))
	var etag string // part 1's manifest's: the joined one replaces that one only
	for i, pu := range urls {
		b, o, err := getSmallObject(ctx, st, pu.Bucket, pu.Key(session.ManifestName))
		if err != nil {
			return fail(fmt.Errorf("part %d: %w", i+1, err))
		}
		if i == 0 {
			etag = o.ETag
		}
		if ms[i], err = session.Parse(b); err != nil {
			return fail(fmt.Errorf("part %d: %s: %w", i+1, pu.Key(session.ManifestName), err))
		}
		raw[i] = b
	}
	done, err := alreadyJoined(ms)
	if err != nil {
		return fail(err)
	}
	var joined *session.Manifest
	if done {
		rep.Resumed, joined = true, ms[0]
		if err := resign(ctx, st, u, raw[0], opt.Key, rep); err != nil {
			return fail(err)
		}
	} else {
		if joined, err = joinInto(ctx, st, urls, ms, etag, opt, rep); err != nil {
			return fail(err)
		}
	}
	if err := dropUnnamed(ctx, st, u, joined, rep); err != nil {
		return fail(err)
	}
	for i := len(urls) - 1; i >= 1; i-- {
		if err := deletePlace(ctx, st, urls[i], rep); err != nil {
			return fail(fmt.Errorf("part %d: %w", i+1, err))
		}
	}
	for i, p := range joined.Parts {
		if i < len(rep.Parts) {
			rep.Parts[i].ID, rep.Parts[i].OffsetTicks, rep.Parts[i].DurationTicks = p.ID, p.OffsetTicks, p.DurationTicks
		}
	}
	for i := range rep.Parts {
		for _, t := range joined.Tracks {
			if strings.HasPrefix(t.ID, session.PartFilePrefix(i+1)) && (i > 0 || !hasPartPrefix(t.ID, len(rep.Parts))) {
				rep.Parts[i].Tracks++
			}
		}
	}
	for _, g := range joined.Gaps {
		if g.Cause == session.GapFailover {
			rep.Gaps = append(rep.Gaps, g)
		}
	}
	rep.Joined, rep.DurationTicks = true, joined.DurationTicks
	return rep, nil
}

// lastPart is the highest part number with a place under u's parent that holds something (1 if
// none): the keys NAME-partN/… beside u.
func lastPart(ctx context.Context, st Store, u objstore.URL) (int, error) {
	last := 1
	stem := u.Prefix + session.PartSuffix
	for o, err := range st.List(ctx, u.Bucket, stem) {
		if err != nil {
			return 0, err
		}
		num, _, ok := strings.Cut(strings.TrimPrefix(o.Key, stem), "/")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(num)
		if err != nil || n < 2 || n > session.MaxParts || strconv.Itoa(n) != num {
			continue // NAME-partX that is no part: another session's name
		}
		last = max(last, n)
	}
	return last, nil
}

// hasPartPrefix reports whether a track ID carries the prefix of one of parts 2..n.
func hasPartPrefix(id string, n int) bool {
	for k := 2; k <= n; k++ {
		if strings.HasPrefix(id, session.PartFilePrefix(k)) {
			return true
		}
	}
	return false
}

// placeState says what the place u holds.
func placeState(ctx context.Context, st Store, u objstore.URL) (partState, error) {
	s := partNone
	for o, err := range st.List(ctx, u.Bucket, u.Dir()) {
		if err != nil {
			return partNone, err
		}
		switch rel := strings.TrimPrefix(o.Key, u.Dir()); {
		case rel == session.ManifestName:
			return partFinished, nil
		case isLive(rel):
			s = partLive
		case s == partNone:
			s = partIncomplete
		}
	}
	return s, nil
}

// alreadyJoined reports whether part 1's manifest is the joined one already, listing the later
// parts (by their IDs): a join that stopped after writing it.
func alreadyJoined(ms []*session.Manifest) (bool, error) {
	listed := map[string]bool{}
	for _, p := range ms[0].Parts[min(1, len(ms[0].Parts)):] {
		listed[p.ID] = true
	}
	in := 0
	for _, m := range ms[1:] {
		if listed[m.ID] {
			in++
		}
	}
	switch in {
	case 0:
		return false, nil
	case len(ms) - 1:
		return true, nil
	}
	return false, fmt.Errorf("%w: the session lists %d of its %d later parts as joined already", ErrPartsMixed, in, len(ms)-1)
}

// joinInto joins the parts in a work folder and writes the result at urls[0], the manifest last,
// over part 1's manifest as it was read (its ETag etag; "" when the store gave none: then
// unconditionally). Another manifest there meanwhile (another join) is a *FencedError.
func joinInto(ctx context.Context, st LiveStore, urls []objstore.URL, ms []*session.Manifest, etag string, opt JoinOptions, rep *JoinReport) (*session.Manifest, error) {
	joined, err := session.JoinManifests(ms)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(opt.Work, ".spacecast-join-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	dirs := make([]string, len(urls))
	for i, pu := range urls {
		dirs[i] = filepath.Join(tmp, fmt.Sprintf("part%d", i+1))
		if err := fetchPart(ctx, st, pu, ms[i], dirs[i]); err != nil {
			return nil, fmt.Errorf("part %d: %w", i+1, err)
		}
	}
	base := dirs[0]
	first := map[string]bool{}
	for _, f := range namedFiles(ms[0]) {
		first[f] = true
	}
	for i := 1; i < len(urls); i++ {
		prefix := session.PartFilePrefix(i + 1)
		for _, t := range ms[i].Tracks {
			dir, name := filepath.Split(filepath.FromSlash(t.File))
			dst := filepath.Join(base, dir, prefix+name)
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return nil, err
			}
			if err := os.Rename(filepath.Join(dirs[i], filepath.FromSlash(t.File)), dst); err != nil {
				return nil, err
			}
		}
	}
	if rep.Cut, err = cutOverlaps(base, joined, first); err != nil {
		return nil, err
	}
	if len(joined.Tracks) == 0 {
		joined.Mix = nil
	}
	// Part 1's live mix and signature leave the folder: the joined session has its own.
	if ms[0].Mix != nil {
		if err := os.Remove(filepath.Join(base, filepath.FromSlash(ms[0].Mix.File))); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	if err := os.Remove(filepath.Join(base, session.SignatureName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	s := &session.Session{Dir: base, Manifest: joined}
	if err := s.Save(); err != nil {
		return nil, err
	}
	if joined.Mix != nil {
		if err := joinedMix(ctx, base, joined.Mix); err != nil {
			return nil, err
		}
	}
	if err := session.Seal(base, opt.Key); err != nil {
		return nil, err
	}
	if s, err = session.Open(base); err != nil {
		return nil, err
	}
	joined = s.Manifest
	files, err := listFiles(base)
	if err != nil {
		return nil, err
	}
	u := urls[0]
	var put []file
	for _, f := range files {
		if !first[f.rel] && f.rel != session.ManifestName && f.rel != session.SignatureName {
			put = append(put, f)
		}
	}
	n := len(put) + 1
	_, sigErr := os.Stat(filepath.Join(base, session.SignatureName))
	if sigErr == nil {
		n++
	}
	up := func(i int, rel string) error {
		p := filepath.Join(base, filepath.FromSlash(rel))
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if opt.OnFile != nil {
			opt.OnFile(i, n, rel, fi.Size())
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		po := objstore.PutOptions{ContentType: contentType(rel)}
		if rel == session.ManifestName {
			po.IfMatch = etag
		}
		o, err := st.Put(ctx, u.Bucket, u.Key(rel), f, po)
		if po.IfMatch != "" && (errors.Is(err, objstore.ErrPrecondition) || errors.Is(err, objstore.ErrNotFound)) {
			return &FencedError{URL: u.String(), Key: u.Key(rel), Holder: "another join of the session"}
		}
		if err != nil {
			return err
		}
		rep.Uploaded++
		rep.Bytes += o.Size
		return nil
	}
	for i, f := range put {
		if err := up(i+1, f.rel); err != nil {
			return nil, err
		}
	}
	// Part 1's signature would not match the new manifest: it goes first, the new one after it.
	if err := deleteIfThere(ctx, st, u.Bucket, u.Key(session.SignatureName)); err != nil {
		return nil, err
	}
	if err := up(len(put)+1, session.ManifestName); err != nil {
		return nil, err
	}
	if sigErr == nil {
		if err := up(n, session.SignatureName); err != nil {
			return nil, err
		}
	}
	return joined, nil
}

// joinedMix makes the joined session's live mix from its tracks, as a redaction makes it again:
// a plain sum at tick 0, neither levelled nor normalised, Ogg Opus at the recorder's bitrate. No
// track plays in a failover gap: it is silence.
func joinedMix(ctx context.Context, dir string, mix *session.MixFile) error {
	opts := studio.DefaultMixOptions()
	opts.Inputs, opts.Output = []string{dir}, filepath.Join(dir, filepath.FromSlash(mix.File))
	opts.Normalize, opts.Level, opts.MinChapter = false, "off", 0
	opts.Channels, opts.BitrateKbps = mix.Channels, redact.MixBitrateKbps
	if _, err := studio.Mix(ctx, opts, nil); err != nil {
		return fmt.Errorf("make the joined live mix: %w", err)
	}
	return nil
}

// fetchPart downloads the finished part at u (its manifest m, whose bytes are in the bucket) into
// the new folder dir: the manifest, its signature, and every file it names, and checks them
// against the seal. Objects it does not name (what an interrupted join wrote beside part 1) are
// left out.
func fetchPart(ctx context.Context, st Store, u objstore.URL, m *session.Manifest, dir string) error {
	rels := append(namedFiles(m), session.ManifestName)
	if _, err := st.Head(ctx, u.Bucket, u.Key(session.SignatureName)); err == nil {
		rels = append(rels, session.SignatureName)
	} else if !errors.Is(err, objstore.ErrNotFound) {
		return err
	}
	for _, rel := range rels {
		if err := checkRel(rel); err != nil {
			return fmt.Errorf("%q: %w", rel, err)
		}
		if _, err := getFile(ctx, st, u.Bucket, u.Key(rel), filepath.Join(dir, filepath.FromSlash(rel))); err != nil {
			return err
		}
	}
	if err := session.CheckSeal(dir); err != nil {
		var mm *session.SealMismatchError
		if errors.As(err, &mm) {
			mm.Dir = u.String()
		}
		return err
	}
	return nil
}

// namedFiles are the files of the session m names: its seal's (when sealed), else its tracks'
// and its live mix's.
func namedFiles(m *session.Manifest) []string {
	var out []string
	if len(m.Files) > 0 {
		for _, f := range m.Files {
			out = append(out, f.Path)
		}
		return out
	}
	for _, t := range m.Tracks {
		out = append(out, t.File)
	}
	if m.Mix != nil {
		out = append(out, m.Mix.File)
	}
	return out
}

// resign writes the signature of the joined manifest (its exact bytes b) at u when a join that
// stopped after the manifest did not write it yet.
func resign(ctx context.Context, st Store, u objstore.URL, b []byte, key ed25519.PrivateKey, rep *JoinReport) error {
	if key == nil {
		return nil
	}
	if _, err := st.Head(ctx, u.Bucket, u.Key(session.SignatureName)); err == nil {
		return nil
	} else if !errors.Is(err, objstore.ErrNotFound) {
		return err
	}
	sig, err := session.MarshalSignature(session.Sign(key, b))
	if err != nil {
		return err
	}
	o, err := st.Put(ctx, u.Bucket, u.Key(session.SignatureName), strings.NewReader(string(sig)), objstore.PutOptions{ContentType: contentType(session.SignatureName)})
	if err != nil {
		return err
	}
	rep.Uploaded++
	rep.Bytes += o.Size
	return nil
}

// dropUnnamed deletes the objects at u that the joined manifest m no longer names and that
// belonged to part 1 (its old live mix): every object of a session file but the manifest, its
// signature, the hold, the pieces and temporary or hidden objects.
func dropUnnamed(ctx context.Context, st LiveStore, u objstore.URL, m *session.Manifest, rep *JoinReport) error {
	named := map[string]bool{}
	for _, f := range namedFiles(m) {
		named[f] = true
	}
	var del []string
	for o, err := range st.List(ctx, u.Bucket, u.Dir()) {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(o.Key, u.Dir())
		if named[rel] || session.Unhashed(rel) || isLive(rel) || strings.HasPrefix(rel, ".") || strings.Contains(rel, "/.") {
			continue
		}
		del = append(del, o.Key)
	}
	for _, k := range del {
		if err := st.Delete(ctx, u.Bucket, k); err != nil {
			return err
		}
		rep.Deleted++
	}
	return nil
}

// deletePlace deletes every object of a part's place, its manifest last (so that a join stopped
// half-way still finds the part, and knows it by its id).
func deletePlace(ctx context.Context, st LiveStore, u objstore.URL, rep *JoinReport) error {
	var keys []string
	for o, err := range st.List(ctx, u.Bucket, u.Dir()) {
		if err != nil {
			return err
		}
		keys = append(keys, o.Key)
	}
	man := u.Key(session.ManifestName)
	slices.SortStableFunc(keys, func(a, b string) int {
		switch {
		case a == man && b != man:
			return 1
		case b == man && a != man:
			return -1
		}
		return strings.Compare(a, b)
	})
	for _, k := range keys {
		if err := st.Delete(ctx, u.Bucket, k); err != nil {
			return err
		}
		rep.Deleted++
	}
	return nil
}

func deleteIfThere(ctx context.Context, st LiveStore, bucket, key string) error {
	if _, err := st.Head(ctx, bucket, key); errors.Is(err, objstore.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	return st.Delete(ctx, bucket, key)
}
