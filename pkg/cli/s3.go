package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/spacecast/spacecast/pkg/objstore"
)

// s3Options are the flags of every command that reaches a bucket. Everything else (keys, region,
// profile, endpoint) comes from the environment and the AWS files, as for the aws CLI.
type s3Options struct {
	profile   string
	endpoint  string
	pathStyle bool
	cmd       *cobra.Command // to tell a --path-style given from the default
}

func (o *s3Options) addFlags(cmd *cobra.Command) {
	o.cmd = cmd
	cmd.Flags().StringVar(&o.profile, "profile", "", "AWS profile of ~/.aws/config and ~/.aws/credentials (default: AWS_PROFILE, or default)")
	cmd.Flags().StringVar(&o.endpoint, "endpoint-url", "", "S3-compatible server, e.g. https://ACCOUNT.r2.cloudflarestorage.com (default: AWS_ENDPOINT_URL, the profile's endpoint_url, or AWS)")
	cmd.Flags().BoolVar(&o.pathStyle, "path-style", false, "name the bucket in the path (https://HOST/BUCKET/KEY), not the host name (default: on for a custom endpoint, off for AWS)")
}

// s3Help is the part of a command's help that says where credentials and endpoints come from.
const s3Help = `Credentials, region and endpoint come the way the aws CLI takes them: AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), AWS_REGION, AWS_PROFILE or --profile with
~/.aws/config and ~/.aws/credentials (static keys, SSO, assume-role, credential_process), and
AWS_ENDPOINT_URL or --endpoint-url for an S3-compatible server (R2, MinIO, Ceph, GCS), which is
addressed path-style unless --path-style=false. Credentials never appear in output or errors;
never put them in the URL. docs/storage.md says what each kind of bucket guarantees.`

// parseS3 parses a command's s3:// argument; a bad one is a usage error.
func parseS3(command, arg string) (objstore.URL, error) {
	u, err := objstore.ParseURL(arg)
	if err != nil {
		return objstore.URL{}, &exitError{code: ExitUsage, err: fmt.Errorf("%s: %w", command, err)}
	}
	if u.Prefix == "" {
		return objstore.URL{}, usageErr("%s: %s names a whole bucket: give the session's place in it, s3://%s/PREFIX/NAME", command, u, u.Bucket)
	}
	return u, nil
}

// client opens the store and checks that bucket answers to these credentials, before any work.
func (o *s3Options) client(ctx context.Context, bucket string) (*objstore.Client, error) {
	c := objstore.Config{Profile: o.profile, Endpoint: o.endpoint}
	if o.cmd != nil && o.cmd.Flags().Changed("path-style") {
		c.Addressing = objstore.AddressVirtual
		if o.pathStyle {
			c.Addressing = objstore.AddressPath
		}
	}
	cl, err := objstore.New(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := cl.Check(ctx, bucket); err != nil {
		return nil, err
	}
	return cl, nil
}
