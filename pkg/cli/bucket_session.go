package cli

import (
	"context"
	"fmt"

	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/session"
	"github.com/spacecast/spacecast/pkg/sessionstore"
)

// bucketReaders are the commands that read a session where it lies in a bucket (s3://…), streaming
// what they need (sessionstore.Open).
var bucketReaders = []string{"inspect", "mix", "clip", "trim", "verify", "export"}

// s3ReadHelp is the part of a reading command's help about a session in a bucket.
const s3ReadHelp = `A session pushed to (or recorded into) an S3-compatible bucket is read where it lies: give
s3://BUCKET/PREFIX/NAME instead of the folder. Its files are streamed from the bucket as they are
needed (nothing is copied to a temporary folder first); a place with files but no manifest.json
(a push that did not finish) and a session not finalized are refused, as 'spacecast pull' refuses
them. docs/storage.md says what each command reads and how many requests it makes.

`

// openBucketSession opens the session the s3:// argument arg names for command, after checking that
// its bucket answers to the credentials. An argument that is not an s3:// URL gives nil and no
// error: it is a local path.
func (o *s3Options) openBucketSession(ctx context.Context, command, arg string) (*session.Session, objstore.URL, error) {
	if !objstore.IsURL(arg) {
		return nil, objstore.URL{}, nil
	}
	u, err := parseS3(command, arg)
	if err != nil {
		return nil, u, err
	}
	cl, err := o.client(ctx, u.Bucket)
	if err != nil {
		return nil, u, fmt.Errorf("%s: %w", command, err)
	}
	s, err := sessionstore.Open(ctx, cl, u)
	if err != nil {
		return nil, u, fmt.Errorf("%s: %w", command, err)
	}
	return s, u, nil
}
