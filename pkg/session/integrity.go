package session

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// Names of the files of a session folder that hold mutable state and are therefore outside the
// hashes in Manifest.Files.
const (
	// SignatureName is the detached ed25519 signature of manifest.json's exact bytes.
	SignatureName = ManifestName + ".sig"
	// HoldName is the moderation hold (Hold, Release): present while the session must be kept.
	HoldName = "hold.json"
	// ControlName is the file in which a running recorder writes the path of its control socket.
	ControlName = "control"
)

// Unhashed reports whether the file at the slash path rel (relative to the session folder) is left
// out of Manifest.Files: the manifest, its signature, the hold, the recorder's control pointer,
// and the temporary files of an atomic write (".NAME.tmp…", see WriteFileAtomic).
func Unhashed(rel string) bool {
	switch rel {
	case ManifestName, SignatureName, HoldName, ControlName:
		return true
	}
	return isTempName(path.Base(rel))
}

func isTempName(base string) bool {
	return strings.HasPrefix(base, ".") && strings.Contains(base, ".tmp")
}

// HashFiles returns the SHA-256 digest of every hashed file below dir, sorted by slash path. A
// file that is not a regular file or a folder (a symlink, a socket) is an error: a session holds
// only plain files, and a link would let a digest vouch for something outside the folder.
func HashFiles(dir string) ([]FileHash, error) {
	src := Dir(dir)
	var out []FileHash
	err := walkFiles(src, func(fi FileInfo) error {
		if !fi.Type.IsRegular() {
			return fmt.Errorf("session: %s: %w", src.Name(fi.Path), ErrIrregular)
		}
		h, err := hashIn(src, fi.Path)
		if err != nil {
			return err
		}
		h.Path = fi.Path
		out = append(out, h)
		return nil
	})
	return out, err
}

// walkFiles calls fn for every entry of src but folders that is hashed, in slash-path order.
func walkFiles(src Files, fn func(fi FileInfo) error) error {
	files, err := src.List()
	if err != nil {
		return fmt.Errorf("session: %w", err)
	}
	for _, fi := range files {
		if fi.Type.IsDir() || Unhashed(fi.Path) {
			continue
		}
		if err := fn(fi); err != nil {
			return err
		}
	}
	return nil
}

// Seal hashes every file of the finalized session in dir into Manifest.Files and rewrites the
// manifest atomically. With a key it then writes manifest.json.sig, a detached ed25519 signature
// of the manifest's exact bytes; without one it removes a signature left from an earlier seal
// (it would no longer match). The recorder calls it after Close, `spacecast recover` after
// recovering.
//
// Sealing again re-blesses whatever is in the folder now: callers seal a session once, when it is
// finalized, and again only after a change they made themselves (redact, recover), and only after
// CheckSeal found the session still matching its old seal (or never sealed).
//
// A crash between the manifest and the signature leaves a signature that no longer matches;
// Verify reports it as invalid and Seal run again repairs it.
func Seal(dir string, key ed25519.PrivateKey) error {
	if key != nil && len(key) != ed25519.PrivateKeySize {
		return fmt.Errorf("session: seal %s: %w", dir, ErrBadKey)
	}
	s, err := Open(dir)
	if err != nil {
		return err
	}
	if !s.Manifest.Finalized {
		return fmt.Errorf("session: seal %s: %w", dir, ErrNotFinalized)
	}
	files, err := HashFiles(dir)
	if err != nil {
		return err
	}
	s.Manifest.Files = files
	if err := s.Manifest.Validate(); err != nil {
		return fmt.Errorf("session: %w", err)
	}
	b, err := s.Manifest.Marshal()
	if err != nil {
		return err
	}
	if err := WriteFileAtomic(filepath.Join(dir, ManifestName), b, 0o644); err != nil {
		return err
	}
	sigPath := filepath.Join(dir, SignatureName)
	if key == nil {
		if err := os.Remove(sigPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("session: remove stale signature: %w", err)
		}
		return nil
	}
	sig, err := MarshalSignature(Sign(key, b))
	if err != nil {
		return err
	}
	return WriteFileAtomic(sigPath, sig, 0o644)
}

// CheckSeal verifies the session in dir before a command changes and seals it again: when the
// session is sealed, every file must still match its digest (none missing, none added), and a
// signature beside the manifest must be valid. Otherwise sealing again would turn whatever changed
// since into a clean seal; CheckSeal returns a *SealMismatchError naming what no longer matches.
// A session never sealed and without a signature passes: there is nothing to keep.
func CheckSeal(dir string) error {
	rep, err := Verify(dir, nil)
	if err != nil {
		return err
	}
	e := &SealMismatchError{Dir: dir, Missing: rep.Missing, Added: rep.Added}
	for _, c := range rep.Changed {
		e.Changed = append(e.Changed, c.Path)
	}
	if rep.Signature == SigInvalid {
		e.Signature = rep.SignatureDetail
	}
	if len(e.Changed)+len(e.Missing)+len(e.Added) > 0 || e.Signature != "" {
		return e
	}
	return nil
}

// CheckPlain reports, as an error wrapping ErrIrregular, the first entry below dir (dir itself
// excluded) that is neither a regular file nor a folder: a symbolic link, a socket, a device. A
// command that rewrites files of a session checks it first, so that it never writes through a
// link to a file outside the session.
func CheckPlain(dir string) error {
	root := dir + string(filepath.Separator) // a session folder given as a link is walked too
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("session: %w", err)
		}
		if p == root || d.IsDir() || d.Type().IsRegular() {
			return nil
		}
		what := "a " + d.Type().String() + " entry"
		if d.Type()&fs.ModeSymlink != 0 {
			what = "a symbolic link"
			if to, err := os.Readlink(p); err == nil {
				what += " to " + to
			}
		}
		return fmt.Errorf("session: %s is %s: %w", p, what, ErrIrregular)
	})
}

// Report is what Verify found. OK is true when nothing is wrong: the session was sealed, every
// file matches, none is missing or added, and the signature is valid (or absent and no key was
// required).
type Report struct {
	Dir string `json:"dir"`
	ID  string `json:"id"`
	// ManifestSHA256 is the digest of manifest.json's exact bytes, for an out-of-band record.
	ManifestSHA256 string `json:"manifest_sha256"`
	// Sealed is false for a session whose manifest lists no files: it was never sealed (or was
	// recorded before sealing existed), so there is nothing to check the files against.
	Sealed bool `json:"sealed"`
	// Files is how many files the manifest lists.
	Files   int           `json:"files"`
	Changed []FileProblem `json:"changed"`
	Missing []string      `json:"missing"`
	Added   []string      `json:"added"`
	// Signature is "valid", "invalid" or "absent"; SignatureDetail says why it is invalid, and
	// SignerKey is the public key in the signature file (base64).
	Signature       string `json:"signature"`
	SignatureDetail string `json:"signature_detail,omitempty"`
	SignerKey       string `json:"signer_key,omitempty"`
	// Held is true when the session is under a moderation hold (not a problem: just state).
	Held bool `json:"held"`
	OK   bool `json:"ok"`
}

// FileProblem is a file whose size or digest differs from the manifest.
type FileProblem struct {
	Path       string `json:"path"`
	WantBytes  int64  `json:"want_bytes"`
	GotBytes   int64  `json:"got_bytes"`
	WantSHA256 string `json:"want_sha256"`
	GotSHA256  string `json:"got_sha256,omitempty"`
	// Detail is set when the file could not be hashed (not a regular file, unreadable).
	Detail string `json:"detail,omitempty"`
}

// Signature states.
const (
	SigValid   = "valid"
	SigInvalid = "invalid"
	SigAbsent  = "absent"
)

// Verify checks the session in dir against the digests in its manifest and its signature. trusted
// is the public key the signature must be made with; nil accepts the key named in the signature
// file (which proves only that the manifest was not changed by someone without that key: compare
// SignerKey with the key you expect). With a trusted key an absent signature is a problem.
//
// An error is returned only when dir is not a readable session; everything found wrong with a
// session is in the Report.
func Verify(dir string, trusted ed25519.PublicKey) (*Report, error) {
	if trusted != nil && len(trusted) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("session: verify %s: %w", dir, ErrBadKey)
	}
	raw, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if noFolder(err) {
		return nil, &NotSessionError{Dir: dir}
	}
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	return verify(Dir(dir), dir, raw, trusted)
}

// VerifyFiles is Verify of the session whose files src holds (see OpenFiles): every file is read
// as a stream and hashed. name is how the report and errors call the session (an s3:// URL).
func VerifyFiles(src Files, name string, trusted ed25519.PublicKey) (*Report, error) {
	if trusted != nil && len(trusted) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("session: verify %s: %w", name, ErrBadKey)
	}
	raw, err := readAll(src, ManifestName, maxManifestProbe)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &NotSessionError{Dir: name}
	}
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	return verify(src, name, raw, trusted)
}

// verify checks the files of src against the manifest raw and its signature.
func verify(src Files, name string, raw []byte, trusted ed25519.PublicKey) (*Report, error) {
	m, err := Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("session: %s: %w", src.Name(ManifestName), err)
	}
	sum := sha256.Sum256(raw)
	rep := &Report{Dir: name, ID: m.ID, ManifestSHA256: hex.EncodeToString(sum[:]), Files: len(m.Files),
		Sealed: len(m.Files) > 0, Changed: []FileProblem{}, Missing: []string{}, Added: []string{}}
	if b, err := readAll(src, HoldName, maxManifestProbe); err == nil {
		if h, err := ParseHold(b); err == nil && h != nil {
			rep.Held = true
		}
	}

	if rep.Sealed {
		want := map[string]FileHash{}
		for _, f := range m.Files {
			if err := checkRelPath(f.Path); err != nil || Unhashed(f.Path) {
				return nil, fmt.Errorf("session: %s: %w: files: %q is not a file a manifest can list", src.Name(ManifestName), ErrInvalid, f.Path)
			}
			want[f.Path] = f
		}
		seen := map[string]bool{}
		err := walkFiles(src, func(fi FileInfo) error {
			rel := fi.Path
			seen[rel] = true
			w, ok := want[rel]
			if !ok {
				rep.Added = append(rep.Added, rel)
				return nil
			}
			p := FileProblem{Path: rel, WantBytes: w.Bytes, WantSHA256: w.SHA256, GotBytes: -1}
			if !fi.Type.IsRegular() {
				p.Detail = "not a regular file (" + fi.Type.String() + ")"
				rep.Changed = append(rep.Changed, p)
				return nil
			}
			got, err := hashIn(src, rel)
			if err != nil {
				p.Detail = err.Error()
				rep.Changed = append(rep.Changed, p)
				return nil
			}
			if got.Bytes != w.Bytes || got.SHA256 != w.SHA256 {
				p.GotBytes, p.GotSHA256 = got.Bytes, got.SHA256
				rep.Changed = append(rep.Changed, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		for _, f := range m.Files {
			if !seen[f.Path] {
				rep.Missing = append(rep.Missing, f.Path)
			}
		}
		slices.Sort(rep.Missing)
	}

	rep.Signature = SigAbsent
	sb, err := readAll(src, SignatureName, maxManifestProbe)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if trusted != nil {
			rep.SignatureDetail = "no " + SignatureName + ", but a key was given: the session must be signed"
		}
	case err != nil:
		rep.Signature, rep.SignatureDetail = SigInvalid, err.Error()
	default:
		rep.Signature, rep.SignatureDetail, rep.SignerKey = checkSignature(sb, raw, trusted)
	}

	rep.OK = rep.Sealed && len(rep.Changed) == 0 && len(rep.Missing) == 0 && len(rep.Added) == 0 &&
		rep.Signature != SigInvalid && !(trusted != nil && rep.Signature != SigValid)
	return rep, nil
}

func checkSignature(sigFile, manifest []byte, trusted ed25519.PublicKey) (state, detail, signer string) {
	sig, err := ParseSignature(sigFile)
	if err != nil {
		return SigInvalid, err.Error(), ""
	}
	signer = encodeKey(sig.PublicKey)
	if trusted != nil && !bytes.Equal(trusted, sig.PublicKey) {
		return SigInvalid, "signed with key " + signer + ", not with the trusted key " + encodeKey(trusted), signer
	}
	if !ed25519.Verify(sig.PublicKey, manifest, sig.Signature) {
		return SigInvalid, "the signature does not match manifest.json (the manifest was changed after signing)", signer
	}
	return SigValid, "", signer
}
