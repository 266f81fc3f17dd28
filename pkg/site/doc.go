// Package site is the static podcast site a script uploads to any web host: the show's settings
// (podcast.yaml), the episode record (episodes.json), the feed (feed.xml), the page (index.html)
// and the episodes' files (episodes/), changed only under a lock and through a staging folder
// renamed into place once everything is ready.
//
// The layout of a site folder:
//
//	podcast.yaml                 the show's settings, edited by hand (pkg/feed reads it)
//	episodes.json                the episode record, written by this package; unpublished tombstones stay
//	feed.xml                     the RSS feed
//	index.html + assets          the page (page.go) and the static files it needs
//	<artwork>                    the show's artwork, as podcast.yaml names it
//	episodes/<slug>.mp3          an episode's audio
//	episodes/<slug>.chapters.json  its Podcasting 2.0 chapters
//	episodes/<slug>.<vtt|srt|json|html|txt>  its transcript
//	.spacecast.lock              the lock every writer takes (flock)
//	.spacecast-stage-*           staging folders; a crashed run's are removed by the next run
//
// Writers take the site lock only for the short read-modify-write of the record and the renames;
// expensive work (mixing a session, copying and hashing audio) happens before, in a staging
// folder with its own lock, so that a second run can tell a live staging folder from a dead one.
package site
