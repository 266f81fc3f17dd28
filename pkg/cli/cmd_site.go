package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/site"
	"github.com/spacecast/spacecast/pkg/sitestore"
)

func newSiteCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "site push SITE s3://BUCKET[/PREFIX]",
		Short: "Upload a podcast site folder to an S3-compatible bucket, safely",
		Long: `A site folder (made by 'spacecast feed init', filled by 'spacecast publish') is uploaded to a
bucket served as a static site:

  site push SITE s3://BUCKET[/PREFIX]   upload what changed: audio first, feed and page last

docs/storage.md ("Sites") says what the bucket holds at every moment of a push.`,
		Example: `  spacecast site push site/ s3://podcast.example.com
  spacecast site push site/ s3://www-bucket/podcast --dry-run`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErr("site: give a subcommand: push (see 'spacecast site --help')")
			}
			return usageErr("site: unknown subcommand %q (use push)", args[0])
		},
		RunE: func(*cobra.Command, []string) error { return nil },
	}
	cmd.AddCommand(newSitePushCommand(g))
	return cmd
}

type sitePushOptions struct {
	s3          s3Options
	dryRun      bool
	lockTimeout time.Duration
}

func newSitePushCommand(g *globalOptions) *cobra.Command {
	o := &sitePushOptions{}
	cmd := &cobra.Command{
		Use:   "push SITE s3://BUCKET[/PREFIX]",
		Short: "Upload a site folder to a bucket: audio first, feed and page last, unchanged files skipped",
		Long: `Push uploads the files a web host serves from the site folder SITE — feed.xml, index.html and
its assets, the artwork, and the audio, chapters and transcript of every published episode —
under s3://BUCKET/PREFIX/, the place the show's base_url serves. Never podcast.yaml, episodes.json
(it names unpublished episodes), dot files, or anything else in the folder.

The order keeps the bucket consistent for listeners at every moment: audio, artwork and assets
first, then chapters and transcripts, then feed.xml, then index.html, each round complete before
the next. Objects of episodes the site no longer has (unpublished, or files an update replaced)
are deleted after the new feed and page are up, and only if the feed and page in the bucket no
longer name them; only objects an earlier push uploaded are ever deleted. A push that stops
half-way (Ctrl-C, a network failure, kill -9) leaves the bucket serving the old site or the new
one, and the next push completes it.

An object already in the bucket with the same SHA-256 and headers is skipped: a push after one
new episode uploads that episode's files, feed.xml and index.html. Every upload carries its
SHA-256, checked by the store, and keeps it as x-amz-meta-sha256. Headers: feed.xml
application/rss+xml and index.html text/html with Cache-Control "public, max-age=60"; audio
audio/mpeg, chapters application/json+chapters, transcripts text/vtt, application/x-subrip,
application/json, text/html or text/plain, and the artwork with "public, max-age=86400" (not
immutable: an episode's file keeps its name when it is replaced); assets "public, max-age=3600".

Two pushes to one place take turns: a push holds a lock object (.spacecast-push.lock, made with
a conditional write and renewed every 20 s); another waits up to --lock-timeout, and takes over
a lock that was not renewed for a minute or whose process died on this machine. The push also
keeps .spacecast-push.json, the record of what it uploaded. --dry-run says what would be
uploaded, skipped and deleted, and changes nothing.

` + s3Help,
		Example: `  spacecast site push site/ s3://podcast.example.com
  spacecast site push site/ s3://www-bucket/podcast --dry-run
  spacecast site push site/ s3://podcast --endpoint-url https://ACCOUNT.r2.cloudflarestorage.com --json
  spacecast publish site/ episode.mp3 --title "Episode 5" --push s3://podcast.example.com`,
		Args: exactArgs("site push", 2, "SITE s3://BUCKET[/PREFIX]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			u, err := parseSiteURL("site push", args[1])
			if err != nil {
				return err
			}
			cl, err := o.s3.client(cmd.Context(), u.Bucket)
			if err != nil {
				return fmt.Errorf("site push: %w", err)
			}
			rep, err := pushSite(cmd.Context(), g, "site push", cl, args[0], u, o.dryRun, o.lockTimeout)
			if err != nil {
				return err
			}
			if g.json {
				return writeJSON(g.stdout, rep)
			}
			printSitePush(g, rep)
			return nil
		},
	}
	o.s3.addFlags(cmd)
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "say what would be uploaded, skipped and deleted; change nothing")
	cmd.Flags().DurationVar(&o.lockTimeout, "lock-timeout", sitestore.DefaultLockTimeout, "how long to wait for another push's lock on the place")
	return cmd
}

// parseSiteURL parses the s3:// place of a site; a whole bucket is one.
func parseSiteURL(command, arg string) (objstore.URL, error) {
	u, err := objstore.ParseURL(arg)
	if err != nil {
		return objstore.URL{}, &exitError{code: ExitUsage, err: fmt.Errorf("%s: %w", command, err)}
	}
	return u, nil
}

// pushSite pushes the site at dir to u, with progress on stderr and the lock's wait said there.
func pushSite(ctx context.Context, g *globalOptions, command string, cl *objstore.Client, dir string, u objstore.URL, dryRun bool, lockTimeout time.Duration) (*sitestore.Report, error) {
	prog := newProgress(g, command)
	defer prog.Finish()
	opt := sitestore.Options{DryRun: dryRun, LockTimeout: lockTimeout, Site: siteOptions(g, command, site.DefaultLockTimeout),
		OnWait: func(h sitestore.Holder) {
			fmt.Fprintf(g.stderr, "%s: waiting for %s: another push is uploading there (%s; up to %s)\n", command,
				objstore.URL{Bucket: u.Bucket, Prefix: u.Key(sitestore.LockName)}, h, lockTimeout)
		},
		OnProgress: func(p sitestore.Progress) {
			prog.Stage(fmt.Sprintf("%d/%d, %s of %s: %s", p.Done, p.Total, megabytes(p.Bytes), megabytes(p.Of), termPath(p.Path)), 0, 0)
		}}
	rep, err := sitestore.Push(ctx, cl, dir, u, opt)
	prog.Finish()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", command, err)
	}
	for _, w := range rep.Warnings {
		fmt.Fprintf(g.stderr, "%s: warning: %s\n", command, term(w))
	}
	return rep, nil
}

// printSitePush prints what a push did, object by object, then a summary line.
func printSitePush(g *globalOptions, rep *sitestore.Report) {
	verb, up, del := "pushed", "uploaded", "deleted"
	if rep.DryRun {
		verb, up, del = "would push", "would upload", "would delete"
	}
	for _, o := range rep.Uploaded {
		fmt.Fprintf(g.stdout, "%s %s (%s, %s)\n", up, termPath(o.Key), o.Reason, megabytes(o.Bytes))
	}
	for _, o := range rep.Deleted {
		fmt.Fprintf(g.stdout, "%s %s\n", del, termPath(o.Key))
	}
	for _, o := range rep.Kept {
		fmt.Fprintf(g.stdout, "kept %s: %s\n", termPath(o.Key), o.Reason)
	}
	fmt.Fprintf(g.stdout, "%s %s to %s: %s uploaded (%s), %s unchanged, %s deleted\n", verb, termPath(rep.Site), rep.URL,
		count(len(rep.Uploaded), "file"), megabytes(rep.UploadedBytes), count(len(rep.Skipped), "file"), count(len(rep.Deleted), "file"))
}

// megabytes is a size for people: "12.3 MB", or "4.1 kB" under a megabyte.
func megabytes(n int64) string {
	if n < 1e6 {
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}

// sitePushFlags are the flags of the commands that change a site and can push it after
// (publish, unpublish): --push, --no-push and the store's.
type sitePushFlags struct {
	url    string
	noPush bool
	s3     s3Options
}

func (f *sitePushFlags) addFlags(cmd *cobra.Command, after string) {
	cmd.Flags().StringVar(&f.url, "push", "", "after "+after+", upload the site to s3://BUCKET[/PREFIX] as site push does (default: podcast.yaml's push)")
	cmd.Flags().BoolVar(&f.noPush, "no-push", false, "do not upload the site to podcast.yaml's push target this time")
	f.s3.addFlags(cmd)
}

// sitePusher pushes a site after a command changed it; a nil one pushes nothing.
type sitePusher struct {
	command string
	dir     string
	target  objstore.URL
	store   *objstore.Client
	ctx     context.Context
}

// open finds where the site at dir goes — --push, else podcast.yaml's push unless --no-push —
// and checks that store before anything changes, so wrong credentials are told first. A site
// that cannot be read has no target here: the command reports what is wrong with it.
func (f *sitePushFlags) open(cmd *cobra.Command, command, dir string) (*sitePusher, error) {
	var target objstore.URL
	switch {
	case cmd.Flags().Changed("push"):
		if f.noPush {
			return nil, usageErr("%s: give --push or --no-push, not both", command)
		}
		u, err := parseSiteURL(command+": --push", f.url)
		if err != nil {
			return nil, err
		}
		target = u
	case f.noPush:
		return nil, nil
	default:
		show, err := site.LoadShow(dir)
		if err != nil || show.Push == "" {
			return nil, nil
		}
		if target, err = objstore.ParseURL(show.Push); err != nil {
			return nil, nil // podcast.yaml's push was checked when it was read
		}
	}
	store, err := f.s3.client(cmd.Context(), target.Bucket)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", command, err)
	}
	return &sitePusher{command: command, dir: dir, target: target, store: store, ctx: cmd.Context()}, nil
}

// finish pushes the site the command changed (if it goes anywhere) and prints the command's
// result with what the push did.
func (p *sitePusher) finish(g *globalOptions, res *site.Result) error {
	if p == nil {
		return printEpisodeResult(g, res)
	}
	rep, err := pushSite(p.ctx, g, p.command, p.store, p.dir, p.target, false, sitestore.DefaultLockTimeout)
	if perr := printPublished(g, res, rep); perr != nil {
		return perr
	}
	return err
}
