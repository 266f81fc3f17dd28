package record

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/testutil/s3server"
	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/room"
	"github.com/spacecast/spacecast/pkg/room/protocols"
	"github.com/spacecast/spacecast/pkg/sessionstore"
)

func storeKeys(t *testing.T, c *objstore.Client, u objstore.URL) []string {
	t.Helper()
	var keys []string
	for o, err := range c.List(context.Background(), u.Bucket, u.Dir()) {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, strings.TrimPrefix(o.Key, u.Dir()))
	}
	return keys
}

// TestUpload: a recording with Upload sends pieces while it runs and, at the end, the finished
// session (the spool removed, Result.Uploaded, an uploaded event); a place that holds a session is
// refused before the room is dialled; a store down at the end is an *UploadError after
// FinishTimeout, the spool kept, finished and sealed.
func TestUpload(t *testing.T) {
	srv := s3server.Start(t)
	srv.Setenv(t)
	c, err := objstore.New(context.Background(), objstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	u := objstore.URL{Bucket: srv.Bucket, Prefix: "shows/ep1"}

	r, ev := start(t, context.Background(), newFakeRoom("ada"), Options{Upload: &Upload{Store: c, URL: u, Interval: 200 * time.Millisecond}})
	// The recorder writes its manifest every second; a round 200 ms later sends it after the pieces.
	var live []string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if live = storeKeys(t, c, u); slices.Contains(live, ".live/manifest.json") {
			break
		}
	}
	if !slices.Contains(live, ".live/manifest.json") || !slices.ContainsFunc(live, func(k string) bool { return strings.HasPrefix(k, ".live/tracks/") }) {
		t.Errorf("while recording the bucket holds %q: want pieces and the live manifest", live)
	}
	r.Stop()
	res, err := waitFor(t, r, 30*time.Second)
	if err != nil || !res.Uploaded || res.URL != u.String() {
		t.Fatalf("Wait: %+v, %v", res, err)
	}
	if _, err := os.Stat(r.Dir()); !os.IsNotExist(err) {
		t.Errorf("the spool is still there: %v", err)
	}
	keys := storeKeys(t, c, u)
	if !slices.Contains(keys, "manifest.json") || slices.ContainsFunc(keys, func(k string) bool { return strings.HasPrefix(k, ".live/") }) {
		t.Errorf("after the end the bucket holds %q: want the session and no piece", keys)
	}
	if k := ev.kinds(); !slices.Contains(k, KindUploading) || k[len(k)-1] != KindUploaded {
		t.Errorf("events %v: want uploading, then uploaded last", k)
	}

	dialled := false
	_, err = Start(context.Background(), Options{URL: "ws://127.0.0.1:7880", Dir: t.TempDir() + "/s", Upload: &Upload{Store: c, URL: u},
		Dialer: func(context.Context, protocols.Protocol, string, protocols.DialOptions) (room.Conn, error) {
			dialled = true
			return nil, errBoom
		}})
	if !errors.Is(err, sessionstore.ErrExists) || dialled {
		t.Errorf("a recording onto a session: %v (dialled: %v), want ErrExists before dialling", err, dialled)
	}

	u2 := objstore.URL{Bucket: srv.Bucket, Prefix: "shows/ep2"}
	r, _ = start(t, context.Background(), newFakeRoom("ada"), Options{Upload: &Upload{Store: c, URL: u2, Interval: 200 * time.Millisecond, FinishTimeout: 1500 * time.Millisecond}})
	time.Sleep(500 * time.Millisecond)
	srv.Stop()
	r.Stop()
	res, err = waitFor(t, r, 30*time.Second)
	var up *UploadError
	if !errors.As(err, &up) || !up.Finished || !errors.Is(err, objstore.ErrUnreachable) || res.Uploaded {
		t.Fatalf("a store down at the end: %+v, %v; want a finished UploadError", res, err)
	}
	finalized(t, r.Dir())
}
