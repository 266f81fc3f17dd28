package sitestore

import (
	"path"
	"strings"

	"github.com/spacecast/spacecast/pkg/site"
)

// Cache-Control of the objects of a site.
//
// The feed and the page change with every publish and name everything else: a minute of caching
// lets a CDN in front of the bucket answer thousands of polling podcast apps from its cache while
// a new episode still shows within a minute (and the refresh is a conditional request answered
// 304 when nothing changed). Audio, artwork, chapters and transcripts keep their names when their
// content changes (publish --update rewrites episodes/SLUG.mp3 in place, a redaction included),
// so they are never "immutable": a day bounds how long a cache serves a replaced file. The
// page's assets are linked with a ?v=CONTENT query that busts browsers' caches, but CDNs often
// ignore queries: an hour.
const (
	CacheFeed  = "public, max-age=60"
	CacheMedia = "public, max-age=86400"
	CacheAsset = "public, max-age=3600"
)

// contentType is the Content-Type the object of f is served with.
func contentType(f *site.PublicFile) string {
	switch f.Kind {
	case site.KindFeed:
		return "application/rss+xml; charset=utf-8"
	case site.KindPage:
		return "text/html; charset=utf-8"
	case site.KindAudio:
		if f.Type != "" {
			return f.Type
		}
		return "audio/mpeg"
	case site.KindChapters:
		return "application/json+chapters" // Podcasting 2.0, podcast:chapters
	case site.KindTranscript:
		if t, ok := site.TranscriptType(f.Rel); ok {
			return withCharset(t)
		}
	}
	return withCharset(byExtension(f.Rel))
}

// byExtension is the MIME type of an artwork or asset file by its extension.
func byExtension(rel string) string {
	switch strings.ToLower(path.Ext(rel)) {
	case ".png":
		return "image/png"
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".webp":
		return "image/webp"
	case ".svg":
		return "image/svg+xml"
	case ".ico":
		return "image/vnd.microsoft.icon"
	case ".css":
		return "text/css"
	case ".js", ".mjs":
		return "text/javascript"
	case ".json":
		return "application/json"
	case ".html":
		return "text/html"
	case ".txt":
		return "text/plain"
	case ".woff2":
		return "font/woff2"
	}
	return "application/octet-stream"
}

// withCharset adds "; charset=utf-8" to a text type: spacecast writes UTF-8, and a browser
// guessing otherwise shows mojibake.
func withCharset(t string) string {
	if strings.HasPrefix(t, "text/") {
		return t + "; charset=utf-8"
	}
	return t
}

// cacheControl is the Cache-Control the object of f is served with.
func cacheControl(f *site.PublicFile) string {
	switch f.Kind {
	case site.KindFeed, site.KindPage:
		return CacheFeed
	case site.KindAsset:
		return CacheAsset
	}
	return CacheMedia
}

// tier is the upload round f goes in: every round completes before the next begins, so nothing
// is ever up before what it names.
func tier(k site.Kind) int {
	switch k {
	case site.KindChapters, site.KindTranscript:
		return 1 // named by the feed and the page
	case site.KindFeed:
		return 2
	case site.KindPage:
		return 3 // names the transcripts and the feed
	}
	return 0 // audio, artwork, assets: they name nothing
}

const tiers = 4
