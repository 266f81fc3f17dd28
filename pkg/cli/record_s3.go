package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/record"
)

// defaultSpool is where a recording into the bucket place u keeps what is not uploaded yet, when
// --spool does not say: the user's cache folder, spacecast/spool/BUCKET/PREFIX/NAME, so that
// 'spacecast recover s3://…' on the same machine finds it again.
func defaultSpool(u objstore.URL) (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache folder for the spool (%w): give one with --spool DIR", err)
	}
	return filepath.Join(cache, "spacecast", "spool", u.Bucket, filepath.FromSlash(u.Prefix)), nil
}

// spoolFor is the spool of the bucket place u: --spool if given, else defaultSpool.
func spoolFor(command, spool string, u objstore.URL) (string, error) {
	if spool != "" {
		return spool, nil
	}
	d, err := defaultSpool(u)
	if err != nil {
		return "", inputErr(fmt.Errorf("%s: %w", command, err))
	}
	return d, nil
}

// prepareUpload readies 'record -o s3://…': the place parsed, the store checked (credentials,
// bucket, endpoint) and the spool chosen and checked free, all before the room is joined. The
// place itself is checked by record.Start, also before joining.
func prepareUpload(ctx context.Context, o *recordOptions) (spool string, up *record.Upload, err error) {
	u, err := parseS3("record", o.output)
	if err != nil {
		return "", nil, err
	}
	if spool, err = spoolFor("record", o.spool, u); err != nil {
		return "", nil, err
	}
	if err := checkNotInSite("record", "--spool", spool, "a raw recording"); err != nil {
		return "", nil, err
	}
	if entries, err := os.ReadDir(spool); err == nil && len(entries) > 0 {
		return "", nil, inputErr(fmt.Errorf("record: the spool %s holds files of an earlier recording of %s that did not finish: "+
			"'spacecast recover %s%s' finishes it; or give another --spool", spool, u, u, spoolFlag(o.spool)))
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", nil, inputErr(fmt.Errorf("record: --spool: %w", err))
	}
	cl, err := o.s3.client(ctx, u.Bucket)
	if err != nil {
		return "", nil, fmt.Errorf("record: %w", err)
	}
	return spool, &record.Upload{Store: cl, URL: u}, nil
}

// spoolFlag is " --spool DIR" when the spool was given, for a command to suggest.
func spoolFlag(spool string) string {
	if spool == "" {
		return ""
	}
	return " --spool " + spool
}
