package sessionstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/session"
)

// memStore is a bucket in memory that logs the keys put, in order, and fails every request while
// down is set, as a store that does not answer.
type memStore struct {
	mu   sync.Mutex
	objs map[string][]byte
	puts []string
	down bool
}

func newMemStore() *memStore { return &memStore{objs: map[string][]byte{}} }

var errDown = &objstore.Error{Op: "put", Kind: objstore.ErrUnreachable, Detail: "connection refused"}

func (s *memStore) setDown(d bool) { s.mu.Lock(); s.down = d; s.mu.Unlock() }

func (s *memStore) Put(_ context.Context, _, key string, body io.ReadSeeker, _ objstore.PutOptions) (objstore.Object, error) {
	b, err := io.ReadAll(body)
	if err != nil {
		return objstore.Object{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return objstore.Object{}, errDown
	}
	s.objs[key] = b
	s.puts = append(s.puts, key)
	return objstore.Object{Key: key, Size: int64(len(b))}, nil
}

func (s *memStore) Get(_ context.Context, _, key string, r *objstore.Range) (io.ReadCloser, objstore.Object, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return nil, objstore.Object{}, errDown
	}
	b, ok := s.objs[key]
	if !ok {
		return nil, objstore.Object{}, &objstore.Error{Op: "get", Key: key, Kind: objstore.ErrNotFound}
	}
	size := int64(len(b))
	if r != nil {
		end := size
		if r.Length > 0 {
			end = min(size, r.Offset+r.Length)
		}
		b = b[r.Offset:end]
	}
	return io.NopCloser(bytes.NewReader(b)), objstore.Object{Key: key, Size: size}, nil
}

func (s *memStore) Head(_ context.Context, _, key string) (objstore.Object, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return objstore.Object{}, errDown
	}
	b, ok := s.objs[key]
	if !ok {
		return objstore.Object{}, &objstore.Error{Op: "head", Key: key, Kind: objstore.ErrNotFound}
	}
	return objstore.Object{Key: key, Size: int64(len(b))}, nil
}

func (s *memStore) List(_ context.Context, _, prefix string) iter.Seq2[objstore.Object, error] {
	return func(yield func(objstore.Object, error) bool) {
		s.mu.Lock()
		if s.down {
			s.mu.Unlock()
			yield(objstore.Object{}, errDown)
			return
		}
		var keys []string
		for k := range s.objs {
			if strings.HasPrefix(k, prefix) {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		objs := make([]objstore.Object, len(keys))
		for i, k := range keys {
			objs[i] = objstore.Object{Key: k, Size: int64(len(s.objs[k]))}
		}
		s.mu.Unlock()
		for _, o := range objs {
			if !yield(o, nil) {
				return
			}
		}
	}
}

func (s *memStore) Delete(_ context.Context, _, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return errDown
	}
	delete(s.objs, key)
	return nil
}

func (s *memStore) putLog() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.puts)
}

// spool is a folder a fake recorder appends to.
type spool struct {
	t   *testing.T
	dir string
	all map[string][]byte // what each file holds
}

func newSpool(t *testing.T) *spool {
	dir := filepath.Join(t.TempDir(), "spool")
	if err := os.MkdirAll(filepath.Join(dir, "tracks"), 0o755); err != nil {
		t.Fatal(err)
	}
	return &spool{t: t, dir: dir, all: map[string][]byte{}}
}

func (s *spool) appendTo(rel string, b []byte) {
	f, err := os.OpenFile(filepath.Join(s.dir, rel), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	if _, err := f.Write(b); err != nil {
		s.t.Fatal(err)
	}
	f.Close()
	s.all[rel] = append(s.all[rel], b...)
}

func (s *spool) manifest(text string) {
	if err := os.WriteFile(filepath.Join(s.dir, session.ManifestName), []byte(text), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

// joined joins the pieces of rel in st as a reader of the bucket would.
func joined(t *testing.T, st *memStore, dst objstore.URL, rel string) []byte {
	t.Helper()
	var ps []Piece
	for o, err := range st.List(context.Background(), dst.Bucket, dst.Key(LiveDir)+"/"+rel+"/") {
		if err != nil {
			t.Fatal(err)
		}
		p, err := ParsePiece(strings.TrimPrefix(o.Key, dst.Key(LiveDir)+"/"))
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	spans, _, err := JoinPlan(ps)
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	var out []byte
	for _, sp := range spans {
		b := st.objs[dst.Key(LiveDir+"/"+sp.Piece.Name())]
		out = append(out, b[sp.Skip:sp.Skip+sp.Bytes]...)
	}
	return out
}

var dst = objstore.URL{Bucket: "b", Prefix: "shows/ep1"}

// TestMirrorRounds: each round sends every file's new bytes as pieces (in file order, each
// piece at most MaxPiece), then the manifest, and only when it changed; the pieces join into
// each file byte for byte.
func TestMirrorRounds(t *testing.T) {
	st, sp := newMemStore(), newSpool(t)
	m := StartMirror(st, sp.dir, dst, MirrorOptions{Interval: time.Hour, MaxPiece: 100})
	defer m.Stop()
	ctx := context.Background()
	sp.appendTo("tracks/t1-ada.opus", bytes.Repeat([]byte("a"), 250))
	sp.appendTo("mix.opus", []byte("mix-1"))
	sp.manifest(`{"v":1}`)
	if err := m.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"shows/ep1/.live/mix.opus/000000000000-000000000005",
		"shows/ep1/.live/tracks/t1-ada.opus/000000000000-000000000100",
		"shows/ep1/.live/tracks/t1-ada.opus/000000000100-000000000200",
		"shows/ep1/.live/tracks/t1-ada.opus/000000000200-000000000250",
		"shows/ep1/.live/manifest.json",
	}
	if got := st.putLog(); !slices.Equal(got, want) {
		t.Fatalf("first round put\n%q\nwant\n%q", got, want)
	}
	sp.appendTo("tracks/t1-ada.opus", []byte("more"))
	if err := m.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got := st.putLog()[len(want):]
	if !slices.Equal(got, []string{"shows/ep1/.live/tracks/t1-ada.opus/000000000250-000000000254"}) {
		t.Errorf("second round (one file grew, manifest unchanged) put %q", got)
	}
	for rel, b := range sp.all {
		if j := joined(t, st, dst, rel); !bytes.Equal(j, b) {
			t.Errorf("%s joined from its pieces: %d bytes, want the file's %d", rel, len(j), len(b))
		}
	}
	if s := m.Status(); s.Behind || s.Pending != 0 || s.Sent != 259 || s.Pieces != 5 {
		t.Errorf("status %+v", s)
	}
}

// TestMirrorManifestAfterPieces: the manifest a round sends is the one read before its pieces,
// and every file it names has its bytes in the bucket before it: a file the recorder adds to
// the manifest while the round runs waits for the next round's manifest.
func TestMirrorManifestAfterPieces(t *testing.T) {
	st2, sp2 := &orderStore{memStore: newMemStore()}, newSpool(t)
	m2 := StartMirror(st2, sp2.dir, dst, MirrorOptions{Interval: 15 * time.Millisecond})
	for i := range 30 {
		rel := fmt.Sprintf("tracks/t%d-x.opus", i)
		sp2.appendTo(rel, []byte(rel))
		sp2.manifest(fmt.Sprintf(`{"tracks":%d}`, i+1))
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(80 * time.Millisecond)
	m2.Stop()
	if st2.manifests == 0 {
		t.Fatal("no manifest was sent")
	}
	if st2.bad != "" {
		t.Error(st2.bad)
	}
}

// orderStore checks, at each live manifest put, that every track it counts is in the bucket.
type orderStore struct {
	*memStore
	manifests int
	bad       string
}

func (s *orderStore) Put(ctx context.Context, b, key string, body io.ReadSeeker, o objstore.PutOptions) (objstore.Object, error) {
	if strings.HasSuffix(key, "/.live/manifest.json") {
		raw, _ := io.ReadAll(body)
		body.Seek(0, io.SeekStart)
		var n int
		fmt.Sscanf(string(raw), `{"tracks":%d}`, &n)
		s.manifests++
		for i := range n {
			if _, err := s.Head(ctx, b, fmt.Sprintf("shows/ep1/.live/tracks/t%d-x.opus/%012d-%012d", i, 0, len(fmt.Sprintf("tracks/t%d-x.opus", i)))); err != nil {
				s.bad = fmt.Sprintf("the manifest naming %d tracks was put before track t%d's piece", n, i)
			}
		}
	}
	return s.memStore.Put(ctx, b, key, body, o)
}

// TestMirrorOutage: while the store is down the recording goes on into the spool; the mirror
// says once that it is behind, retries with backoff, and when the store is back it catches up
// (says so once) and the pieces join into the files without a hole.
func TestMirrorOutage(t *testing.T) {
	st, sp := newMemStore(), newSpool(t)
	var mu sync.Mutex
	var statuses []MirrorStatus
	m := StartMirror(st, sp.dir, dst, MirrorOptions{Interval: 50 * time.Millisecond, OnStatus: func(s MirrorStatus) {
		mu.Lock()
		statuses = append(statuses, s)
		mu.Unlock()
	}})
	defer m.Stop()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the recorder: 1 kB every 10 ms
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			sp.appendTo("tracks/t1-ada.opus", bytes.Repeat([]byte{byte(i)}, 1000))
			sp.manifest(fmt.Sprintf(`{"n":%d}`, i))
		}
	}()
	time.Sleep(200 * time.Millisecond)
	st.setDown(true)
	time.Sleep(1500 * time.Millisecond) // past the first backoff (1 s)
	if s := m.Status(); !s.Behind || s.Pending == 0 || !errors.Is(s.Err, objstore.ErrUnreachable) {
		t.Errorf("status while the store is down: %+v", s)
	}
	st.setDown(false)
	time.Sleep(1200 * time.Millisecond)
	close(stop)
	wg.Wait()
	if err := m.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(statuses) != 2 || !statuses[0].Behind || statuses[1].Behind || statuses[1].Since.IsZero() {
		t.Fatalf("statuses %+v: want one behind, then one caught up", statuses)
	}
	if j := joined(t, st, dst, "tracks/t1-ada.opus"); !bytes.Equal(j, sp.all["tracks/t1-ada.opus"]) {
		t.Errorf("joined %d bytes, the spool holds %d", len(j), len(sp.all["tracks/t1-ada.opus"]))
	}
}

// TestMirrorFinish: Finish uploads the finished session as Push does (manifest last) and deletes
// the pieces; a finish whose manifest went up though its answer was lost counts as done.
func TestMirrorFinish(t *testing.T) {
	st := newMemStore()
	dir := demoCopy(t)
	m := StartMirror(st, dir, dst, MirrorOptions{Interval: time.Hour})
	if err := m.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	before := len(st.putLog())
	rep, err := m.Finish(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	puts := st.putLog()[before:]
	if puts[len(puts)-1] != "shows/ep1/manifest.json" || rep.Files != len(puts) {
		t.Errorf("finish put %q (report %+v): want every file, the manifest last", puts, rep)
	}
	for k := range st.objs {
		if strings.Contains(k, "/.live/") {
			t.Errorf("left a piece: %s", k)
		}
	}
	// Again, as after a lost answer: the manifest there is the folder's.
	if _, err := PushRetry(context.Background(), st, dir, dst, Options{}); err != nil {
		t.Errorf("PushRetry of a session already up: %v", err)
	}
}

// TestPushRetryWaitsForTheStore: a store down when the recording ends is retried until it is
// back; one that stays down past the deadline gives its error.
func TestPushRetryWaitsForTheStore(t *testing.T) {
	st := newMemStore()
	dir := demoCopy(t)
	st.setDown(true)
	go func() { time.Sleep(1500 * time.Millisecond); st.setDown(false) }()
	if _, err := PushRetry(context.Background(), st, dir, dst, Options{}); err != nil {
		t.Fatalf("PushRetry across an outage: %v", err)
	}
	st2 := newMemStore()
	st2.setDown(true)
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	if _, err := PushRetry(ctx, st2, dir, dst, Options{}); !errors.Is(err, objstore.ErrUnreachable) {
		t.Fatalf("PushRetry to a store that stays down: %v", err)
	}
}

func demoCopy(t *testing.T) string {
	t.Helper()
	dir := testutil.DemoSession(t)
	if err := session.Seal(dir, nil); err != nil {
		t.Fatal(err)
	}
	return dir
}

// unfinishedDemo is the demo session as a dead recorder leaves it: not finalized, not sealed.
func unfinishedDemo(t *testing.T) string {
	t.Helper()
	dir := testutil.DemoSession(t)
	s, err := session.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Manifest.Finalized = false
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// finalize stands for recovering: it marks the session finalized and seals it.
func finalize(dir string) error {
	s, err := session.Open(dir)
	if err != nil {
		return err
	}
	s.Manifest.Finalized = true
	if err := s.Save(); err != nil {
		return err
	}
	return session.Seal(dir, nil)
}

// TestRecoverLive: a session whose recorder died is made from the pieces in the bucket when its
// spool is gone (every file byte for byte, a missing piece cutting its file there), or from the
// spool when that is there; the finished session goes up, the pieces and the spool go; a second
// recover finds it finished; a spool of another session is refused.
func TestRecoverLive(t *testing.T) {
	ctx := context.Background()
	mirror := func(t *testing.T, st *memStore, dir string) {
		m := StartMirror(st, dir, dst, MirrorOptions{Interval: time.Hour, MaxPiece: 4096})
		defer m.Stop()
		if err := m.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	finalPuts := func(st *memStore) map[string][]byte {
		out := map[string][]byte{}
		for k, b := range st.objs {
			if strings.Contains(k, "/.live/") {
				out[k] = nil
				continue
			}
			out[strings.TrimPrefix(k, "shows/ep1/")] = b
		}
		return out
	}
	t.Run("from the pieces, the spool gone", func(t *testing.T) {
		st, dir := newMemStore(), unfinishedDemo(t)
		mirror(t, st, dir)
		want, _ := os.ReadFile(filepath.Join(dir, "tracks", "ada-1.opus"))
		rep, err := RecoverLive(ctx, st, dst, RecoverOptions{Spool: filepath.Join(t.TempDir(), "gone"), Finalize: finalize})
		if err != nil {
			t.Fatal(err)
		}
		got := finalPuts(st)
		for k := range got {
			if strings.Contains(k, "/.live/") {
				t.Errorf("a piece is left: %s", k)
			}
		}
		if rep.From != "pieces" || rep.Pieces == 0 || len(rep.Holes) != 0 || got[session.ManifestName] == nil || !bytes.Equal(got["tracks/ada-1.opus"], want) {
			t.Errorf("report %+v; ada's track %d bytes, want %d", rep, len(got["tracks/ada-1.opus"]), len(want))
		}
		if rep, err := RecoverLive(ctx, st, dst, RecoverOptions{Finalize: finalize}); err != nil || !rep.Finished {
			t.Errorf("a second recover: %+v, %v; want finished", rep, err)
		}
	})
	t.Run("a missing piece cuts its file there", func(t *testing.T) {
		st, dir := newMemStore(), unfinishedDemo(t)
		mirror(t, st, dir)
		delete(st.objs, "shows/ep1/.live/tracks/ada-1.opus/000000004096-000000008192")
		full, _ := os.ReadFile(filepath.Join(dir, "tracks", "ada-1.opus"))
		rep, err := RecoverLive(ctx, st, dst, RecoverOptions{Finalize: finalize})
		if err != nil {
			t.Fatal(err)
		}
		got := finalPuts(st)["tracks/ada-1.opus"]
		if len(rep.Holes) != 1 || rep.Holes[0].From != 4096 || !bytes.Equal(got, full[:4096]) {
			t.Errorf("holes %+v; ada's track %d bytes, want the first 4096", rep.Holes, len(got))
		}
	})
	t.Run("from the spool, which holds more", func(t *testing.T) {
		st, dir := newMemStore(), unfinishedDemo(t)
		mirror(t, st, dir)
		f, _ := os.OpenFile(filepath.Join(dir, "tracks", "ada-1.opus"), os.O_WRONLY|os.O_APPEND, 0)
		f.Write([]byte("the last second"))
		f.Close()
		want, _ := os.ReadFile(filepath.Join(dir, "tracks", "ada-1.opus"))
		rep, err := RecoverLive(ctx, st, dst, RecoverOptions{Spool: dir, Finalize: finalize})
		if err != nil {
			t.Fatal(err)
		}
		if rep.From != "spool" || !bytes.Equal(finalPuts(st)["tracks/ada-1.opus"], want) {
			t.Errorf("report %+v: want the spool's bytes", rep)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("the spool is still there: %v", err)
		}
	})
	t.Run("a live manifest changed a moment ago may be a running recorder's", func(t *testing.T) {
		st, dir := newMemStore(), unfinishedDemo(t)
		mirror(t, st, dir) // the fake store's objects carry the zero time as their last change
		_, err := RecoverLive(ctx, st, dst, RecoverOptions{Finalize: finalize, Now: func() time.Time { return time.Time{}.Add(3 * time.Second) }})
		var re *RecordingError
		if !errors.As(err, &re) || re.Age != 3*time.Second || !errors.Is(err, ErrRecording) {
			t.Errorf("RecoverLive 3 s after the live manifest changed: %v, want a RecordingError", err)
		}
		if _, ok := st.objs["shows/ep1/manifest.json"]; ok {
			t.Error("it uploaded a session")
		}
	})
	t.Run("a spool of another session is refused", func(t *testing.T) {
		st, dir := newMemStore(), unfinishedDemo(t)
		mirror(t, st, dir)
		other := unfinishedDemo(t)
		s, _ := session.Open(other)
		s.Manifest.ID = "another"
		s.Save()
		_, err := RecoverLive(ctx, st, dst, RecoverOptions{Spool: other, Finalize: finalize})
		var se *SpoolError
		if !errors.As(err, &se) {
			t.Errorf("RecoverLive with another session's spool: %v", err)
		}
	})
}
