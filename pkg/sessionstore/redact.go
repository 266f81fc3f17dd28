package sessionstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/redact"
	"github.com/spacecast/spacecast/pkg/session"
)

// RedactJournalName is written in a session's folder while a redaction replaces it in the
// bucket: what it adds and what it will delete, so that the next redaction of the session
// completes or undoes one that stopped half-way. A temporary file's name: readers skip it.
const RedactJournalName = ".spacecast-redact.tmp"

// stagedSuffix marks a new object uploaded under a temporary name (skipped by readers) before it
// is copied to its place.
const stagedSuffix = ".tmp-redact"

// RedactReport says what a redaction in a bucket did.
type RedactReport struct {
	*redact.Result
	// Renamed maps each file the redaction changed to its new name: a changed file is stored
	// under a new key, so the old manifest's files stay as they were until the new manifest is up.
	Renamed map[string]string
	// Uploaded and Deleted count objects.
	Uploaded int
	Deleted  int
	// Repaired says what was done to an earlier redaction that had stopped half-way: "completed",
	// "undone", or "".
	Repaired string
}

// MarshalJSON gives the redaction's result (redact.Result's JSON) with the report's fields
// after it: renamed, uploaded, deleted, repaired.
func (r RedactReport) MarshalJSON() ([]byte, error) {
	res, err := json.Marshal(r.Result)
	if err != nil {
		return nil, err
	}
	more, err := json.Marshal(struct {
		Renamed  map[string]string `json:"renamed"`
		Uploaded int               `json:"uploaded"`
		Deleted  int               `json:"deleted"`
		Repaired string            `json:"repaired,omitempty"`
	}{r.Renamed, r.Uploaded, r.Deleted, r.Repaired})
	if err != nil {
		return nil, err
	}
	if len(res) < 2 || res[len(res)-1] != '}' || len(more) <= 2 {
		return nil, fmt.Errorf("sessionstore: redact report: unexpected JSON %s", res)
	}
	return append(append(res[:len(res)-1:len(res)-1], ','), more[1:]...), nil
}

// redactJournal is RedactJournalName's content.
type redactJournal struct {
	ManifestSHA256 string   `json:"manifest_sha256"` // of the new manifest
	Staged         []string `json:"staged"`          // temporary keys of the new objects
	New            []string `json:"new"`             // their keys
	Old            []string `json:"old"`             // keys the new manifest no longer names
	Signature      []byte   `json:"signature,omitempty"`
	OldSignature   []byte   `json:"old_signature,omitempty"`
}

// Redact redacts the finished session stored under u (redact.Redact, with opts). Redaction
// rewrites whole tracks, so the session is pulled (and checked against its seal) into a
// temporary folder in tmpRoot ("" the system's), redacted there, and stored back:
//
//  1. every file the redaction changed gets a new name (tracks/ada-1.opus → tracks/ada-1.r1.opus),
//     so that no object the old manifest names is ever overwritten;
//  2. a journal goes up, then the new objects under temporary names readers skip, then each is
//     copied to its name (the only moment the old session has objects its manifest does not
//     name), then the old signature is removed, the new manifest put, and the new signature;
//  3. the objects the new manifest no longer names are deleted (every version of them in a
//     versioned bucket: the unredacted audio must not stay as an old version), then the
//     journal.
//
// Until the manifest is up the old session stands; after it, the new one. A redaction stopped
// half-way leaves the journal, from which readers learn which objects are not part of the
// standing session (Superseded; Pull leaves them out, so either session pulls and verifies), and
// which the next Redact of the session uses to complete it (the new manifest was up) or undo it
// (it was not) before it does anything else.
//
// A session with any object version under an Object Lock legal hold is refused (ErrLegalHold):
// the store keeps held versions, so the unredacted audio could not be removed. A hold.json alone
// does not stop a redaction, as in a folder.
func Redact(ctx context.Context, st Keeper, u objstore.URL, tmpRoot string, opts redact.Options) (*RedactReport, error) {
	fail := func(err error) (*RedactReport, error) { return nil, &OpError{Op: "redact", URL: u.String(), Err: err} }
	if u.Prefix == "" {
		return fail(ErrNoName)
	}
	rep := &RedactReport{Renamed: map[string]string{}}
	k, err := bucketKind(ctx, st, u.Bucket)
	if err != nil {
		return fail(err)
	}
	if rep.Repaired, err = repairRedact(ctx, st, k, u); err != nil {
		return fail(err)
	}
	if n, err := legalHolds(ctx, st, u, k.lock); err != nil {
		return fail(err)
	} else if n > 0 {
		return fail(fmt.Errorf("%w (%d object versions)", ErrLegalHold, n))
	}
	before := map[string]bool{}
	for o, err := range st.List(ctx, u.Bucket, u.Dir()) {
		if err != nil {
			return fail(err)
		}
		before[strings.TrimPrefix(o.Key, u.Dir())] = true
	}

	tmp, err := os.MkdirTemp(tmpRoot, "spacecast-redact-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "session")
	if _, err := Pull(ctx, st, u, dir, Options{}); err != nil {
		var pe *Error
		if errors.As(err, &pe) {
			err = pe.Err // the temporary folder is no concern of the reader's
		}
		return fail(err)
	}
	oldSig, _ := os.ReadFile(filepath.Join(dir, session.SignatureName))
	res, err := redact.Redact(ctx, dir, opts)
	if err != nil {
		return fail(err)
	}
	res.Session = u.String()
	rep.Result = res
	if err := renameChanged(dir, res, maps.Clone(before), opts, rep.Renamed); err != nil {
		return fail(err)
	}

	files, err := listFiles(dir)
	if err != nil {
		return fail(err)
	}
	names := map[string]bool{}
	j := redactJournal{OldSignature: oldSig}
	for _, f := range files {
		names[f.rel] = true
		switch {
		case f.rel == session.ManifestName:
			b, err := os.ReadFile(filepath.Join(dir, session.ManifestName))
			if err != nil {
				return fail(err)
			}
			sum := sha256.Sum256(b)
			j.ManifestSHA256 = hex.EncodeToString(sum[:])
		case f.rel == session.SignatureName:
			if j.Signature, err = os.ReadFile(filepath.Join(dir, session.SignatureName)); err != nil {
				return fail(err)
			}
		case !before[f.rel]:
			j.New = append(j.New, u.Key(f.rel))
			j.Staged = append(j.Staged, staged(u.Key(f.rel)))
		}
	}
	for rel := range before {
		if !names[rel] && !session.Unhashed(rel) {
			j.Old = append(j.Old, u.Key(rel))
		}
	}
	slices.Sort(j.Old)
	b, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return fail(err)
	}
	if _, err := st.Put(ctx, u.Bucket, u.Key(RedactJournalName), bytes.NewReader(b), objstore.PutOptions{ContentType: "application/json"}); err != nil {
		return fail(err)
	}
	for i, k := range j.New {
		rel := strings.TrimPrefix(k, u.Dir())
		if _, err := putFile(ctx, st, filepath.Join(dir, filepath.FromSlash(rel)), u.Bucket, j.Staged[i]); err != nil {
			return fail(err)
		}
		rep.Uploaded++
	}
	for i, k := range j.New {
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		if err := st.Copy(ctx, u.Bucket, j.Staged[i], k); err != nil {
			return fail(err)
		}
	}
	if len(oldSig) > 0 {
		if err := st.Delete(ctx, u.Bucket, u.Key(session.SignatureName)); err != nil {
			return fail(err)
		}
	}
	if _, err := putFile(ctx, st, filepath.Join(dir, session.ManifestName), u.Bucket, u.Key(session.ManifestName)); err != nil {
		return fail(err)
	}
	// From here on the new session stands: what follows completes it, even after an
	// interruption (context.WithoutCancel), and the next Redact would too.
	done, err := commitRedact(context.WithoutCancel(ctx), st, k, u, j)
	rep.Deleted = done
	if err != nil {
		return fail(err)
	}
	return rep, nil
}

func staged(key string) string {
	d, b := path.Split(key)
	return d + "." + b + stagedSuffix
}

// renameChanged gives every file the redaction changed a new name in dir and the manifest, and
// seals the session again if the redaction did.
func renameChanged(dir string, res *redact.Result, taken map[string]bool, opts redact.Options, renamed map[string]string) error {
	var changed []string
	for _, t := range res.Tracks {
		if t.Action == "silenced" && t.Packets > 0 {
			changed = append(changed, t.File)
		}
	}
	if res.Mix == "rebuilt" {
		changed = append(changed, res.MixFile)
	}
	if len(changed) == 0 {
		return nil
	}
	s, err := session.Open(dir)
	if err != nil {
		return err
	}
	for _, rel := range changed {
		n := nextName(rel, taken)
		taken[n] = true
		renamed[rel] = n
		if err := os.Rename(filepath.Join(dir, filepath.FromSlash(rel)), filepath.Join(dir, filepath.FromSlash(n))); err != nil {
			return err
		}
	}
	for i, t := range s.Manifest.Tracks {
		if n, ok := renamed[t.File]; ok {
			s.Manifest.Tracks[i].File = n
		}
	}
	if m := s.Manifest.Mix; m != nil {
		if n, ok := renamed[m.File]; ok {
			m.File = n
		}
	}
	s.Manifest.Files = nil
	if err := s.Save(); err != nil {
		return err
	}
	if res.Sealed && opts.Seal != nil {
		return opts.Seal(dir)
	}
	return nil
}

// nextName is rel with its revision raised: tracks/a-1.opus → tracks/a-1.r1.opus → …r2.opus,
// the first not taken.
func nextName(rel string, taken map[string]bool) string {
	ext := path.Ext(rel)
	stem := strings.TrimSuffix(rel, ext)
	n := 1
	if i := strings.LastIndex(stem, ".r"); i >= 0 {
		if v, err := strconv.Atoi(stem[i+2:]); err == nil && v > 0 && !strings.Contains(stem[i:], "/") {
			stem, n = stem[:i], v+1
		}
	}
	for {
		c := fmt.Sprintf("%s.r%d%s", stem, n, ext)
		if !taken[c] {
			return c
		}
		n++
	}
}

// commitRedact completes a redaction whose new manifest is up: the new signature, then the
// objects no longer named (every version of them), the staged copies, and the journal. It
// returns how many objects it deleted.
func commitRedact(ctx context.Context, st Keeper, k kind, u objstore.URL, j redactJournal) (int, error) {
	if len(j.Signature) > 0 {
		if _, err := st.Put(ctx, u.Bucket, u.Key(session.SignatureName), bytes.NewReader(j.Signature), objstore.PutOptions{ContentType: "application/json"}); err != nil {
			return 0, err
		}
	}
	n := 0
	for _, key := range append(slices.Clone(j.Old), j.Staged...) {
		if err := purge(ctx, st, k, u.Bucket, key); err != nil {
			return n, err
		}
		n++
	}
	return n, purge(ctx, st, k, u.Bucket, u.Key(RedactJournalName))
}

// repairRedact finds the journal of a redaction of u that stopped half-way and completes it (its
// new manifest is up) or undoes it (it is not: the new objects go, the old signature comes back).
func repairRedact(ctx context.Context, st Keeper, k kind, u objstore.URL) (string, error) {
	b, err := getSmall(ctx, st, u.Bucket, u.Key(RedactJournalName))
	if errors.Is(err, objstore.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	j, err := parseRedactJournal(b, u)
	if err != nil {
		return "", err
	}
	m, err := getSmall(ctx, st, u.Bucket, u.Key(session.ManifestName))
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(m)
	if hex.EncodeToString(sum[:]) == j.ManifestSHA256 {
		_, err := commitRedact(ctx, st, k, u, j)
		return "completed", err
	}
	// Undone: the new objects go, but never one the standing manifest names (a journal is
	// outside input).
	keep := map[string]bool{}
	if old, err := session.ParseLoose(m); err == nil {
		for _, t := range old.Tracks {
			keep[u.Key(t.File)] = true
		}
		if old.Mix != nil {
			keep[u.Key(old.Mix.File)] = true
		}
		for _, f := range old.Files {
			keep[u.Key(f.Path)] = true
		}
	}
	for _, key := range slices.Concat(j.Staged, j.New) {
		if keep[key] {
			continue
		}
		if err := purge(ctx, st, k, u.Bucket, key); err != nil {
			return "", err
		}
	}
	if len(j.OldSignature) > 0 {
		if _, err := st.Head(ctx, u.Bucket, u.Key(session.SignatureName)); errors.Is(err, objstore.ErrNotFound) {
			if _, err := st.Put(ctx, u.Bucket, u.Key(session.SignatureName), bytes.NewReader(j.OldSignature), objstore.PutOptions{ContentType: "application/json"}); err != nil {
				return "", err
			}
		} else if err != nil {
			return "", err
		}
	}
	return "undone", purge(ctx, st, k, u.Bucket, u.Key(RedactJournalName))
}

// Superseded returns the keys under u that are not part of the session stored there because a
// redaction of it stopped half-way (RedactJournalName): its new objects while the old manifest
// stands, the objects it replaced once the new one does. A reader of a session in a bucket that
// lists its objects (Pull; verify) leaves them out; nil when no redaction is pending. The journal
// is outside input: only keys under u are returned.
func Superseded(ctx context.Context, st Reader, u objstore.URL) (map[string]bool, error) {
	b, err := getSmall(ctx, st, u.Bucket, u.Key(RedactJournalName))
	if errors.Is(err, objstore.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	j, err := parseRedactJournal(b, u)
	if err != nil {
		return nil, err
	}
	m, err := getSmall(ctx, st, u.Bucket, u.Key(session.ManifestName))
	if err != nil && !errors.Is(err, objstore.ErrNotFound) {
		return nil, err
	}
	sum := sha256.Sum256(m)
	keys := j.New
	if hex.EncodeToString(sum[:]) == j.ManifestSHA256 {
		keys = j.Old
	}
	out := map[string]bool{}
	for _, k := range keys {
		out[k] = true
	}
	return out, nil
}

// parseRedactJournal decodes the redaction journal of the session under u. It is outside input
// (any writer to the bucket): a journal naming a key outside the session, or without a manifest
// digest, is refused (ErrBadJournal).
func parseRedactJournal(b []byte, u objstore.URL) (redactJournal, error) {
	var j redactJournal
	if err := json.Unmarshal(b, &j); err != nil {
		return j, fmt.Errorf("%s: %w: %w", u.Key(RedactJournalName), ErrBadJournal, err)
	}
	if len(j.ManifestSHA256) != 2*sha256.Size {
		return j, fmt.Errorf("%s: %w: no manifest digest", u.Key(RedactJournalName), ErrBadJournal)
	}
	if len(j.Staged) != len(j.New) {
		return j, fmt.Errorf("%s: %w: %d staged objects for %d new", u.Key(RedactJournalName), ErrBadJournal, len(j.Staged), len(j.New))
	}
	for _, k := range slices.Concat(j.New, j.Old, j.Staged) {
		if !inside(k, u) {
			return j, fmt.Errorf("%s: %w: %q is not in the session", u.Key(RedactJournalName), ErrBadJournal, k)
		}
	}
	return j, nil
}

// inside reports whether key is an object below the session u (not u's own key, nor a key that
// merely shares its prefix).
func inside(key string, u objstore.URL) bool {
	rel, ok := strings.CutPrefix(key, u.Dir())
	return ok && u.Prefix != "" && checkRel(rel) == nil
}
