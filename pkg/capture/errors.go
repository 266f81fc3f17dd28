package capture

import "errors"

// ErrUnrecoverable is returned by Recover for a track file that holds bytes but not one whole
// Ogg page: nothing in it can be kept, and it is not the torn first page a crash leaves.
var ErrUnrecoverable = errors.New("no intact Ogg page in the file")
