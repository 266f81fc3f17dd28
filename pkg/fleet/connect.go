package fleet

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// PingEvery is how often a connection asks the server whether it is still there. A link that
// died without a word (a cable, a network partition: no TCP reset) is noticed on the third
// unanswered ping, 4 to 6 s after it died, so Queue.Connected (a worker's /healthz) turns false
// about when the worker's fence stops its recordings; nats.go's own default is 2 minutes.
const PingEvery = 2 * time.Second

// maxPingsOut is how many pings may go unanswered before the connection is taken for dead.
const maxPingsOut = 2

// Connect connects to NATS at url (credentials from the creds file, if one is named: a NATS
// .creds file with a user JWT and nkey seed, read by nats.go and never shown) and opens the queue. A URL may hold a user and password or a token; errors never show them.
// The connection reconnects for ever once made; Close ends it. name is the client's name on the
// server ("spacecast submit", a worker's name).
func Connect(ctx context.Context, rawURL, creds, name string) (*Queue, error) {
	opts := []nats.Option{nats.Name(name), nats.Timeout(5 * time.Second), nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.PingInterval(PingEvery), nats.MaxPingsOutstanding(maxPingsOut)}
	if creds != "" {
		opts = append(opts, nats.UserCredentials(creds))
	}
	nc, err := nats.Connect(rawURL, opts...)
	if err != nil {
		return nil, wrapNATS("connect to "+redactURL(rawURL), err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, wrapNATS("connect to "+redactURL(rawURL), err)
	}
	q, err := Open(ctx, js)
	if err != nil {
		nc.Close()
		return nil, err
	}
	q.nc = nc
	return q, nil
}

// Close closes the connection Connect made (nothing for a queue from Open).
func (q *Queue) Close() {
	if q.nc != nil {
		q.nc.Close()
	}
}

// redactURL is a NATS URL list without passwords or tokens, to name it in errors.
func redactURL(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		if u, err := url.Parse(strings.TrimSpace(p)); err == nil && u.User != nil {
			u.User = url.User("REDACTED")
			parts[i] = u.String()
		}
	}
	return strings.Join(parts, ",")
}
