package cli

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/spacecast/spacecast/pkg/fleet"
)

// natsOptions are the flags of the commands that use the job queue on NATS JetStream.
type natsOptions struct {
	url     string
	creds   string
	timeout time.Duration
}

// natsHelp is the part of a NATS command's help that says where the server and its credentials
// come from.
const natsHelp = `NATS: --nats URL (or NATS_URL; default ` + nats.DefaultURL + `), a comma-separated list for a cluster; a
server with JetStream (nats-server -js). Credentials: --creds FILE (or NATS_CREDS), a NATS .creds
file with a user JWT and nkey seed; they are never printed. The job stream ` + fleet.Stream + `, its consumer
and the key-value bucket ` + fleet.Bucket + ` are created when missing (docs/fleet.md). A NATS that does not
answer within --nats-timeout is exit status 5.`

func (o *natsOptions) addFlags(cmd *cobra.Command) {
	// The environment is read when the command runs, not here: help shows no one's settings.
	cmd.Flags().StringVar(&o.url, "nats", "", "NATS server URL (default: NATS_URL, else "+nats.DefaultURL+")")
	cmd.Flags().StringVar(&o.creds, "creds", "", "NATS credentials file (default: NATS_CREDS)")
	cmd.Flags().DurationVar(&o.timeout, "nats-timeout", 10*time.Second, "give up when NATS does not answer for this long")
	cmd.MarkFlagFilename("creds", "creds")
}

// open connects to NATS and opens the job queue, within --nats-timeout; the caller closes the
// queue and calls the cancel function, which ends the context the queue's calls take.
func (o *natsOptions) open(ctx context.Context, command string) (*fleet.Queue, context.Context, context.CancelFunc, error) {
	if o.timeout <= 0 {
		return nil, nil, nil, usageErr("%s: --nats-timeout %s: give a positive duration", command, o.timeout)
	}
	url, creds := o.url, o.creds
	if url == "" {
		url = os.Getenv("NATS_URL")
	}
	if url == "" {
		url = nats.DefaultURL
	}
	if creds == "" {
		creds = os.Getenv("NATS_CREDS")
	}
	if creds != "" {
		f, err := os.Open(creds)
		if err != nil {
			return nil, nil, nil, inputErr(fmt.Errorf("%s: --creds: %w", command, err))
		}
		f.Close()
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	q, err := fleet.Connect(ctx, url, creds, "spacecast "+command)
	if err != nil {
		cancel()
		return nil, nil, nil, fmt.Errorf("%s: %w", command, err)
	}
	return q, ctx, func() { q.Close(); cancel() }, nil
}
