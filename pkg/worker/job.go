package worker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spacecast/spacecast/pkg/capture"
	"github.com/spacecast/spacecast/pkg/fleet"
	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/record"
	"github.com/spacecast/spacecast/pkg/room"
	"github.com/spacecast/spacecast/pkg/room/protocols"
	"github.com/spacecast/spacecast/pkg/session"
	"github.com/spacecast/spacecast/pkg/sessionstore"
)

// Continuation is the place of part n (2, 3…) of the session at u: u's name with "-partN"
// (session.PartName). Part 1 is u itself.
func Continuation(u objstore.URL, n int) objstore.URL {
	u.Prefix = session.PartName(strings.TrimSuffix(u.Prefix, "/"), n)
	return u
}

// Place chooses where a claim of a job records: the first free place among the parts from, from+1…
// of the session at u (part 1 is u). A claim passes how many times the job was taken
// (Taken.Times), so that every claim records into a part of its own: the n-th claim never writes
// where an earlier one may still write (a worker cut off from NATS finishing its part, uploads
// retried), and a part a claim left empty (it wrote nothing) stays missing. A place that holds a
// session or a live one is not free; any other answer of the store is an error.
func Place(ctx context.Context, st sessionstore.Store, u objstore.URL, from int) (objstore.URL, int, error) {
	for n := max(1, from); n <= session.MaxParts; n++ {
		p := Continuation(u, n)
		err := sessionstore.CheckFree(ctx, st, p)
		if err == nil {
			return p, n, nil
		}
		if !errors.Is(err, sessionstore.ErrLive) && !errors.Is(err, sessionstore.ErrExists) {
			return objstore.URL{}, 0, err
		}
	}
	return objstore.URL{}, 0, fmt.Errorf("%s: %w (%d parts)", u, ErrNoPlace, session.MaxParts)
}

// RecordOptions is the recording a record job asks for, its secrets read where the job says, into
// dir (the spool) and uploaded as up says (fleet.SecretRef.Resolve reads each secret). base gives what the job does not carry: the dial's
// network options and the recorder's identity.
func RecordOptions(j *fleet.RecordJob, base record.Options, dir string, up *record.Upload) (record.Options, error) {
	o := base
	secret := func(field string, ref fleet.SecretRef) (string, error) {
		if ref == "" {
			return "", nil
		}
		v, err := ref.Resolve()
		if err != nil {
			return "", &SecretError{Field: field, Ref: string(ref), Err: err}
		}
		return v, nil
	}
	var err error
	d := &o.Dial
	if d.APISecret, err = secret("api_secret", j.APISecret); err != nil {
		return record.Options{}, err
	}
	if d.Token, err = secret("token", j.Token); err != nil {
		return record.Options{}, err
	}
	if d.JanusAPISecret, err = secret("janus_api_secret", j.JanusAPISecret); err != nil {
		return record.Options{}, err
	}
	if d.PIN, err = secret("pin", j.PIN); err != nil {
		return record.Options{}, err
	}
	key, err := secret("sign_key", j.SignKey)
	if err != nil {
		return record.Options{}, err
	}
	if key != "" {
		if o.SignKey, err = session.ParsePrivateKey([]byte(key)); err != nil {
			return record.Options{}, &SecretError{Field: "sign_key", Ref: string(j.SignKey), Err: err}
		}
	}
	if d.Identity.Identity == "" {
		d.Identity = room.DefaultIdentity
	}
	d.Room, d.APIKey, d.JanusPlugin = j.Room, j.APIKey, j.JanusPlugin
	d.Wait = time.Duration(j.Wait)
	o.URL, o.Protocol, o.RoomName = j.URL, protocols.Protocol(j.Protocol), j.Name
	o.Consent = session.Consent{Policy: j.Consent, Allow: j.Allow, Exclude: j.Exclude}
	o.Announce = j.Consent != capture.PolicyAssume
	o.Retain, o.Duration, o.StopWhenEmpty = time.Duration(j.Retain), time.Duration(j.Duration), time.Duration(j.StopWhenEmpty)
	o.Dir, o.Upload = dir, up
	return o, nil
}
