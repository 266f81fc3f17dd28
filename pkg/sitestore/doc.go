// Package sitestore uploads a podcast site folder (pkg/site) to an S3-compatible bucket served as
// a static site, in an order that never lets a listener fetch a feed or page naming a file that
// is not there yet: audio, artwork and the page's assets first, then chapters and transcripts,
// then feed.xml, then index.html; objects of episodes no longer in the site are deleted only
// after the new feed and page are up, and only if the feed and page in the bucket no longer name
// them.
//
// An object whose content (SHA-256, stored with it as x-amz-meta-sha256 and checked by the store
// on upload through x-amz-checksum-sha256) and headers are already right is not uploaded again.
// What a push left in the bucket is recorded in a state object (.spacecast-push.json under the
// prefix) with each object's ETag, so a push of an unchanged site costs one listing and one read;
// an object the state does not vouch for (its ETag differs) is asked about with a HEAD.
//
// Two pushes to one place take turns through a lease object (.spacecast-push.lock) created with
// a conditional write (If-None-Match: *) and renewed with If-Match; a lease not renewed for its
// length, or held by a dead process of the same machine, is taken over. Deletions are also
// checked against the feed and page read back from the bucket, which protects a bucket whose
// store ignores conditional writes.
package sitestore
