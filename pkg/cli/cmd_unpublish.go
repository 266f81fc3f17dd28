package cli

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/spacecast/spacecast/pkg/site"
)

type unpublishOptions struct {
	lockTimeout time.Duration
	push        sitePushFlags
}

func newUnpublishCommand(g *globalOptions) *cobra.Command {
	o := &unpublishOptions{}
	cmd := &cobra.Command{
		Use:   "unpublish SITE SLUG",
		Short: "Take an episode out of a site's feed and page and delete its files",
		Long: `Unpublish takes the episode SLUG out of SITE/feed.xml and SITE/index.html and deletes its
audio, chapters and transcript from SITE/episodes/. Its record stays in SITE/episodes.json as a
tombstone: its slug and GUID are never used again, so podcast apps never mistake a later episode
for it. Podcast apps drop the episode at their next refresh; copies listeners downloaded stay.

Like publish, it takes the site's lock and renames the new feed and page into place before the
files are deleted. Unpublishing an episode that is already unpublished changes nothing.

--push s3://BUCKET[/PREFIX] (or a push: line in podcast.yaml) uploads the site afterwards, as
'spacecast site push' does: the new feed and page go up, then the episode's objects are deleted
from the bucket. --no-push skips podcast.yaml's target once.

` + s3Help,
		Example: `  spacecast unpublish site/ keeping-live-rooms
  spacecast unpublish site/ keeping-live-rooms --json
  spacecast unpublish site/ keeping-live-rooms --push s3://podcast.example.com`,
		Args: exactArgs("unpublish", 2, "SITE and SLUG"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !site.ValidSlug(args[1]) {
				return usageErr("unpublish: %q is not a slug: give SITE and the SLUG of a published episode (see episodes.json or the page)", args[1])
			}
			if err := checkOutput("unpublish", "SITE", args[0]); err != nil {
				return err
			}
			pusher, err := o.push.open(cmd, "unpublish", args[0])
			if err != nil {
				return err
			}
			res, err := site.Unpublish(cmd.Context(), args[0], args[1], siteOptions(g, "unpublish", o.lockTimeout))
			if err != nil {
				return siteErr("unpublish", err)
			}
			return pusher.finish(g, res)
		},
	}
	cmd.Flags().DurationVar(&o.lockTimeout, "lock-timeout", site.DefaultLockTimeout, "how long to wait for another run's lock on SITE")
	o.push.addFlags(cmd, "unpublishing")
	return cmd
}
