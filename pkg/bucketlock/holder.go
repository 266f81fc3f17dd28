package bucketlock

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"
)

// MaxBytes bounds what is read of a lock object.
const MaxBytes = 4 << 10

// Holder is what a lock object says about who holds it. The machine is named by a digest of its
// host name, not the name: the lock lies in a bucket that may be public.
type Holder struct {
	Format       string    `json:"format"`
	Owner        string    `json:"owner"` // random, one per lock taken
	HostID       string    `json:"host_id"`
	PID          int       `json:"pid"`
	Since        time.Time `json:"since"`
	Renewals     int       `json:"renewals"` // changes the object (and its ETag) at every renewal
	LeaseSeconds int       `json:"lease_seconds"`

	sameHost bool
}

func (h Holder) String() string {
	if h.PID == 0 {
		if h.Owner != "" {
			return fmt.Sprintf("held by %q", h.Owner)
		}
		return "held by an unknown holder"
	}
	where := "on another machine"
	if h.sameHost {
		where = "on this machine"
	}
	return fmt.Sprintf("held by process %d %s since %s", h.PID, where, h.Since.UTC().Format(time.RFC3339))
}

// SameHost reports whether the holder runs on this machine.
func (h Holder) SameHost() bool { return h.sameHost }

// Parse reads a lock object of the given format. An object that is not one gives ErrBadLock,
// with a Holder that has at most the owner it names (an older spacecast's lock), for messages.
func Parse(b []byte, format string) (Holder, error) {
	if len(b) > MaxBytes {
		return Holder{}, fmt.Errorf("%w: %d bytes or more, at most %d", ErrBadLock, len(b), MaxBytes)
	}
	var h Holder
	if err := json.Unmarshal(b, &h); err != nil {
		return Holder{}, fmt.Errorf("%w: %v", ErrBadLock, err)
	}
	if h.Format != format || h.Owner == "" || h.PID < 0 || h.LeaseSeconds < 0 || h.LeaseSeconds > 86400 {
		owner := h.Owner
		if len(owner) > 100 {
			owner = owner[:100]
		}
		return Holder{Owner: owner}, fmt.Errorf("%w: not a %s object", ErrBadLock, format)
	}
	h.sameHost = h.HostID == hostID()
	return h, nil
}

// hostID is a digest of this machine's host name.
var hostID = sync.OnceValue(func() string {
	name, _ := os.Hostname()
	sum := sha256.Sum256([]byte("spacecast-host:" + name))
	return hex.EncodeToString(sum[:8])
})
