package capture

import "errors"

// ErrUnrecoverable is returned by Recover for a track file that holds bytes but not one whole
// Ogg page (nothing in it can be kept, and it is not the torn first page a crash leaves), or
// whose damaged OpusHead cannot be made again.
var ErrUnrecoverable = errors.New("the track file cannot be recovered")

// ErrExists says the session folder already holds files.
var ErrExists = errors.New("session folder exists and is not empty")

// ErrPolicy says the consent policy is not one the recorder knows.
var ErrPolicy = errors.New("unknown consent policy")
