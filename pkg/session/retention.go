package session

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/spacecast/spacecast/internal/fsutil"
)

// Expired reports whether the session may be deleted at now: it has a delete-after date and now
// is past it. A hold (hold.json) overrides it; Prune checks both.
func (m *Manifest) Expired(now time.Time) bool {
	return !m.DeleteAfter.IsZero() && now.After(m.DeleteAfter)
}

// ParseAge reads a retention period: a whole number of days ("30d") or weeks ("2w"), or a Go
// duration ("720h", "90m", "1h30m"). It must be positive.
func ParseAge(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	var d time.Duration
	if n, unit := strings.TrimRight(t, "dw"), strings.TrimLeft(t, "0123456789"); len(t) > 1 && (unit == "d" || unit == "w") {
		v, err := strconv.ParseInt(n, 10, 64)
		if err != nil || v > 100*365 {
			return 0, fmt.Errorf("%w: %q", ErrBadAge, s)
		}
		d = time.Duration(v) * 24 * time.Hour
		if unit == "w" {
			d *= 7
		}
	} else {
		var err error
		if d, err = time.ParseDuration(t); err != nil {
			return 0, fmt.Errorf("%w: %q", ErrBadAge, s)
		}
	}
	if d <= 0 {
		return 0, fmt.Errorf("%w: %q is not positive", ErrBadAge, s)
	}
	return d, nil
}

// HoldInfo is hold.json: a moderation hold that keeps a session from being pruned. It lives
// outside the hashes, so placing and releasing a hold does not disturb Verify.
type HoldInfo struct {
	Reason string    `json:"reason"`
	By     string    `json:"by,omitempty"`
	Since  time.Time `json:"since"`
}

// ParseHold decodes hold.json. A reason is required.
func ParseHold(b []byte) (*HoldInfo, error) {
	var h HoldInfo
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&h); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadHold, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrBadHold)
	}
	if strings.TrimSpace(h.Reason) == "" {
		return nil, fmt.Errorf("%w: no reason", ErrBadHold)
	}
	return &h, nil
}

// ReadHold returns the session's hold, or nil when it has none. A hold.json that does not parse is
// returned as an error: callers that delete must treat it as a hold.
func ReadHold(dir string) (*HoldInfo, error) {
	b, err := os.ReadFile(filepath.Join(dir, HoldName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	h, err := ParseHold(b)
	if err != nil {
		return nil, fmt.Errorf("session: %s: %w", filepath.Join(dir, HoldName), err)
	}
	return h, nil
}

// Hold places a moderation hold on the session in dir (replacing an earlier one) and returns it.
// By is the user running it.
func Hold(dir, reason string) (*HoldInfo, error) {
	h, err := NewHold(reason, time.Now())
	if err != nil {
		return nil, fmt.Errorf("session: hold %s: %w", dir, err)
	}
	if _, err := Open(dir); err != nil {
		return nil, err
	}
	if err := WriteFileAtomic(filepath.Join(dir, HoldName), h.Marshal(), 0o644); err != nil {
		return nil, err
	}
	return h, nil
}

// NewHold is the hold placed at now, for reason, by the user running it (when the system names
// one). A blank reason is ErrBadHold.
func NewHold(reason string, now time.Time) (*HoldInfo, error) {
	if strings.TrimSpace(reason) == "" {
		return nil, fmt.Errorf("%w: no reason", ErrBadHold)
	}
	h := &HoldInfo{Reason: reason, Since: now.UTC().Truncate(time.Second)}
	if u, err := user.Current(); err == nil {
		h.By = u.Username
	}
	return h, nil
}

// String says who placed the hold, when and why.
func (h *HoldInfo) String() string {
	return fmt.Sprintf("held since %s by %s: %s", h.Since.Format(time.RFC3339), h.By, h.Reason)
}

// Marshal is hold.json's content.
func (h *HoldInfo) Marshal() []byte {
	b, _ := json.MarshalIndent(h, "", "  ") // strings and a time always marshal
	return append(b, '\n')
}

// Release removes the session's hold and returns the hold it removed (nil: it had none).
func Release(dir string) (*HoldInfo, error) {
	if _, err := Open(dir); err != nil {
		return nil, err
	}
	h, err := ReadHold(dir)
	if err != nil && !errors.Is(err, ErrBadHold) {
		return nil, err
	}
	if h == nil && err == nil {
		return nil, nil
	}
	if h == nil {
		h = &HoldInfo{Reason: "(unreadable hold.json)"}
	}
	if err := os.Remove(filepath.Join(dir, HoldName)); err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	if err := fsutil.SyncDir(dir); err != nil {
		return h, fmt.Errorf("session: %w", err)
	}
	return h, nil
}

// Names Prune uses inside ROOT.
const (
	PruneLockName = ".spacecast-prune.lock"
	trashPrefix   = ".spacecast-trash-"
)

// LiveWindow is how recently an unfinalized session's files must have changed for Prune to take
// its recorder for running. The recorder syncs every second.
const LiveWindow = time.Minute

// PruneOptions say what Prune deletes.
type PruneOptions struct {
	// OlderThan, when set, deletes sessions whose recording started more than this long ago,
	// instead of those past their delete-after date.
	OlderThan time.Duration
	// DryRun lists what would be deleted and deletes nothing.
	DryRun bool
	// Now is the time to judge dates by; zero means time.Now().
	Now time.Time
	// LockWait is how long to wait for another prune of the same ROOT; zero means one minute.
	LockWait time.Duration
}

// PruneReport says what Prune did. Paths are relative to ROOT, slash-separated ("." is ROOT).
type PruneReport struct {
	Root    string       `json:"root"`
	DryRun  bool         `json:"dry_run"`
	Deleted []PruneEntry `json:"deleted"`
	Kept    []PruneEntry `json:"kept"`
	// Finished lists trash folders of an earlier interrupted prune that this run removed.
	Finished []string `json:"finished,omitempty"`
}

// PruneEntry is one session Prune looked at, and why it was deleted or kept.
type PruneEntry struct {
	Path        string    `json:"path"`
	ID          string    `json:"id"`
	StartedAt   time.Time `json:"started_at"`
	DeleteAfter time.Time `json:"delete_after,omitzero"`
	Bytes       int64     `json:"bytes"`
	Reason      string    `json:"reason"`
	// Undated is set for a session kept because it has no delete-after date: only an age
	// (PruneOptions.OlderThan) can make it due.
	Undated bool `json:"-"`
}

// Prune deletes the sessions below root that are past their delete-after date (or, with
// OlderThan, that started longer ago), never one that is
//
//   - held (hold.json present, or unreadable),
//   - unfinalized and possibly still recording: its control socket answers, or a file in it
//     changed within LiveWindow (an unfinalized session whose recorder is gone is judged by its
//     dates like any other),
//   - dated in a way that does not make it due (no delete-after date, no start time).
//
// A session folder is one whose manifest.json says format spacecast-session; Prune never
// descends into one, never enters hidden folders or a podcast site (podcast.yaml, episodes.json
// or .spacecast.lock), follows no symlinks, and touches nothing that is not a session folder.
// A root that neither is nor holds a session is ErrNoSessions. A root that is itself a session is
// judged alone; its parent then holds the lock and the trash.
//
// Two prunes of one root take turns on an flock of ROOT/.spacecast-prune.lock. Each deletion is a
// rename of the session to a hidden trash folder in ROOT, then a removal: a crash leaves a trash
// folder, which the next run removes (Finished).
func Prune(root string, opts PruneOptions) (*PruneReport, error) {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	shown := root
	if r, err := filepath.EvalSymlinks(root); err == nil { // ROOT may be a link; nothing below it is followed
		root = r
	}
	st, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("session: prune: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("session: prune %s: %w (it is a file)", root, ErrNoSessions)
	}
	base, single := root, isSessionDir(root)
	if single {
		base = filepath.Dir(filepath.Clean(root))
	} else if isSiteDir(root) {
		return nil, fmt.Errorf("session: prune %s: %w (it is a podcast site, which prune never touches)", root, ErrNoSessions)
	}
	rep := &PruneReport{Root: shown, DryRun: opts.DryRun, Deleted: []PruneEntry{}, Kept: []PruneEntry{}}

	var unlock func()
	if !opts.DryRun {
		if unlock, err = lockPrune(base, opts.LockWait); err != nil {
			return nil, err
		}
		defer unlock()
		if rep.Finished, err = finishTrash(base); err != nil {
			return rep, err
		}
	}

	var dirs []string
	if single {
		dirs = []string{root}
	} else if dirs, err = findSessions(root); err != nil {
		return rep, err
	}
	if len(dirs) == 0 {
		return nil, fmt.Errorf("session: prune %s: %w", root, ErrNoSessions)
	}
	for _, dir := range dirs {
		e, due, err := judge(dir, now, opts)
		rel, _ := filepath.Rel(root, dir)
		e.Path = filepath.ToSlash(rel)
		if err != nil {
			e.Reason = "kept: " + err.Error()
			rep.Kept = append(rep.Kept, e)
			continue
		}
		if !due {
			rep.Kept = append(rep.Kept, e)
			continue
		}
		if !opts.DryRun {
			if err := trash(base, dir); err != nil {
				e.Reason = "kept: " + err.Error()
				rep.Kept = append(rep.Kept, e)
				continue
			}
		}
		rep.Deleted = append(rep.Deleted, e)
	}
	return rep, nil
}

// isSessionDir reports whether dir holds a manifest.json of format spacecast-session. The rest of
// the manifest need not validate: a session too broken to open is still a session to judge.
func isSessionDir(dir string) bool {
	m, err := readManifestLoose(dir)
	return err == nil && m.Format == FormatName
}

func readManifestLoose(dir string) (*Manifest, error) {
	p := filepath.Join(dir, ManifestName)
	st, err := os.Lstat(p)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, ErrIrregular
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	return ParseLoose(b)
}

// ParseLoose decodes a manifest without validating it: enough to judge a session too broken to
// open (its format, dates, finalized flag) by.
func ParseLoose(b []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return &m, nil
}

func isSiteDir(dir string) bool {
	for _, n := range []string{"podcast.yaml", "episodes.json", ".spacecast.lock"} {
		if _, err := os.Lstat(filepath.Join(dir, n)); err == nil {
			return true
		}
	}
	return false
}

func findSessions(root string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("session: prune: %w", err)
		}
		if !d.IsDir() {
			return nil
		}
		if p != root && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if isSiteDir(p) {
			return filepath.SkipDir
		}
		if isSessionDir(p) {
			out = append(out, p)
			return filepath.SkipDir
		}
		return nil
	})
	slices.Sort(out)
	return out, err
}

// judge decides whether the session in dir is due. An error means it is kept for that reason.
func judge(dir string, now time.Time, opts PruneOptions) (e PruneEntry, due bool, err error) {
	m, err := readManifestLoose(dir)
	if err != nil {
		return e, false, fmt.Errorf("unreadable manifest: %w", err)
	}
	e.ID, e.StartedAt, e.DeleteAfter = m.ID, m.StartedAt, m.DeleteAfter
	e.Bytes = folderBytes(dir)
	if h, err := ReadHold(dir); err != nil {
		return e, false, fmt.Errorf("held (hold.json unreadable: %w)", err)
	} else if h != nil {
		e.Reason = "kept: " + h.String()
		return e, false, nil
	}
	if !m.Finalized {
		if why := liveRecorder(dir, now); why != "" {
			e.Reason = "kept: not finalized and possibly still recording (" + why + ")"
			return e, false, nil
		}
	}
	e.Reason, due, e.Undated = Due(m, now, opts)
	return e, due, nil
}

// Due judges a session by its dates alone (not its hold or its recorder): whether it is due for
// deletion at now under opts, why (a reason starting "kept: " when it is not), and whether it is
// kept only for having no delete-after date (so that only PruneOptions.OlderThan can make it
// due).
func Due(m *Manifest, now time.Time, opts PruneOptions) (reason string, due, undated bool) {
	switch {
	case opts.OlderThan > 0 && m.StartedAt.IsZero():
		return "kept: no started_at", false, false
	case opts.OlderThan > 0 && now.Sub(m.StartedAt) > opts.OlderThan:
		return fmt.Sprintf("started %s, more than %s ago", m.StartedAt.Format(time.RFC3339), opts.OlderThan), true, false
	case opts.OlderThan > 0:
		return fmt.Sprintf("kept: started %s, less than %s ago", m.StartedAt.Format(time.RFC3339), opts.OlderThan), false, false
	case m.DeleteAfter.IsZero():
		return "kept: no delete_after date", false, true
	case m.Expired(now):
		return "past its delete_after date " + m.DeleteAfter.Format(time.RFC3339), true, false
	}
	return "kept: delete_after is " + m.DeleteAfter.Format(time.RFC3339), false, false
}

// liveRecorder says why the recorder of an unfinalized session may still be running, or "".
func liveRecorder(dir string, now time.Time) string {
	if b, err := os.ReadFile(filepath.Join(dir, ControlName)); err == nil {
		sock := strings.TrimSpace(string(b))
		if sock != "" {
			if c, err := net.DialTimeout("unix", sock, time.Second); err == nil {
				c.Close()
				return "its control socket " + sock + " answers"
			}
		}
	}
	var newest time.Time
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil {
			if fi, err := d.Info(); err == nil && fi.ModTime().After(newest) {
				newest = fi.ModTime()
			}
		}
		return nil
	})
	if now.Sub(newest) < LiveWindow {
		return "a file changed " + now.Sub(newest).Round(time.Second).String() + " ago"
	}
	return ""
}

func folderBytes(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// trash deletes dir: rename into a hidden trash folder in base, then remove. A hold placed between
// the judgement and the rename is honoured by renaming the session back.
func trash(base, dir string) error {
	var rnd [8]byte
	rand.Read(rnd[:])
	t := filepath.Join(base, trashPrefix+hex.EncodeToString(rnd[:]))
	if err := os.Rename(dir, t); err != nil {
		return fmt.Errorf("move to trash: %w", err)
	}
	if _, err := os.Lstat(filepath.Join(t, HoldName)); err == nil {
		if err := os.Rename(t, dir); err != nil {
			return fmt.Errorf("held while being deleted, and could not be put back from %s: %w", t, err)
		}
		return fmt.Errorf("held while being deleted")
	}
	if err := fsutil.SyncDir(base); err != nil {
		return fmt.Errorf("session: %w", err)
	}
	if err := os.RemoveAll(t); err != nil {
		return fmt.Errorf("remove %s: %w", t, err)
	}
	return nil
}

func finishTrash(base string) ([]string, error) {
	ents, err := os.ReadDir(base)
	if err != nil {
		return nil, fmt.Errorf("session: prune: %w", err)
	}
	var done []string
	for _, e := range ents {
		if e.IsDir() && strings.HasPrefix(e.Name(), trashPrefix) {
			if err := os.RemoveAll(filepath.Join(base, e.Name())); err != nil {
				return done, fmt.Errorf("session: prune: finish %s: %w", e.Name(), err)
			}
			done = append(done, e.Name())
		}
	}
	return done, nil
}

func lockPrune(base string, wait time.Duration) (func(), error) {
	if wait <= 0 {
		wait = time.Minute
	}
	p := filepath.Join(base, PruneLockName)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("session: prune: lock: %w", err)
	}
	deadline := time.Now().Add(wait)
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { unix.Flock(int(f.Fd()), unix.LOCK_UN); f.Close() }, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("session: prune: lock %s: %w", p, err)
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("session: prune: %s: %w (waited %s)", p, ErrLocked, wait)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
