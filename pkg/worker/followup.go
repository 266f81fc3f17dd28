package worker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spacecast/spacecast/internal/fsutil"
	"github.com/spacecast/spacecast/pkg/bucketlock"
	"github.com/spacecast/spacecast/pkg/fleet"
	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/sessionstore"
	"github.com/spacecast/spacecast/pkg/site"
	"github.com/spacecast/spacecast/pkg/sitestore"
	"github.com/spacecast/spacecast/pkg/studio"
)

// FollowupQueue hands out follow-up jobs and queues them (QueueSource is one).
type FollowupQueue interface {
	TakeFollowup(ctx context.Context, worker string) (*Taken, error)
	Enqueue(ctx context.Context, f fleet.FollowupJob) (fleet.JobID, bool, error)
}

var _ FollowupQueue = QueueSource{}

// TakeFollowup takes a follow-up job from the queue.
func (s QueueSource) TakeFollowup(ctx context.Context, worker string) (*Taken, error) {
	c, err := s.Q.TakeFollowup(ctx, worker)
	if err != nil {
		return nil, err
	}
	return &Taken{Job: c.Job, Number: c.Number, Times: c.Taken(), Claim: c}, nil
}

// Enqueue queues a follow-up job once (fleet.Queue.Enqueue).
func (s QueueSource) Enqueue(ctx context.Context, f fleet.FollowupJob) (fleet.JobID, bool, error) {
	return s.Q.Enqueue(ctx, f)
}

// Bucket is what a follow-up needs of a bucket: read a session, upload a mix, read and write a
// site's folder, push a site, hold a lock (*objstore.Client is one).
type Bucket interface {
	sitestore.Store
}

var _ Bucket = (*objstore.Client)(nil)

// FollowupOptions configure the follow-up jobs of a worker.
type FollowupOptions struct {
	// Queue hands out follow-up jobs and queues those of the record jobs the worker finishes;
	// nil: the worker neither runs nor queues follow-ups (a record job asking for some is still
	// done, with a warning).
	Queue FollowupQueue
	// Max is how many follow-ups the worker runs at once (0: it takes none, but still queues
	// those of its record jobs). They do not count against MaxRooms and MaxSpeakers.
	Max int
	// Bucket opens the bucket a follow-up reads or writes (the session's, the mix's, the site's).
	Bucket func(ctx context.Context, bucket string) (Bucket, error)
	// LockWait bounds the wait for a site's publish lock (default 10 minutes).
	LockWait time.Duration
}

// publishLockName is the object, in a site's folder in a bucket, that publishing follow-ups
// take turns through.
const publishLockName = ".spacecast-publish.lock"

// enqueueFollowup queues the follow-up of a record job done with its session at sessionURL, once,
// before the job is marked done; joined says the session is one sealed session (not parts left
// unjoined). It reports false when the follow-up should have been queued and was not: the record
// job is then left unfinished, and the worker that takes it over queues it.
func (w *Worker) enqueueFollowup(log *slog.Logger, t *Taken, sessionURL string, joined bool) bool {
	f := fleet.Followup(t.Job, sessionURL)
	if f == nil {
		return true
	}
	if !joined {
		log.Warn("the session is in parts, not joined: its follow-ups are not queued", "session", sessionURL)
		return true
	}
	q := w.o.Followups.Queue
	if q == nil {
		log.Warn("the job asks for follow-ups, but this worker has no queue for them", "session", sessionURL)
		return true
	}
	var err error
	for attempt := range 3 {
		var id fleet.JobID
		var created bool
		err = call(func(ctx context.Context) error {
			var err error
			id, created, err = q.Enqueue(ctx, *f)
			return err
		})
		if err == nil {
			log.Info("follow-up queued", "followup", string(id), "created", created)
			return true
		}
		var je *fleet.JobError
		if errors.As(err, &je) {
			log.Error("the job's follow-up is not one the queue takes: not queued", "err", err)
			return true
		}
		log.Warn("queue the follow-up", "attempt", attempt+1, "err", err)
		time.Sleep(time.Duration(attempt+1) * 500 * time.Millisecond)
	}
	log.Error("follow-up not queued: the job is left for another worker to finish", "err", err)
	return false
}

// startFollowups takes and runs follow-up jobs, up to Followups.Max at once, until ctx ends or
// the returned function is called, which returns once no more is taken. Each follow-up runs in
// w.wg, as recordings do: a drain waits for it, StopNow hands it back.
func (w *Worker) startFollowups(ctx context.Context) (stop func()) {
	stopped := make(chan struct{})
	fo := w.o.Followups
	if fo.Queue == nil || fo.Max <= 0 || fo.Bucket == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	slots := make(chan struct{}, fo.Max)
	go func() {
		defer close(stopped)
		for {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			t, err := fo.Queue.TakeFollowup(ctx, w.o.Name)
			if err != nil {
				<-slots
				if ctx.Err() != nil {
					return
				}
				w.o.Log.Warn("take a follow-up", "err", err)
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Second):
				}
				continue
			}
			w.wg.Add(1)
			go func() {
				defer w.wg.Done()
				defer func() { <-slots }()
				w.followup(t)
			}()
		}
	}()
	return func() { cancel(); <-stopped }
}

// followup runs one follow-up job, from its claim to Done, Fail (the queue retries it) or Release.
func (w *Worker) followup(t *Taken) {
	f := t.Job.Followup
	log := w.o.Log.With("job", string(t.Job.ID), "record_job", string(f.RecordJob), "claim", t.Number)
	log.Info("follow-up taken", "times", t.Times, "session", f.Session)
	w.m.FollowupsTaken.Inc()
	w.followupsRunning.Add(1)
	defer w.followupsRunning.Add(-1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	var result string
	var err error
	go func() {
		defer close(done)
		result, err = w.runFollowup(ctx, log, t.Job.ID, f)
	}()
	p := &progress{w: w, log: log, t: t}
	out := p.watch(done, cancel)
	if out != finished {
		<-done
	}
	switch out {
	case finished:
		if err != nil {
			log.Error("follow-up failed", "err", err)
			w.m.FollowupsFailed.Inc()
			err = call(func(ctx context.Context) error { return t.Claim.Fail(ctx, err.Error()) })
			break
		}
		log.Info("follow-up done", "result", result)
		w.m.FollowupsDone.Inc()
		err = call(func(ctx context.Context) error { return t.Claim.Done(ctx, result) })
	case cancelled:
		w.m.FollowupsDone.Inc()
		err = call(func(ctx context.Context) error { return t.Claim.Done(ctx, "") })
	case handedBack:
		log.Info("follow-up handed back")
		err = call(t.Claim.Release)
	case superseded, fenced:
		log.Warn("follow-up no longer held by this worker: stopped", "outcome", out.String())
		err = nil
	}
	if err != nil {
		log.Warn("follow-up end not recorded in the queue", "err", err)
	}
}

// runFollowup runs the steps of f in a folder of its own under the spool, removed afterwards:
// the mix, then the publish. It returns the mix's URL.
func (w *Worker) runFollowup(ctx context.Context, log *slog.Logger, id fleet.JobID, f *fleet.FollowupJob) (string, error) {
	dir := filepath.Join(w.o.Spool, ".followups", string(id))
	if err := os.RemoveAll(dir); err != nil {
		return "", fmt.Errorf("worker: follow-up folder: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("worker: follow-up folder: %w", err)
	}
	defer os.RemoveAll(dir)
	sessU, err := objstore.ParseURL(f.Session)
	if err != nil {
		return "", err
	}
	mixU := f.Mix.MixObject(sessU)
	mixFile, started, err := w.mixStep(ctx, log, id, f, sessU, mixU, dir)
	if err != nil {
		return "", &StepError{Step: "mix", URL: mixU.String(), Err: err}
	}
	if f.Publish != nil {
		if err := w.publishStep(ctx, log, f, mixFile, started, dir); err != nil {
			return "", &StepError{Step: "publish", URL: f.Publish.Site, Err: err}
		}
	}
	return mixU.String(), nil
}

// metaFollowup names, in a mix object's metadata, the follow-up job that made it: an attempt
// after one that uploaded the mix takes it as it is, so that what a site published is what it
// publishes again (its publish then changes nothing).
const metaFollowup = "spacecast-followup"

// mixStep mixes the session where it lies in its bucket (studio.Mix, mix's defaults but the
// job's loudness) into dir, and uploads the mix to mixU (one PUT: the object appears whole or
// not at all). A mix this job uploaded before is downloaded instead. It returns the local file
// and when the session started.
func (w *Worker) mixStep(ctx context.Context, log *slog.Logger, id fleet.JobID, f *fleet.FollowupJob, sessU, mixU objstore.URL, dir string) (string, time.Time, error) {
	sb, err := w.o.Followups.Bucket(ctx, sessU.Bucket)
	if err != nil {
		return "", time.Time{}, err
	}
	sess, err := sessionstore.Open(ctx, sb, sessU)
	if err != nil {
		return "", time.Time{}, err
	}
	started := sess.Manifest.StartedAt
	out := filepath.Join(dir, path.Base(mixU.Prefix))
	mb, err := w.o.Followups.Bucket(ctx, mixU.Bucket)
	if err != nil {
		return "", time.Time{}, err
	}
	if obj, err := mb.Head(ctx, mixU.Bucket, mixU.Prefix); err == nil && obj.Metadata[metaFollowup] == string(id) {
		log.Info("mix uploaded by an earlier attempt: taking it as it is", "mix", mixU.String())
		_, err := download(ctx, mb, mixU.Bucket, mixU.Prefix, out)
		return out, started, err
	} else if err != nil && !errors.Is(err, objstore.ErrNotFound) {
		return "", time.Time{}, err
	}
	opts := studio.DefaultMixOptions()
	opts.Session, opts.Output = sess, out
	opts.LoudnessLUFS, opts.TruePeakDBTP = f.Mix.LoudnessLUFS, f.Mix.TruePeakDBTP
	if f.Publish != nil {
		opts.Tag.Title = Title(f.Publish.Title, f, started)
	}
	res, err := studio.Mix(ctx, opts, nil)
	if err != nil {
		return "", time.Time{}, err
	}
	file, err := os.Open(out)
	if err != nil {
		return "", time.Time{}, err
	}
	defer file.Close()
	if _, err := mb.Put(ctx, mixU.Bucket, mixU.Prefix, file, objstore.PutOptions{
		ContentType: mixTypes[f.Mix.Format], Metadata: map[string]string{metaFollowup: string(id)},
	}); err != nil {
		return "", time.Time{}, err
	}
	log.Info("mixed", "mix", mixU.String(), "duration", res.Duration, "loudness_lufs", res.LoudnessLUFS)
	return out, started, nil
}

// mixTypes are the Content-Types of the mix formats.
var mixTypes = map[string]string{"mp3": "audio/mpeg", "opus": "audio/ogg", "wav": "audio/wav"}

// Title is an episode's title from a follow-up's template: {room} the room's name, {date} the
// UTC date the session started, {session} the session's name.
func Title(tmpl string, f *fleet.FollowupJob, started time.Time) string {
	u, _ := objstore.ParseURL(f.Session)
	return strings.NewReplacer("{room}", f.Room, "{date}", started.UTC().Format("2006-01-02"),
		"{session}", path.Base(u.Prefix)).Replace(tmpl)
}

// publishStep publishes the mix into the site kept in a bucket, under the site's publish lock
// (a lease object in its folder: two follow-ups publishing into one site take turns): it
// downloads the site's folder into dir, publishes (site.Publish, as 'spacecast publish' does),
// uploads what changed back (the episode's files first, episodes.json, feed.xml and index.html
// last), then pushes the site where it is served (sitestore.Push, as 'spacecast site push' does).
func (w *Worker) publishStep(ctx context.Context, log *slog.Logger, f *fleet.FollowupJob, mixFile string, started time.Time, dir string) error {
	p := f.Publish
	siteU, err := objstore.ParseURL(p.Site)
	if err != nil {
		return err
	}
	b, err := w.o.Followups.Bucket(ctx, siteU.Bucket)
	if err != nil {
		return err
	}
	wait := w.o.Followups.LockWait
	if wait <= 0 {
		wait = 10 * time.Minute
	}
	lock, err := bucketlock.Acquire(ctx, b, siteU.Bucket, siteU.Key(publishLockName), bucketlock.Options{
		Format: "spacecast-publish-lock", Who: "publish", TTL: time.Minute, Wait: wait,
		DeadLocal: true, Unconditional: bucketlock.Warn,
		OnWait: func(h bucketlock.Holder) { log.Info("waiting for the site's publish lock", "holder", h.String()) },
	})
	if err != nil {
		return err
	}
	defer func() { _ = lock.Release(context.WithoutCancel(ctx)) }()
	folder := filepath.Join(dir, "site")
	got, err := downloadSite(ctx, b, siteU, folder)
	if err != nil {
		return err
	}
	if _, ok := got["podcast.yaml"]; !ok {
		return &NoSiteError{Site: siteU.String()}
	}
	in := site.EpisodeInput{Audio: mixFile, Title: Title(p.Title, f, started)}
	res, err := site.Publish(ctx, folder, in, site.Options{})
	if err != nil {
		return err
	}
	if err := lock.Check(); err != nil {
		return err
	}
	if err := uploadSite(ctx, b, siteU, folder, got); err != nil {
		return err
	}
	log.Info("episode published", "site", siteU.String(), "status", res.Status, "title", in.Title)
	push := p.Push
	if push == "" {
		show, err := site.LoadShow(folder)
		if err != nil {
			return err
		}
		push = show.Push
	}
	if push == "" {
		return nil
	}
	pushU, err := objstore.ParseURL(push)
	if err != nil {
		return err
	}
	pb, err := w.o.Followups.Bucket(ctx, pushU.Bucket)
	if err != nil {
		return err
	}
	rep, err := sitestore.Push(ctx, pb, folder, pushU, sitestore.Options{})
	if err != nil {
		return err
	}
	log.Info("site pushed", "to", pushU.String(), "uploaded", len(rep.Uploaded), "bytes", rep.UploadedBytes)
	return nil
}

// hidden reports whether a path in a site's folder is a dot file or below a dot folder (locks,
// push records, staging): never part of the site's folder in a bucket.
func hidden(rel string) bool {
	return slices.ContainsFunc(strings.Split(rel, "/"), func(s string) bool { return strings.HasPrefix(s, ".") })
}

// maxSiteObjects bounds the objects of a site's folder a follow-up downloads.
const maxSiteObjects = 100_000

// downloadSite copies the site's folder at u into dir, but for hidden objects, and returns the
// SHA-256 of each object by its path in the site.
func downloadSite(ctx context.Context, b Bucket, u objstore.URL, dir string) (map[string]string, error) {
	got := map[string]string{}
	for o, err := range b.List(ctx, u.Bucket, u.Dir()) {
		if err != nil {
			return nil, err
		}
		rel := strings.TrimPrefix(o.Key, u.Dir())
		if rel == "" || strings.HasSuffix(rel, "/") || hidden(rel) {
			continue
		}
		if !fs.ValidPath(rel) {
			return nil, fmt.Errorf("worker: %s: object %q is not a path in a site", u, o.Key)
		}
		if len(got) >= maxSiteObjects {
			return nil, fmt.Errorf("worker: %s: more than %d objects: not a site's folder", u, maxSiteObjects)
		}
		p := filepath.Join(dir, filepath.FromSlash(rel))
		sum, err := download(ctx, b, u.Bucket, o.Key, p)
		if err != nil {
			return nil, err
		}
		got[rel] = sum
	}
	return got, nil
}

// uploadSite uploads the files of the site's folder dir that differ from what was downloaded
// (before: SHA-256 by path), in an order that keeps the folder in the bucket whole at every
// moment for a reader that reads the record first: new episode files first, then episodes.json,
// feed.xml and index.html.
func uploadSite(ctx context.Context, b Bucket, u objstore.URL, dir string, before map[string]string) error {
	var first, last []string
	lastOrder := []string{"episodes.json", "feed.xml", "index.html"}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if hidden(rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		sum, _, err := fsutil.SHA256File(p)
		if err != nil {
			return err
		}
		if before[rel] == sum {
			return nil
		}
		if slices.Contains(lastOrder, rel) {
			last = append(last, rel)
		} else {
			first = append(first, rel)
		}
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(last, func(a, b string) int { return slices.Index(lastOrder, a) - slices.Index(lastOrder, b) })
	for _, rel := range append(first, last...) {
		if err := upload(ctx, b, u.Bucket, u.Key(rel), filepath.Join(dir, filepath.FromSlash(rel))); err != nil {
			return err
		}
	}
	return nil
}

func upload(ctx context.Context, b Bucket, bucket, key, p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = b.Put(ctx, bucket, key, f, objstore.PutOptions{})
	return err
}

// download copies an object to the file p (fsutil.WriteAtomic: a temporary file renamed into
// place) and returns the SHA-256 of what it wrote, hashed on the way.
func download(ctx context.Context, b Bucket, bucket, key, p string) (string, error) {
	r, _, err := b.Get(ctx, bucket, key, nil)
	if err != nil {
		return "", err
	}
	defer r.Close()
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return "", err
	}
	h := sha256.New()
	err = fsutil.WriteAtomic(p, 0o600, func(w io.Writer) error {
		_, err := io.Copy(io.MultiWriter(w, h), r)
		return err
	})
	return hex.EncodeToString(h.Sum(nil)), err
}
