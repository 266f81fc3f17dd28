package opus

/*
#cgo pkg-config: opus
#include <opus.h>

// spacecast_lookahead asks libopus for an encoder's lookahead (OPUS_GET_LOOKAHEAD): the samples
// of delay the decoder's output carries, which Ogg Opus records as pre-skip (RFC 7845 §4.2).
static int spacecast_lookahead(int rate, int channels, int application, int *out) {
	int err;
	OpusEncoder *enc = opus_encoder_create(rate, channels, application, &err);
	if (err != OPUS_OK) return err;
	opus_int32 la = 0;
	err = opus_encoder_ctl(enc, OPUS_GET_LOOKAHEAD(&la));
	opus_encoder_destroy(enc);
	*out = la;
	return err;
}
*/
import "C"

import (
	"fmt"

	hopus "gopkg.in/hraban/opus.v2"
)

// lookahead returns libopus's encoder lookahead in samples at the encoder's rate. It depends only
// on rate, channels and application, so a throwaway encoder of the same kind answers for ours.
func lookahead(rate, channels int, app hopus.Application) (int, error) {
	var la C.int
	if rc := C.spacecast_lookahead(C.int(rate), C.int(channels), C.int(app), &la); rc != C.OPUS_OK {
		return 0, fmt.Errorf("opus: query lookahead: %w", hopus.Error(rc))
	}
	return int(la), nil
}
